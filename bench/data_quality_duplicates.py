"""Fuzzy-duplicate micro-bench: `python -m bench.data_quality_duplicates [--accounts 100000]`.

Builds synthetic accounts (Polish-looking company names from syllables, legal forms written in
many ways, cities Zipf-distributed so one city holds about a third of all rows, 70 % with a NIP)
and contacts (three per five accounts), plants known duplicates (a legal form re-typed, case
changed, diacritics dropped, one letter changed, words swapped, the same NIP), then times
`find_duplicates` for both kinds (best of `--rounds`), prints the pairs compared against the
all-pairs count, the share of planted duplicates found, and peak memory (tracemalloc during one
run, and the process's ru_maxrss). The lower bound for this pure step is `normalise_name` over
the same names (the part no blocking can avoid); the ratio to it is printed.
"""

from __future__ import annotations

import argparse
import resource
import tracemalloc

import numpy as np
import pandas as pd

from bench.timing import interleaved
from crm_impl.data_quality import duplicates

SYLLABLES = [
    "bud", "max", "trans", "pol", "stal", "mar", "zwi", "rex", "tech", "med", "agro", "inter",
    "eko", "gaz", "lux", "kom", "net", "sys", "dom", "far", "ma", "ex", "plast", "drew", "ko",
    "żel", "łą", "kę", "śró", "bet", "ton", "mex", "lan", "pak", "fol", "chem", "auto", "mot",
]  # fmt: skip
FORMS = [
    "", " Sp. z o.o.", " sp.z.o.o.", " S.A.", " s.c.", " sp.j.", " Sp. z o.o. sp.k.",
    " spółka z ograniczoną odpowiedzialnością",
]  # fmt: skip
CITIES = [
    "Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz",
    "Lublin", "Białystok", "Katowice", "Gdynia", "Częstochowa", "Radom", "Toruń", "Rzeszów",
    "Kielce", "Gliwice", "Olsztyn", "Zabrze", "Bielsko-Biała", "Bytom", "Zielona Góra", "Rybnik",
]  # fmt: skip
FIRST = [
    "Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Agnieszka", "Łukasz", "Ewa",
]  # fmt: skip
LAST = [
    "Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
    "Woźniak", "Dąbrowski",
]  # fmt: skip


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    syl = np.array(SYLLABLES, dtype=object)
    words = syl[rng.integers(0, len(syl), (n, 3))]
    stem = words[:, 0] + words[:, 1] + np.where(rng.random(n) < 0.5, words[:, 2], "")
    second = np.where(rng.random(n) < 0.3, " " + syl[rng.integers(0, len(syl), n)], "")
    forms = np.array(FORMS, dtype=object)[rng.integers(0, len(FORMS), n)]
    return pd.Series(stem + second + forms).str.capitalize().to_numpy(dtype=object)


def _typo(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    """One letter of each name replaced (never the first two, which block)."""
    pos = (rng.integers(2, 6, len(values))).clip(max=values.str.len().to_numpy() - 1)
    chars = pd.Series(np.array(list("aeiouxyz"), dtype=object)[rng.integers(0, 8, len(values))])
    head = [s[:p] for s, p in zip(values, pos, strict=True)]
    tail = [s[p + 1 :] for s, p in zip(values, pos, strict=True)]
    return pd.Series(head, dtype=object) + chars.to_numpy() + pd.Series(tail, dtype=object)


def accounts(n: int, seed: int = 11) -> tuple[pd.DataFrame, int]:
    rng = np.random.default_rng(seed)
    base = n - n // 20
    weights = 1.0 / np.arange(1, len(CITIES) + 1) ** 1.3
    cities = np.array(CITIES, dtype=object)[rng.choice(len(CITIES), base, p=weights / weights.sum())]
    nips = pd.Series(rng.integers(10**9, 10**10 - 1, base).astype(str), dtype=object)
    nips[rng.random(base) < 0.3] = None
    frame = pd.DataFrame({"name": _names(rng, base), "nip": nips, "city": cities})
    planted = n - base
    src = frame.sample(planted, random_state=seed).reset_index(drop=True)
    how = rng.integers(0, 4, planted)
    stem = src["name"].str.replace(r" (Sp\.|sp\.|S\.A\.|s\.c\.|spółka).*$", "", regex=True)
    dup = src.copy()
    dup["name"] = np.select(
        [how == 0, how == 1, how == 2],
        [stem.str.upper(), stem + " Sp.z.o.o.", _typo(stem, rng)],
        stem.str.lower(),
    )
    dup.loc[how == 3, "city"] = dup.loc[how == 3, "city"].str.replace("ł", "l").str.replace("ó", "o")
    dup.loc[how != 1, "nip"] = None
    frame = pd.concat([frame, dup], ignore_index=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame, planted


def contacts(n: int, accounts_n: int, seed: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), n)]
    last = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    swap = rng.random(n) < 0.1
    name = np.where(swap, last + " " + first, first + " " + last)
    user = pd.Series(np.arange(n).astype(str), dtype=object)
    email = "k" + user + "@firma" + (pd.Series(rng.integers(0, 5000, n)).astype(str)) + ".pl"
    phone = pd.Series(rng.integers(500_000_000, 899_999_999, n).astype(str), dtype=object)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": name,
            "email": email.where(rng.random(n) < 0.8, None),
            "phone": phone.where(rng.random(n) < 0.6, None),
            "account_id": rng.integers(1, accounts_n + 1, n),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    acc, planted = accounts(args.accounts)
    con = contacts(args.accounts * 3 // 5, args.accounts)
    fns = {
        "lower bound: normalise_name": lambda: duplicates.normalise_name(acc["name"]),
        "find_duplicates(accounts)": lambda: duplicates.find_duplicates(acc, kind="account"),
        "find_duplicates(contacts)": lambda: duplicates.find_duplicates(con, kind="contact"),
    }
    wall, cpu, results = interleaved(fns, rounds=args.rounds)
    tracemalloc.start()
    duplicates.find_duplicates(acc, kind="account")
    duplicates.find_duplicates(con, kind="contact")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    pairs = results["find_duplicates(accounts)"]
    base = len(acc) - planted
    found = pairs[(pairs["right_id"] > base) & (pairs["left_id"] <= base)]
    low = wall["lower bound: normalise_name"]
    print(f"{len(acc):,} accounts ({planted:,} planted duplicates), {len(con):,} contacts")
    for name in fns:
        print(f"  {name:32} {wall[name]:7.3f} s wall  {cpu[name]:7.3f} s cpu  ×{wall[name] / low:5.1f}")
    hits = found["right_id"].nunique()
    print(f"  account pairs flagged: {len(pairs):,}; planted found: {hits:,} / {planted:,}")
    print(f"  contact pairs flagged: {len(results['find_duplicates(contacts)']):,}")
    every = len(acc) * (len(acc) - 1) // 2
    print(f"  all-pairs comparisons avoided: {every:,} would be needed without blocking")
    print(f"  peak memory (tracemalloc, both kinds): {peak / 2**20:.0f} MiB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
