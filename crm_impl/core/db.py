"""Engines (one per URL per process), the unit of work every service call runs in, and the
retrying write (`write`) the UI's save path uses.

Database trouble reaches callers as translated DomainErrors, never as a driver's exception:
- a busy database (SQLite "database is locked"/"busy" after the busy timeout; PostgreSQL
  serialization failure 40001, deadlock 40P01, lock timeout 55P03) -> `DatabaseBusy`;
- an unreachable one (connection refused or lost, server shutting down) -> `DatabaseUnavailable`.
`UnitOfWork` and `read_session` translate them; `write()` re-runs the WHOLE transaction on
`DatabaseBusy` with exponential backoff and jitter until `RETRY_BUDGET_SECONDS` is spent.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, create_engine

from crm_impl.core.config import get_settings
from crm_impl.core.errors import ConflictError, DatabaseBusy, DatabaseUnavailable, DomainError

T = TypeVar("T")

# SQLite: how long one statement waits for another writer's lock (SQLite's own busy handler,
# which polls with growing sleeps) before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
# `write()`: the total time a write may spend waiting and retrying before DatabaseBusy.
RETRY_BUDGET_SECONDS = 30.0
# backoff between attempts: BASE * 2**attempt, at most CAP, with jitter (half to full delay)
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 1.0
# PostgreSQL: give up connecting after this long (a cut network would otherwise hang ~2 min)
PG_CONNECT_TIMEOUT_SECONDS = 5

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_busy_retries = 0
_busy_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and route them through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    url = normalize_url(url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(
                    url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(
                    url,
                    pool_pre_ping=True,
                    pool_size=5,
                    max_overflow=10,
                    connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
                )
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED (primary codes; extended ones & 0xFF)
_SQLITE_GONE = {14}  # SQLITE_CANTOPEN
_PG_BUSY = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available
_PG_GONE = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, cannot connect now, too many


def classify(exc: BaseException) -> Literal["busy", "unavailable"] | None:
    """What kind of database trouble `exc` is: "busy" (worth retrying), "unavailable" (the
    server cannot be reached), or None (a real error: a bug, a constraint...)."""
    if isinstance(exc, PoolTimeout):  # every pooled connection in use for too long
        return "busy"
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    module = type(orig).__module__
    if module.startswith("sqlite3"):
        code = getattr(orig, "sqlite_errorcode", None)
        text = str(orig).lower()
        if (code is not None and code & 0xFF in _SQLITE_BUSY) or "database is locked" in text:
            return "busy"
        if (code is not None and code & 0xFF in _SQLITE_GONE) or "unable to open database" in text:
            return "unavailable"
        return None
    if module.startswith("psycopg"):
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in _PG_BUSY:
            return "busy"
        if sqlstate in _PG_GONE or (sqlstate or "").startswith("08"):
            return "unavailable"
        if exc.connection_invalidated:
            return "unavailable"
        if sqlstate is None and type(orig).__name__ in {"OperationalError", "InterfaceError"}:
            return "unavailable"  # "connection failed: ... refused", "server closed the connection"
        return None
    return "unavailable" if exc.connection_invalidated else None


def translate(exc: BaseException) -> DomainError | None:
    """The translated DomainError for database trouble, or None when `exc` is something else."""
    kind = classify(exc)
    if kind == "busy":
        return DatabaseBusy()
    if kind == "unavailable":
        return DatabaseUnavailable()
    return None


def busy_retries() -> int:
    """How many times a busy write transaction was re-run in this process (for the benches)."""
    return _busy_retries


def _count_retry() -> None:
    global _busy_retries
    with _busy_lock:
        _busy_retries += 1


def backoff(attempt: int) -> float:
    """Seconds to wait before re-running attempt `attempt` (0-based): exponential, capped,
    with jitter so writers that collided do not collide again in lockstep."""
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**attempt)
    return random.uniform(delay / 2, delay)


class UnitOfWork:
    """A short session for one user action: rolls back unless `commit()` is called.

    A stale ORM write (another user bumped the row's version in between) surfaces as
    ConflictError, the same error the services raise when the version a form was loaded
    with no longer matches. A busy or unreachable database surfaces as DatabaseBusy or
    DatabaseUnavailable (translated; nothing was written).

    The `with` body cannot be re-run from here, so a UnitOfWork does not retry by itself:
    on SQLite a statement waits up to SQLITE_BUSY_TIMEOUT_SECONDS for the write lock first.
    Use `write()` for a write that should re-run its whole transaction when busy.
    """

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or get_engine()
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            self.session.rollback()
            self.session.close()
        except DBAPIError:
            if exc is None:
                raise
            # the connection is already gone (the error being handled says so); the
            # transaction died with it, report the original error
        if isinstance(exc, StaleDataError):  # a service's flush hit a row bumped meanwhile
            raise ConflictError() from exc
        if exc is not None and (translated := translate(exc)) is not None:
            raise translated from exc

    def commit(self) -> None:
        from crm_impl.core.writes import stale_as_conflict

        try:
            with stale_as_conflict():
                self.session.commit()
        except ConflictError:
            self.session.rollback()
            raise


def write(work: Callable[[Session], T], *, engine: Engine | None = None, budget: float | None = None) -> T:
    """Run `work(session)` in a fresh UnitOfWork and commit; when the database is busy (SQLite
    lock held by another writer past the busy timeout, PostgreSQL deadlock or serialization
    failure), roll back and re-run the WHOLE transaction - `work` again from the start - after
    a backoff with jitter, until `budget` seconds (default RETRY_BUDGET_SECONDS) are spent; then
    DatabaseBusy ("the database is busy, try again"). `work` must not commit, and must do
    nothing besides database work that may not be repeated."""
    deadline = time.monotonic() + (RETRY_BUDGET_SECONDS if budget is None else budget)
    attempt = 0
    while True:
        try:
            with UnitOfWork(engine) as uow:
                result = work(uow.session)
                uow.commit()
            return result
        except DatabaseBusy:
            delay = backoff(attempt)
            if time.monotonic() + delay >= deadline:
                raise
            _count_retry()
            attempt += 1
            time.sleep(delay)


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; an unreachable or busy database raises the translated error."""
    try:
        with Session(engine or get_engine(), expire_on_commit=False) as session:
            yield session
    except (DBAPIError, PoolTimeout) as exc:
        translated = translate(exc)
        if translated is None:
            raise
        raise translated from exc


MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"


def upgrade(url: str | None = None) -> None:
    """Bring the schema to the newest revision (all heads)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, "heads")
