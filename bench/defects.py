"""Defects benchmark: `python -m bench.defects [--defects 50000] [--changes 400000]`.

Builds a synthetic project (50,000 defects with 400,000 status changes: filed, confirmed,
assigned, in progress, fixed, in retest, some reopened once or twice, verified, closed; some
still open at any step, some rejected; 8 releases, 400 test runs) in a temporary SQLite file with
bulk inserts, then measures in one run:
  (a) everything the defects dashboard and `crm-impl report defects` compute:
      `defects.queries.load` (defects, every status change, releases, test runs, users as typed
      numpy arrays; the defects and changes as Arrow columns through ADBC, as the app reads them)
      and every metric (`report_from_frames`); also (a') the same with the cursor read that `load`
      falls back to without the ADBC drivers;
  (b) the lower bound: the fastest read of the same rows — an Arrow read of every column the
      frames come from (adbc-driver-sqlite + pyarrow; without adbc, the driver's fetchall into
      pandas as bench.pipeline does, and it says so); prints a/b (target ≤ 2);
  (c) the pages' read models: the first defect-list page with a filter, and "my work";
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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from bench.timing import interleaved
from crm_impl.core.db import get_engine, upgrade
from crm_impl.defects import queries
from crm_impl.defects.models import ENVIRONMENTS, PRIORITIES, SEVERITIES

PROGRAMMERS, TESTERS, CLIENT_TESTERS, PMS = 12, 8, 3, 2
RELEASES, MODULES, RUNS = 8, 24, 400
# a defect's path with k reopens; it may stop (still open, or rejected) after any step
HEAD = ["new", "confirmed", "assigned", "in_progress", "fixed", "in_retest"]
LOOP = ["reopened", "fixed", "in_retest"]
TAIL = ["verified", "closed"]
NONE = np.array(None, dtype=object)  # SQL NULL in an object array


def _iso(seconds: np.ndarray) -> np.ndarray:
    stamps = np.datetime64("2025-01-01T00:00:00") + seconds.astype("int64").astype("timedelta64[s]")
    return np.char.add(np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " "), ".000000")


def _paths(rng: np.random.Generator, n: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Per defect the status path (rows of a padded matrix) and its length; lengths sum to target."""
    reopens = rng.choice([0, 1, 2], p=[0.78, 0.17, 0.05], size=n)
    templates = [HEAD + LOOP * k + TAIL for k in range(3)]
    width = max(len(t) for t in templates)
    matrix = np.array([t + [""] * (width - len(t)) for t in templates], dtype=object)[reopens]
    full = np.array([len(t) for t in templates])[reopens]
    length = full.copy()
    stops = rng.random(n) < 0.35  # still open somewhere on the way
    length[stops] = rng.integers(1, full[stops])
    rejected = (length == 1) & (rng.random(n) < 0.5)
    matrix[rejected, 1] = "rejected"
    length[rejected] = 2
    total = int(length.sum())
    # reach exactly `target` rows: shorten or lengthen random paths within their bounds
    while total != target:
        room = length > 1 if total > target else length < full
        pick = rng.choice(np.flatnonzero(room), size=min(abs(total - target), int(room.sum())), replace=False)
        length[pick] += -1 if total > target else 1
        total = int(length.sum())
    return matrix, length


