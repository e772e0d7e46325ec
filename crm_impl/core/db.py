"""Engines (one per URL per process) and the unit of work every service call runs in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, create_engine

from crm_impl.core.config import get_settings
from crm_impl.core.errors import ConflictError

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


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
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    url = normalize_url(url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


class UnitOfWork:
    """A short session for one user action: rolls back unless `commit()` is called.

    A stale ORM write (another user bumped the row's version in between) surfaces as
    ConflictError, the same error the services raise when the version a form was loaded
    with no longer matches.
    """

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or get_engine()
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.session.rollback()
        self.session.close()
        if isinstance(exc, StaleDataError):  # a service's flush hit a row bumped meanwhile
            raise ConflictError() from exc

    def commit(self) -> None:
        from crm_impl.core.writes import stale_as_conflict

        try:
            with stale_as_conflict():
                self.session.commit()
        except ConflictError:
            self.session.rollback()
            raise


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"


def upgrade(url: str | None = None) -> None:
    """Bring the schema to the newest revision (all heads)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, "heads")
