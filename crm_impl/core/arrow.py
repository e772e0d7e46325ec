"""Reading whole numeric results as columns through Arrow (ADBC), with the session's cursor as
the fallback — the one fast read path of every analytic screen (pipeline, defects).

The frame queries of the domains are written so every column is one type on every row (ids,
codes, epoch seconds and money as numbers computed by the database; at most one text column).
Arrow steps through the rows in C and hands over whole columns, where the DBAPI cursor builds a
Python tuple per row: on the benchmarks it reads the same rows 2-3x faster.

It reads through a second connection, so it sees what is committed: `target` offers it only
when the session has no transaction of its own (nothing uncommitted to miss) on PostgreSQL (a
file SQLite database only for a benchmark's limit: `target` says why). Any failure (drivers
not installed, a driver that cannot read a result, no connection) returns None and the caller
reads through the session's cursor instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_impl.core.db import SQLITE_BUSY_TIMEOUT_SECONDS

Columns = list[np.ndarray]
Target = tuple[str, str]


def target(session: Session, *, sqlite: bool = False) -> Target | None:
    """(driver, database) for an ADBC connection to the session's database, or None when the
    session has a transaction of its own, or the database is not PostgreSQL (or, with `sqlite`,
    a file SQLite database).

    SQLite only when asked (`sqlite=True`: the benchmarks' limits, in a process that writes
    nothing while it reads). The ADBC driver carries its own copy of SQLite (3.53 here, beside
    Python's 3.40), and two copies of SQLite in one process do not know each other's POSIX
    locks: when the driver closes its file, the kernel drops every lock this process holds on
    it, the app's own write lock too (sqlite.org/howtocorrupt.html, "multiple copies of
    SQLite"). Seen here: while the app held a write transaction, one Arrow read opened and
    closed, and another process's write then went through at once and was lost at the app's
    commit. tests/core/test_arrow.py keeps it that way."""
    if session.in_transaction():
        return None
    bind = session.get_bind()
    url = bind.url if isinstance(bind, Engine) else None
    if url is None:
        return None
    if url.get_backend_name() == "sqlite" and sqlite:
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return "sqlite", f"file:{quote(database)}?mode=ro"  # read-only: never creates a file
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def tables(where: Target, sqls: Sequence[str]) -> list[Any] | None:
    """Each query's result as an Arrow table (for a caller that converts the columns itself, e.g.
    dictionary-encodes a text column or keeps 64-bit integers exact). None when Arrow cannot read
    them (the caller then uses the cursor)."""
    driver, database = where
    try:
        if driver == "sqlite":
            import adbc_driver_sqlite.dbapi as adbc_sqlite

            connection = adbc_sqlite.connect(database)
        else:
            import adbc_driver_postgresql.dbapi as adbc_postgresql

            connection = adbc_postgresql.connect(database)
    except Exception:  # drivers not installed, or no connection: the cursor reads instead
        return None
    results: list[Any] = []
    try:
        with connection, connection.cursor() as cursor:
            if driver == "sqlite":  # wait for a lock as the app's own connections do (core.db)
                cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
                cursor.fetchall()
            for sql in sqls:
                cursor.execute(sql)
                results.append(cursor.fetch_arrow_table())
    except Exception:  # a driver that cannot read a result: the cursor reads instead
        return None
    return results


def columns(where: Target, sqls: Sequence[str]) -> list[Columns] | None:
    """Each query's result as numpy columns: numbers as float64 (NaN for NULL), text as objects.
    None when Arrow cannot read them (the caller then uses the cursor)."""
    try:
        import pyarrow as pa
    except Exception:  # pyarrow not installed: the cursor reads instead
        return None
    read = tables(where, sqls)
    if read is None:
        return None
    return [
        [
            np.asarray(column.to_numpy(), dtype=object)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            else column.cast(pa.float64()).to_numpy()
            for column in table.columns
        ]
        for table in read
    ]


def read(session: Session, sqls: Sequence[str], *, arrow: bool = True) -> list[Columns] | None:
    """`columns` for the session's database when Arrow may read it (see `target`), else None."""
    where = target(session) if arrow else None
    return columns(where, sqls) if where else None
