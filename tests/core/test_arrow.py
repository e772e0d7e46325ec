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
