"""Benchmark: the full data-quality scan (every rule, fuzzy duplicates included, and the scores)
over 100,000 accounts, 150,000 contacts and 300,000 deals, against the raw read of the same rows
from an Arrow IPC file (the lower bound of any scan). Target ≤ 10 s. Prints the ratio and the
peak memory (max RSS). Run: `.venv/bin/python -m bench.data_quality [--accounts N] [--deals N]`.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from bench.timing import interleaved
from crm_impl.data_quality import metrics, rules
from crm_impl.data_quality.rules import Context

STAGES = np.array(
    ["prospect", "contact_made", "needs_analysis", "offer", "negotiation", "contract", "completed", "lost"]
)
KINDS = {"contract": "won", "completed": "won", "lost": "lost"}
CITIES = np.array(["Kraków", "Warszawa", "Łódź", "Gdańsk", "Poznań", "Wrocław", "Lublin", "Katowice"])
SECTORS = np.array(["construction", "retail", "installation", "roofing", "technolgy", "industry"])
TODAY = date(2026, 6, 30)


def _names(rng: np.random.Generator, n: int, words: int) -> np.ndarray:
    syll = np.array(["bud", "max", "pol", "ex", "tech", "dom", "stal", "mar", "kom", "lux", "bet", "rol"])
    parts = [syll[rng.integers(0, len(syll), n)] for _ in range(words)]
    base = pd.Series(parts[0]).str.cat(parts[1:]).str.capitalize()
    return (base + " " + pd.Series(rng.integers(1, 10_000, n)).astype(str) + " sp. z o.o.").to_numpy()


def make(accounts: int, deals: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    created = t0 + pd.to_timedelta(rng.integers(0, 500 * 86400, accounts), unit="s")
    acc = pd.DataFrame(
        {
            "id": np.arange(1, accounts + 1),
            "name": _names(rng, accounts, 3),
            "nip": pd.Series(rng.integers(1_000_000_000, 9_999_999_999, accounts)).astype(str),
            "sector": SECTORS[rng.integers(0, len(SECTORS), accounts)],
            "city": CITIES[rng.integers(0, len(CITIES), accounts)],
            "owner_id": rng.integers(1, 200, accounts),
            "created_at": created,
        }
    )
    n_contacts = accounts * 3 // 2
    first = np.array(["Anna", "Jan", "Piotr", "Ewa", "Marek", "Zofia", "Adam", "Kasia"])
    last = np.array(["Nowak", "Kowalski", "Wiśniewska", "Zieliński", "Mazur", "Lewandowska", "Wójcik"])
    names = (
        pd.Series(first[rng.integers(0, 8, n_contacts)])
        + " "
        + pd.Series(last[rng.integers(0, 7, n_contacts)])
    )
    con = pd.DataFrame(
        {
            "id": np.arange(1, n_contacts + 1),
            "account_id": rng.integers(1, accounts + 1, n_contacts),
            "full_name": names,
            "email": (
                names.str.lower().str.replace(" ", ".")
                + pd.Series(np.arange(n_contacts)).astype(str)
                + "@firma.pl"
            ),
            "phone": "+48 " + pd.Series(rng.integers(500_000_000, 799_999_999, n_contacts)).astype(str),
            "position": "Owner",
            "owner_id": rng.integers(1, 200, n_contacts),
            "created_at": t0 + pd.to_timedelta(rng.integers(0, 500 * 86400, n_contacts), unit="s"),
        }
    )
    stage = STAGES[rng.integers(0, len(STAGES), deals)]
    touched = t0 + pd.to_timedelta(rng.integers(0, 540 * 86400, deals), unit="s")
    deal = pd.DataFrame(
        {
            "id": np.arange(1, deals + 1),
            "title": "Deal " + pd.Series(np.arange(deals)).astype(str),
            "account_id": pd.array(
                np.where(rng.random(deals) < 0.02, -1, rng.integers(1, accounts + 1, deals)), dtype="Int64"
            ),
            "contact_id": rng.integers(1, n_contacts + 1, deals),
            "owner_id": rng.integers(1, 200, deals),
            "value": np.round(rng.lognormal(9, 1.2, deals), 2),
            "currency": "PLN",
            "lost_reason": np.where(stage == "lost", "price", None),
            "stage_key": stage,
            "stage_kind": pd.Series(stage).map(KINDS).fillna("open").to_numpy(),
            "product": np.where(rng.random(deals) < 0.01, "GTXPro", "GTX Pro"),
            "created_at": touched - pd.Timedelta(days=30),
            "last_touch_at": touched,
            "stage_entered_at": touched,
            "closed_at": pd.NaT,
            "expected_close": (touched + pd.Timedelta(days=60)).tz_localize(None).astype("datetime64[s]"),
            "promised_delivery": pd.NaT,
            "actual_delivery": pd.NaT,
        }
    )
    deal["account_id"] = deal["account_id"].mask(deal["account_id"] < 0)
    return {"account": acc, "contact": con, "deal": deal}


def full_scan(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    found = rules.scan(frames, Context(today=TODAY, catalogue=("GTX Pro", "GTX Basic")))
    metrics.record_scores(found)
    metrics.group_scores(found)
    return metrics.dimension_scores(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    frames = make(args.accounts, args.deals)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, frame in frames.items():
            paths[name] = Path(tmp) / f"{name}.arrow"
            feather.write_feather(
                pa.Table.from_pandas(frame, preserve_index=False), paths[name], compression="uncompressed"
            )

        def raw() -> dict[str, pd.DataFrame]:
            return {n: feather.read_table(p).to_pandas() for n, p in paths.items()}

        def scan() -> pd.DataFrame:
            return full_scan(raw())

        wall, cpu, results = interleaved({"raw": raw, "scan": scan}, rounds=args.rounds)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    overall = results["scan"].set_index(["entity", "dimension"]).loc[("all", "overall"), "score"]
    rows = sum(len(f) for f in frames.values())
    counts = f"{args.accounts:,} accounts, {len(frames['contact']):,} contacts, {args.deals:,} deals"
    print(f"data quality: {counts} ({rows:,} rows)")
    print(f"  raw Arrow read of the same rows: {wall['raw']:.2f} s")
    verdict = "met" if wall["scan"] <= 10 else "NOT met"
    print(
        f"  full scan (read + every rule + duplicates + scores): {wall['scan']:.2f} s "
        f"(cpu {cpu['scan']:.2f} s), target <= 10 s: {verdict}"
    )

    print(f"  ratio scan / raw read: {wall['scan'] / wall['raw']:.1f}")
    print(f"  overall score {overall:.1f}; peak memory (max RSS) {rss:,.0f} MB")


if __name__ == "__main__":
    main()
