"""Pipeline benchmark: `python -m bench.pipeline [--deals 100000] [--backend both|sqlite|postgresql]`.

Builds a synthetic company (100,000 deals, ~600,000 stage changes) with bulk inserts, in a
temporary SQLite file and (`--backend both`, the default) in a fresh PostgreSQL database (the
server of CRM_IMPL_BENCH_PG_URL or CRM_IMPL_TEST_PG_URL; skipped with a notice when unset), then
measures on each, in one run:
  (a) the dashboard page: `pipeline_data.load` (stages, deals, every stage change, budget;
      typed numpy arrays, epoch seconds and floats computed by the database) and every metric
      the dashboard draws, in one call, as the page computes it; beside it the same plus the
      CLI's pipeline report, and the forecast page (`load(changes=False)` + weighted forecast +
      model + backtest);
  (b) the limit: the fastest read of the columns the dashboard needs, in the same run: the
      loader's own queries (deals, stage changes, stages, budget) through Arrow (ADBC) straight
      into pandas, nothing else, the deals on a second connection in a second thread beside the
      rest (as the loader reads them; the drivers release the GIL); prints a/b, and beside it
      the same read on one connection (the limit before the loader read in two threads), the
      typed load alone, the same load through the DBAPI cursor and the old limit (every column
      through the DBAPI cursor);
  (c) the board query (totals per stage + capped cards) over the open deals;
and peak memory (tracemalloc during (a), and the process's ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from bench.timing import interleaved
from crm_impl.core import arrow as core_arrow
from crm_impl.core.db import UnitOfWork, dispose_engines, get_engine, upgrade
from crm_impl.core.permissions import SYSTEM
from crm_impl.pipeline.models import StageDefinition
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services.stages import ensure_default_stages

OWNERS = 40
ACCOUNTS = 20_000
MAX_STEPS = 12


def _iso(seconds: np.ndarray) -> list[str]:
    stamps = np.datetime64("2024-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    return [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(stamps, unit="s")]


def generate(url: str, deals: int, seed: int = 1) -> dict[str, int]:
    """Fill the database: owners, accounts, deals with their stage paths, a sales budget."""
    rng = np.random.default_rng(seed)
    engine = get_engine(url)
    with UnitOfWork(engine) as uow:
        ensure_default_stages(session=uow.session)
        stage = {s.key: (s.id, s.position, s.kind) for s in uow.session.exec(select(StageDefinition)).all()}
    by_pos = {pos: sid for sid, pos, kind in stage.values() if kind != "lost"}
    lost_id = stage["lost"][0]

    # stage paths: mostly forward, some skips and some steps back; completed (8) is terminal
    steps = rng.choice([1, 2, -1], p=[0.82, 0.06, 0.12], size=(deals, MAX_STEPS))
    steps[:, 0] = 1
    pos = np.clip(np.cumsum(steps, axis=1), 1, 8)
    length = rng.integers(1, MAX_STEPS + 1, size=deals)
    done = np.where((pos == 8).any(axis=1), (pos == 8).argmax(axis=1) + 1, MAX_STEPS)
    length = np.minimum(length, done)
    final = pos[np.arange(deals), length - 1]
    lost = (final < 6) & (rng.random(deals) < 0.45)
    cols = np.arange(MAX_STEPS + 1)
    mask = cols[None, :MAX_STEPS] < length[:, None]
    stage_ids = np.vectorize(by_pos.get)(pos)
    created = rng.uniform(0, 730 * 86400, size=deals)
    gaps = rng.exponential(9 * 86400, size=(deals, MAX_STEPS + 1))
    gaps[:, 0] = 0
    at = created[:, None] + np.cumsum(gaps, axis=1)
    change_deal = np.repeat(np.arange(1, deals + 1), length)
    change_to = stage_ids[mask]
    change_at = at[:, :MAX_STEPS][mask]
    lost_at = at[np.arange(deals), length][lost]
    change_deal = np.concatenate([change_deal, np.flatnonzero(lost) + 1])
    change_to = np.concatenate([change_to, np.full(lost.sum(), lost_id)])
    change_at = np.concatenate([change_at, lost_at])
    order = np.lexsort((change_at, change_deal))
    change_deal, change_to, change_at = change_deal[order], change_to[order], change_at[order]

    final_id = np.where(lost, lost_id, stage_ids[np.arange(deals), length - 1])
    last_at = np.where(lost, at[np.arange(deals), length], at[np.arange(deals), length - 1])
    won_pos = np.where(pos >= 6, cols[None, :MAX_STEPS], MAX_STEPS)
    won_pos = np.where(mask, won_pos, MAX_STEPS).min(axis=1)
    closed = np.where(
        lost, last_at, np.where(final >= 6, at[np.arange(deals), np.minimum(won_pos, MAX_STEPS)], np.nan)
    )
    value = np.round(rng.lognormal(10.3, 0.9, size=deals), -2) + 1000
    touch = last_at + np.where(rng.random(deals) < 0.5, rng.uniform(0, 20 * 86400, deals), 0)

    now_s = (datetime.now(UTC).replace(tzinfo=None) - datetime(2024, 1, 1)).total_seconds()
    created_s, last_s, touch_s = (
        _iso(created),
        _iso(np.minimum(last_at, now_s)),
        _iso(np.minimum(touch, now_s)),
    )
    closed_s = [None if np.isnan(c) else s for c, s in zip(closed, _iso(np.nan_to_num(closed)), strict=True)]
    expected = np.datetime_as_string(
        np.datetime64("2024-01-01")
        + ((created / 86400) + rng.integers(30, 150, deals)).astype("timedelta64[D]")
    )
    pg = engine.dialect.name == "postgresql"

    def sql(statement: str) -> str:  # the driver's placeholders; PostgreSQL's boolean literal
        return statement.replace("?", "%s").replace("'en', 1,", "'en', TRUE,") if pg else statement

    with engine.begin() as conn:
        conn.exec_driver_sql(
            sql(
                "INSERT INTO user_account (username, display_name, password_hash, roles, locale, is_active, "
                "created_at, version) "
                "VALUES (?, ?, 'x', '[\"sales_rep\"]', 'en', 1, '2024-01-01 00:00:00.000000', 1)"
            ),
            [(f"rep{i}", f"Rep {i}") for i in range(OWNERS)],
        )
        owner_ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM user_account ORDER BY id").fetchall()]
        conn.exec_driver_sql(
            sql(
                "INSERT INTO account (name, sector, city, owner_id, created_at, version) "
                "VALUES (?, '', '', ?, '2023-01-01 00:00:00.000000', 1)"
            ),
            [(f"Account {i}", owner_ids[i % OWNERS]) for i in range(ACCOUNTS)],
        )
        account = rng.integers(1, ACCOUNTS + 1, deals)
        owner = np.array(owner_ids)[rng.integers(0, OWNERS, deals)]
        conn.exec_driver_sql(
            sql(
                "INSERT INTO deal (id, title, account_id, value, currency, stage_id, expected_close, "
                "owner_id, lost_reason, created_at, stage_entered_at, last_touch_at, closed_at, version) "
                "VALUES (?, ?, ?, ?, 'PLN', ?, ?, ?, ?, ?, ?, ?, ?, 1)"
            ),
            [
                (
                    i + 1,
                    f"Deal {i + 1}",
                    int(account[i]),
                    float(value[i]),
                    int(final_id[i]),
                    expected[i],
                    int(owner[i]),
                    "price" if lost[i] else None,
                    created_s[i],
                    last_s[i],
                    touch_s[i],
                    closed_s[i],
                )
                for i in range(deals)
            ],
        )
        conn.exec_driver_sql(
            sql("INSERT INTO stage_change (deal_id, to_stage_id, at) VALUES (?, ?, ?)"),
            list(zip(change_deal.tolist(), change_to.tolist(), _iso(change_at), strict=True)),
        )
        conn.exec_driver_sql(
            sql("INSERT INTO sales_budget (month, amount, version) VALUES (?, ?, 1)"),
            [(f"{2024 + m // 12}-{m % 12 + 1:02d}-01", 2_000_000) for m in range(30)],
        )
    return {"deals": deals, "stage_changes": len(change_deal), "open_deals": int(((final < 6) & ~lost).sum())}


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def arrow_read(session: Session, *, parallel: bool = False) -> dict[str, object]:
    """The limit (b): the fastest read of the columns the dashboard needs (the same queries the
    loader sends: deals and stage changes as numbers computed by the database, stages, budget),
    Arrow (ADBC) straight into pandas, nothing else. `parallel`: the deals on a second
    connection in a second thread, beside the rest on the first (as the loader reads them)."""
    import pyarrow as pa  # noqa: F401  (the drivers hand over Arrow tables)

    where = core_arrow.target(session, sqlite=True)  # this process writes nothing meanwhile
    assert where is not None, "the limit needs a committed file SQLite database or PostgreSQL"
    dialect = session.get_bind().dialect.name
    sqls = [
        pipeline_data.deal_sql(dialect),
        pipeline_data.change_sql(dialect),
        pipeline_data.STAGE_SQL,
        pipeline_data.BUDGET_SQL,
    ]

    def read(part: list[str]) -> dict[str, object]:
        got = core_arrow.tables(where, part)  # one connection, as the loader reads through Arrow
        assert got is not None, "the Arrow drivers could not read the limit's queries"
        return {sql: table.to_pandas() for sql, table in zip(part, got, strict=True)}

    if not parallel:
        return read(sqls)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(read, sqls[:1])
        rest = read(sqls[1:])
        return first.result() | rest


def run(label: str, url: str, deals: int) -> None:
    upgrade(url)
    start = time.perf_counter()
    sizes = generate(url, deals)
    print(f"{label}: generated {sizes} in {time.perf_counter() - start:.1f} s")
    engine = get_engine(url)

    def page():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            frames = pipeline_data.load(s)
        return pipeline_report.dashboard_from_frames(frames)

    def dashboard():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            frames = pipeline_data.load(s)
        return pipeline_report.dashboard_from_frames(frames), pipeline_report.report_from_frames(frames)

    def dashboard_metrics(frames):  # type: ignore[no-untyped-def]
        return lambda: pipeline_report.dashboard_from_frames(frames)

    def forecast():  # type: ignore[no-untyped-def]
        with Session(engine) as s:  # as the page: deals only, no stage history
            return pipeline_report.forecast_from_frames(pipeline_data.load(s, changes=False))

    def arrow():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return arrow_read(s, parallel=True)

    def arrow_one():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return arrow_read(s)

    def load():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return pipeline_data.load(s)

    def cursor_load():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return pipeline_data.load(s, arrow=False)

    def raw():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return pipeline_data.raw_read(s)

    def board():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            ids = [
                i for i, kind in s.exec(select(StageDefinition.id, StageDefinition.kind)) if kind == "open"
            ]
            return pipeline.board(session=s, actor=SYSTEM, stage_ids=ids, limit=10)

    with Session(engine) as s:
        frames = pipeline_data.load(s)
    wall, cpu, results = interleaved(
        {
            "arrow": arrow,
            "arrow_one": arrow_one,
            "page": page,
            "load": load,
            "dashboard": dashboard,
            "metrics": dashboard_metrics(frames),
            "cursor_load": cursor_load,
            "raw": raw,
            "forecast": forecast,
        }
    )
    _dash, report = results["dashboard"]
    t_board, (totals, cards) = timed(board, repeat=5)
    tracemalloc.start()
    page()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    b = wall["arrow"]
    print(
        f"  (b) the limit: Arrow read (ADBC -> pandas) of the columns the dashboard needs, the deals on a "
        f"second connection beside the rest: {b:.3f} s"
    )
    one = wall["arrow_one"]
    print(f"      the same read on one connection: {one:.3f} s (a over it: {wall['page'] / one:.2f})")
    print(
        f"  (a) dashboard page: typed load + every metric it draws: {wall['page']:.3f} s"
        f"   a/b = {wall['page'] / b:.2f}"
    )
    print(
        f"      of which the typed load (as the app reads: Arrow on PostgreSQL, the cursor on SQLite): "
        f"{wall['load']:.3f} s   load/b = {wall['load'] / b:.2f}"
    )
    print(f"      and the dashboard's metrics on loaded frames: {wall['metrics']:.3f} s")
    print(
        f"      with the CLI's pipeline report too: {wall['dashboard']:.3f} s"
        f"   ratio {wall['dashboard'] / b:.2f}"
    )
    print(
        f"      the same load through the DBAPI cursor: {wall['cursor_load']:.3f} s; the old raw read "
        f"(every column, DBAPI): {wall['raw']:.3f} s"
    )
    print(f"      forecast page (load without stage changes + forecast + backtest): {wall['forecast']:.3f} s")
    print(
        f"      CPU time of this process: (b) {cpu['arrow']:.3f} s, (a) {cpu['page']:.3f} s "
        f"(ratio {cpu['page'] / cpu['arrow']:.2f})"
    )
    print(
        f"  (c) board query over {int(totals['deals'].sum()):,} open deals ({len(cards)} cards): "
        f"{t_board * 1000:.0f} ms"
    )
    print(f"  peak traced memory during (a): {peak / 2**20:.0f} MB; process max RSS: {rss_mb:.0f} MB")
    print(
        f"  report: open {report['deals']['open']:,} won {report['deals']['won']:,} "
        f"lost {report['deals']['lost']:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--keep", help="SQLite: write the database here instead of a temporary file.")
    args = parser.parse_args()
    from bench.concurrency import _drop, _pg_admin_url
    from bench.import_deals import _fresh

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("both", "sqlite"):
            run("SQLite", f"sqlite:///{Path(args.keep or f'{tmp}/bench.db')}", args.deals)
            dispose_engines()
        if args.backend in ("both", "postgresql"):
            admin = _pg_admin_url()
            if admin is not None:
                url = _fresh(admin, Path(tmp), "pipeline")
                try:
                    run("PostgreSQL", url, args.deals)
                finally:
                    dispose_engines()
                    _drop(admin, url)


if __name__ == "__main__":
    main()