def generate(url: str, defects: int, changes: int, seed: int = 1) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    engine = get_engine(url)
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO project (name, client_name, vendor_name, description, currency, "
            "baseline_effort_days, baseline_cost, created_at, version) "
            "VALUES ('Bench', '', '', '', 'PLN', 0, 0, '2025-01-01 00:00:00.000000', 1)"
        )
        people = (
            [("programmer", "vendor")] * PROGRAMMERS
            + [("tester", "vendor")] * TESTERS
            + [("tester", "client")] * CLIENT_TESTERS
            + [("pm_vendor", "vendor")] * PMS
        )
        conn.executemany(
            "INSERT INTO person (full_name, side, department, "
            "experience_years, licensed_user, active, version) "
            "VALUES (?, ?, '', 0, 1, 1, 1)",
            [(f"Person {i}", side) for i, (_, side) in enumerate(people)],
        )
        conn.executemany(
            "INSERT INTO user_account (username, display_name, "
            "password_hash, person_id, roles, locale, is_active, "
            "created_at, version) VALUES (?, ?, 'x', ?, ?, 'en', 1, '2025-01-01 00:00:00.000000', 1)",
            [
                (f"{role}{i}", f"{role.title()} {i}", i + 1, f'["{role}"]')
                for i, (role, _) in enumerate(people)
            ],
        )
        conn.executemany(
            "INSERT INTO release (project_id, name, status, notes, created_at, version) "
            "VALUES (1, ?, 'released', '', '2025-01-01 00:00:00.000000', 1)",
            [(f"1.{i}",) for i in range(RELEASES)],
        )
    dev = np.arange(1, PROGRAMMERS + 1)
    tester = np.arange(PROGRAMMERS + 1, PROGRAMMERS + TESTERS + CLIENT_TESTERS + 1)
    pm = np.arange(PROGRAMMERS + TESTERS + CLIENT_TESTERS + 1, len(people) + 1)

    matrix, length = _paths(rng, defects, changes)
    created = np.sort(rng.uniform(0, 365 * 86400, defects))
    gaps = rng.exponential(1.5 * 86400, size=matrix.shape)
    gaps[:, 0] = 0
    at = created[:, None] + np.cumsum(gaps, axis=1)
    mask = np.arange(matrix.shape[1])[None, :] < length[:, None]
    status = matrix[np.arange(defects), length - 1]
    reporter = rng.choice(tester, defects)
    assignee = rng.choice(dev, defects)
    found = rng.integers(1, RELEASES + 1, defects)
    fixed_in = np.minimum(found + 1, RELEASES)
    last_at = at[np.arange(defects), length - 1]
    closed = np.isin(status, ["closed", "rejected"])

    change_defect = np.repeat(np.arange(1, defects + 1), length)
    to = matrix[mask]
    frm = np.where(np.arange(matrix.shape[1])[None, :] > 0, np.roll(matrix, 1, axis=1), NONE)[mask]
    by = np.select(
        [
            np.isin(to, ["in_progress", "fixed"]),
            np.isin(to, ["in_retest", "verified", "reopened"]),
            to == "new",
        ],
        [np.repeat(assignee, length), rng.choice(tester, len(to)), np.repeat(reporter, length)],
        rng.choice(pm, len(to)),
    )
    release = np.where(np.isin(to, ["fixed", "verified"]), np.repeat(fixed_in, length), 0)
    with conn:
        conn.executemany(
            "INSERT INTO defect (id, version, project_id, title, "
            "steps, expected, actual, severity, priority, "
            "module, reproducibility, environment, found_in_release_id, "
            "target_release_id, fixed_in_release_id, "
            "reporter_id, assignee_id, links, status, resolution, created_at, updated_at, closed_at) "
            "VALUES (?, 1, 1, ?, '', '', '', ?, ?, ?, 'always', ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?)",
            zip(
                range(1, defects + 1),
                (f"Defect {i}" for i in range(1, defects + 1)),
                rng.choice(SEVERITIES, defects, p=[0.03, 0.1, 0.4, 0.35, 0.12]).tolist(),
                rng.choice(PRIORITIES, defects).tolist(),
                [f"Module {m}" for m in rng.integers(0, MODULES, defects)],
                rng.choice(ENVIRONMENTS, defects, p=[0.85, 0.15]).tolist(),
                found.tolist(),
                fixed_in.tolist(),
                np.where(length >= 5, fixed_in, NONE).tolist(),
                reporter.tolist(),
                np.where(length >= 3, assignee, NONE).tolist(),
                status.tolist(),
                _iso(created).tolist(),
                _iso(last_at).tolist(),
                np.where(closed, _iso(last_at), NONE).tolist(),
                strict=True,
            ),
        )
        conn.executemany(
            "INSERT INTO defect_change (defect_id, at, by_id, from_status, to_status, release_id, comment) "
            "VALUES (?, ?, ?, ?, ?, ?, '')",
            zip(
                change_defect.tolist(),
                _iso(at[mask]).tolist(),
                by.tolist(),
                frm.tolist(),
                to.tolist(),
                np.where(release > 0, release, NONE).tolist(),
                strict=True,
            ),
        )
        conn.executemany(
            "INSERT INTO test_run (project_id, release_id, tester_id, "
            "side, environment, run_on, passed, failed, "
            "blocked, notes, created_at, version) VALUES (1, ?, ?, "
            "'vendor', 'test_data', '2025-06-01', ?, ?, ?, '', "
            "'2025-06-01 00:00:00.000000', 1)",
            zip(
                rng.integers(1, RELEASES + 1, RUNS).tolist(),
                rng.choice(tester, RUNS).tolist(),
                rng.integers(20, 200, RUNS).tolist(),
                rng.integers(0, 30, RUNS).tolist(),
                rng.integers(0, 10, RUNS).tolist(),
                strict=True,
            ),
        )
    conn.execute("ANALYZE")
    conn.close()
    engine.dispose()
    return {
        "defects": defects,
        "changes": int(length.sum()),
        "open": int(np.isin(status, queries.metrics.OPEN_STATUSES).sum()),
    }


