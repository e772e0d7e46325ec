"""The Arrow read path (crm_impl.core.arrow) on SQLite: two readers at once (the pipeline reads
its deals beside its stage changes) wait for each other's locks instead of failing over to the
slow cursor."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crm_impl.core import arrow


def test_two_readers_of_a_database_with_a_full_wal_both_read(tmp_path: Path):
    path = tmp_path / "wal.db"
    keeper = sqlite3.connect(path)  # the app's own connection, keeping the WAL and its index
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.execute("PRAGMA wal_autocheckpoint=0")  # every page written stays in the WAL
    keeper.execute("CREATE TABLE t (a INTEGER)")
    keeper.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(200_000)])
    keeper.commit()
    where = ("sqlite", f"file:{path}?mode=ro")
    sqls = ["SELECT a FROM t ORDER BY a DESC"]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for _ in range(20):  # without a busy timeout nearly every pair had one "database is locked"
                results = list(pool.map(lambda _i: arrow.tables(where, sqls), range(2)))
                assert all(r is not None and r[0].num_rows == 200_000 for r in results)
    finally:
        keeper.close()


def test_the_app_reads_never_drop_its_sqlite_write_lock(tmp_path: Path):
    # The ADBC driver carries its own copy of SQLite; when it closes the file, the kernel drops
    # every POSIX lock this process holds on it. So the app reads SQLite through its own driver
    # only: while it holds a write transaction, the dashboard's, defects' and adoption's reads
    # leave another process locked out (with Arrow on SQLite, that process wrote at once and its
    # write was lost at the app's commit).
    import subprocess
    import sys

    from sqlalchemy import text
    from sqlmodel import Session

    from crm_impl.adoption.queries import usage
    from crm_impl.core.db import get_engine, upgrade
    from crm_impl.defects import queries as defect_queries
    from crm_impl.pipeline.queries import frames

    path = tmp_path / "app.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = get_engine(url)
    other = (
        f"import sqlite3; c = sqlite3.connect({str(path)!r}, timeout=0, isolation_level=None)\n"
        "try:\n    c.execute('BEGIN IMMEDIATE'); print('wrote')\n"
        "except sqlite3.OperationalError as e:\n    print(e)\n"
    )
    with engine.connect() as writer:
        writer.execute(text("BEGIN IMMEDIATE"))  # the app is writing
        with Session(engine) as s:
            assert arrow.target(s) is None and arrow.target(s, sqlite=True) is not None
            frames.load(s)
        with Session(engine) as s:
            defect_queries.load(s, 1)
        with Session(engine) as s:
            usage._read(s, usage.select(usage.literal(1).label("one")), ["one"])
        out = subprocess.run([sys.executable, "-c", other], capture_output=True, text=True, check=True)
        writer.execute(text("ROLLBACK"))
    assert out.stdout.strip() == "database is locked"
