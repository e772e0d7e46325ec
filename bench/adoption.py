"""Adoption benchmark: `python -m bench.adoption [--events 2000000] [--people 2000] [--days 730]`.

Builds a synthetic company (2,000 licensed people with user accounts in 12 departments, some
joining during the period, 2,000,000 use events over two years: half of them in-app writes in
the audit log — deals created, moved, activities done, defects moved; plus sign-ins and settings
changes that are not use — and half imported from another system's usage log) in a temporary
SQLite file with bulk inserts, then measures in one run:
  (a) everything the usage dashboard and `crm-impl report adoption` compute for usage:
      `adoption.queries.usage.report` — the narrow use rows of both sources read (Arrow via ADBC),
      aggregated per person-day (numpy), the people, and every metric
      (summary, per department, per role, per source, the
      monthly trend, never active); target ≤ 1 s;
  (a') the metrics alone on the frames already read (`report_from_frames`);
  (b) the lower bound: the fastest read of the same event rows — an Arrow read of the columns the
      aggregate reads (adbc-driver-sqlite + pyarrow; without adbc, sqlite3 fetchall into pandas,
      and it says so); prints a/b;
and peak memory (tracemalloc during (a), and the process's ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from bench.timing import interleaved
from crm_impl.adoption import rollup
from crm_impl.adoption.queries import usage as queries
from crm_impl.adoption.vocabulary import USE_ENTITIES
from crm_impl.core.db import get_engine, upgrade

TODAY = date(2026, 11, 30)
DEPARTMENTS = 12
ROLES = ("sales_rep", "sales_manager", "analyst", "consultant")
NOT_USE = ("user", "saved_filter", "import")  # audit entries that are not use


def _iso(day0: date, seconds: np.ndarray) -> np.ndarray:
    base = np.datetime64(day0.isoformat() + "T00:00:00")
    stamps = base + seconds.astype("int64").astype("timedelta64[s]")
    return np.char.add(np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " "), ".000000")


def generate(url: str, events: int, people: int, days: int, seed: int = 1) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    first = TODAY - timedelta(days=days - 1)
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO project (name, client_name, vendor_name, description, currency, go_live_date, "
            "baseline_effort_days, baseline_cost, created_at, version) "
            f"VALUES ('Bench', '', '', '', 'PLN', '{(first + timedelta(days=90)).isoformat()}', 0, 0, "
            "'2024-01-01 00:00:00.000000', 1)"
        )
        dept = rng.integers(0, DEPARTMENTS, people)
        conn.executemany(
            "INSERT INTO person (full_name, side, department, experience_years, licensed_user, active, "
            "version) VALUES (?, 'client', ?, 0, ?, 1, 1)",
            [(f"Person {i}", f"Department {d}", int(rng.random() < 0.95)) for i, d in enumerate(dept)],
        )
        # a fifth join during the period (their accounts created then)
        joined = np.where(rng.random(people) < 0.2, rng.integers(0, days, people), 0)
        conn.executemany(
            "INSERT INTO user_account (username, display_name, password_hash, person_id, roles, locale, "
            "is_active, created_at, version) VALUES (?, ?, 'x', ?, ?, 'en', 1, ?, 1)",
            [
                (f"user{i}", f"User {i}", i + 1, f'["{ROLES[i % len(ROLES)]}"]', str(s))
                for i, s in enumerate(_iso(first, joined * 86400.0))
            ],
        )
    # each person's habit: the share of days they work in the CRM (some never)
    habit = rng.beta(1.2, 2.0, people) * (rng.random(people) > 0.08)
    weights = habit / habit.sum()
    n_app = events // 2
    n_imported = events - n_app

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        who = rng.choice(people, n, p=weights)
        day = joined[who] + (rng.random(n) * (days - joined[who])).astype(int)
        seconds = day * 86400.0 + rng.uniform(6 * 3600, 18 * 3600, n)
        return who, seconds

    who, seconds = draw(n_app)
    use = rng.random(n_app) > 0.1
    entity = np.where(use, rng.choice(USE_ENTITIES, n_app), rng.choice(NOT_USE, n_app))
    action = rng.choice(["create", "update", "move", "done"], n_app, p=[0.3, 0.4, 0.2, 0.1])
    with conn:
        conn.executemany(
            "INSERT INTO audit_entry (at, user_id, username, entity, entity_id, action) "
            "VALUES (?, ?, ?, ?, '1', ?)",
            zip(
                _iso(first, seconds).tolist(),
                (who + 1).tolist(),
                [f"user{i}" for i in who],
                entity.tolist(),
                action.tolist(),
                strict=True,
            ),
        )
        conn.execute(
            "INSERT INTO usage_import (project_id, source, file_name, imported_at, added, "
            "skipped_duplicates) VALUES (1, 'legacy', 'bench.csv', '2026-11-30 00:00:00.000000', ?, 0)",
            (n_imported,),
        )
    who, seconds = draw(n_imported)
    with conn:
        conn.executemany(
            "INSERT INTO activity_event (project_id, person_id, at, action, entity, source, import_id, "
            "fingerprint) VALUES (1, ?, ?, ?, 'deal', 'legacy', 1, ?)",
            zip(
                (who + 1).tolist(),
                _iso(first, seconds).tolist(),
                rng.choice(["create", "update"], n_imported, p=[0.3, 0.7]).tolist(),
                [f"{i:064x}" for i in range(n_imported)],
                strict=True,
            ),
        )
    conn.execute("ANALYZE")
    conn.close()
    return {"events": events, "in_app": n_app, "in_app_use": int(use.sum()), "imported": n_imported}


RAW_SQL = [
    "SELECT e.user_id, e.at, e.entity, e.action FROM audit_entry e",
    "SELECT a.person_id, a.at, a.action, a.source FROM activity_event a WHERE a.project_id = 1",
]


def arrow_reader(path: Path) -> tuple[str, Callable[[], Any]]:
    """The fastest read of the rows: Arrow tables through ADBC, else fetchall into pandas."""
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:

        def fetchall() -> list[pd.DataFrame]:
            with sqlite3.connect(path) as conn:
                out = []
                for sql in RAW_SQL:
                    cur = conn.execute(sql)
                    out.append(
                        pd.DataFrame.from_records(cur.fetchall(), columns=[d[0] for d in cur.description])
                    )
                return out

        return "sqlite3 fetchall into pandas (adbc-driver-sqlite not installed)", fetchall

    def arrow() -> list[Any]:
        with adbc.connect(str(path)) as conn, conn.cursor() as cur:
            tables = []
            for sql in RAW_SQL:
                cur.execute(sql)
                tables.append(cur.fetch_arrow_table())
            return tables

    return "Arrow tables via adbc-driver-sqlite", arrow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", help="Write the database here instead of a temporary file.")
    parser.add_argument("--existing", help="Measure a database generated before (with --keep).")
    parser.add_argument("--skip-events", action="store_true", help="Do not time the event-based report.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.existing or args.keep or f"{tmp}/bench.db")
        url = f"sqlite:///{path}"
        if not args.existing:
            upgrade(url)
            start = time.perf_counter()
            sizes = generate(url, args.events, args.people, args.days)
            print(f"generated {sizes} in {time.perf_counter() - start:.1f} s")
        engine = get_engine(url)
        with engine.begin() as conn:  # the events went in through raw SQL: the rollup from them
            start, start_cpu = time.perf_counter(), time.process_time()
            rows = rollup.rebuild(conn)
            print(
                f"usage rollup rebuilt from the events ({rows:,} rows): {time.perf_counter() - start:.1f} s "
                f"(cpu {time.process_time() - start_cpu:.1f} s; a one-off: rollup.rebuild)"
            )
        how, raw = arrow_reader(path)
        with Session(engine) as s:
            frames = queries.load(s, 1)

        def report() -> dict[str, Any]:
            with Session(engine) as s:
                return queries.report(s, 1, today=TODAY)

        def metrics_only() -> dict[str, Any]:
            return queries.report_from_frames(frames, TODAY)

        def from_events() -> dict[str, Any]:  # the computation before the rollup (the oracle)
            with Session(engine) as s:
                use = queries.events_daily(s, 1)
                return queries.report_from_frames(
                    queries.UsageFrames(frames.go_live, use, queries.people(s)), TODAY
                )

        fns = {"raw": raw, "report": report, "metrics": metrics_only}
        if not args.skip_events:
            fns["events"] = from_events
        wall, cpu, results = interleaved(fns, args.rounds)
        if "events" in results:
            assert results["events"] == results["report"], "the rollup's figures differ from the events'"
        tracemalloc.start()
        report()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = sum(t.num_rows if hasattr(t, "num_rows") else len(t) for t in results["raw"])
        print(f"(b) fastest read of the same event rows ({how}, {rows:,} rows): {wall['raw']:.3f} s")
        print(
            f"(a) usage report (Arrow read of both sources, person-day aggregate, every metric): "
            f"{wall['report']:.3f} s (target <= 1 s)   ratio a/b = {wall['report'] / wall['raw']:.2f}"
        )
        print(
            f"    CPU time of this process: (b) {cpu['raw']:.3f} s, (a) {cpu['report']:.3f} s "
            f"(ratio {cpu['report'] / cpu['raw']:.2f})"
        )
        print(
            f"(a') the metrics alone on the read frames ({len(frames.daily):,} person-day rows, "
            f"{len(frames.people):,} people): {wall['metrics']:.3f} s"
        )
        if "events" in wall:
            print(
                f"(c) the same report from the events (no rollup: every use event read and aggregated): "
                f"{wall['events']:.3f} s (cpu {cpu['events']:.3f} s); identical figures"
            )
        print(
            f"peak memory: traced by tracemalloc during (a) {peak / 2**20:.0f} MB; "
            f"process max RSS (ru_maxrss, whole run incl. generation) {rss_mb:.0f} MB"
        )
        s = results["report"]["summary"]
        print(
            f"report: licensed {s['licensed']:,} MAU {s['mau']:,} adoption rate {s['adoption_rate']:.1%} "
            f"stickiness {s['stickiness']:.1%} never active {s['never_active']:,}; "
            f"{len(results['report']['monthly'])} months"
        )


if __name__ == "__main__":
    main()