RAW_SQL = [
    f"SELECT {', '.join(queries.RAW_DEFECT_COLUMNS)} FROM defect WHERE project_id = 1 ORDER BY id",
    "SELECT c.defect_id, c.from_status, c.to_status, c.at, c.by_id, c.release_id FROM defect_change c "
    "WHERE c.defect_id IN (SELECT id FROM defect WHERE project_id = 1) ORDER BY c.defect_id, c.at, c.id",
    "SELECT id, name, status, planned_date, released_on FROM release WHERE project_id = 1 ORDER BY id",
    "SELECT id, release_id, tester_id, side, environment, run_on, passed, failed, blocked FROM test_run "
    "WHERE project_id = 1 ORDER BY id",
    "SELECT u.id, u.display_name, u.username, p.side FROM "
    "user_account u LEFT JOIN person p ON p.id = u.person_id",
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
    parser.add_argument("--defects", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=400_000)
    parser.add_argument("--keep", help="Write the database here instead of a temporary file.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or f"{tmp}/bench.db")
        url = f"sqlite:///{path}"
        upgrade(url)
        start = time.perf_counter()
        sizes = generate(url, args.defects, args.changes)
        print(f"generated {sizes} in {time.perf_counter() - start:.1f} s")
        engine = get_engine(url)
        how, raw = arrow_reader(path)

        def dashboard() -> dict[str, Any]:
            with Session(engine) as s:
                return queries.report_from_frames(queries.load(s, 1))

        def dashboard_cursor() -> dict[str, Any]:
            with Session(engine) as s:
                return queries.report_from_frames(queries.load(s, 1, arrow=False))

        def pages() -> tuple[pd.DataFrame, pd.DataFrame]:
            with Session(engine) as s:
                listed = queries.defect_list(
                    session=s, project_id=1, status=["reopened", "assigned"], sort="severity"
                )
                return listed.head(50), queries.my_work(session=s, project_id=1, user_id=1, role="programmer")

        wall, cpu, results = interleaved(
            {"raw": raw, "dashboard": dashboard, "cursor": dashboard_cursor, "pages": pages}
        )
        tracemalloc.start()
        dashboard()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report = results["dashboard"]
        rows = sum(t.num_rows if hasattr(t, "num_rows") else len(t) for t in results["raw"])
        print(f"(b) fastest read of the same rows ({how}, {rows:,} rows): {wall['raw']:.3f} s")
        print(
            f"(a) dashboard + report (typed load of the same rows + every "
            f"defect metric): {wall['dashboard']:.3f} s"
            f"   ratio a/b = {wall['dashboard'] / wall['raw']:.2f} (target <= 2)"
        )
        print(
            f"    CPU time of this process: (b) {cpu['raw']:.3f} s, (a) {cpu['dashboard']:.3f} s "
            f"(ratio {cpu['dashboard'] / cpu['raw']:.2f})"
        )
        print(
            f"(a') the same with the cursor read (no ADBC): {wall['cursor']:.3f} s, ratio "
            f"{wall['cursor'] / wall['raw']:.2f} (CPU {cpu['cursor'] / cpu['raw']:.2f})"
        )
        listed, work = results["pages"]
        print(
            f"(c) defect list (filtered, sorted, first {len(listed)}) + my work "
            f"({len(work)} rows): {wall['pages'] * 1000:.0f} ms"
        )
        print(f"peak traced memory during (a): {peak / 2**20:.0f} MB; process max RSS: {rss_mb:.0f} MB")
        fix, reopen = report["time_to_fix_days"], report["reopen"]
        print(
            f"report: defects {report['totals']['defects']:,} open {report['totals']['open']:,} "
            f"reopen rate {reopen['rate']:.1%} time to fix median "
            f"{fix['median']:.1f} d p90 {fix['p90']:.1f} d "
            f"({fix['censored']:,} censored)"
        )


if __name__ == "__main__":
    main()
