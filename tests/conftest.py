"""Shared fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

PostgreSQL tests use CRM_IMPL_TEST_PG_URL (a role that may create databases). Locally they
are skipped when it is not set; with CI=true every skip fails the run instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from crm_impl.core.auth import actor_for, hash_password
from crm_impl.core.db import UnitOfWork, dispose_engines, get_engine, upgrade
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import UserAccount
from crm_impl.core.permissions import Actor
from crm_impl.pipeline.services.stages import ensure_default_stages
from tests.apptest import app_as, demo_template, demo_url  # noqa: F401  (AppTest fixtures for every domain)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("CRM_IMPL_TEST_PG_URL")
ROOT = Path(__file__).resolve().parents[1]
MAVEN = ROOT / "examples" / "data" / "maven-crm"  # vendored: a clone needs nothing beside it
BACKENDS = ["sqlite", "postgresql"]


def need(condition: bool, reason: str) -> None:
    """Skip locally when something optional is missing; in CI that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped:
        terminalreporter.write_line(f"CI: {len(skipped)} skipped tests are not allowed", red=True)


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _english() -> None:
    set_locale("en")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    dispose_engines()
    return path


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return
    # One database per test process, so parallel runs (xdist workers, several checkouts)
    # never share state; dropped again at the end.
    admin = make_url(PG_URL)
    name = f"{admin.database}_{_worker()}_{os.getpid()}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    dispose_engines()
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def _truncate_pg(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template, pg_database_url) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated, empty database with the default stages; one per test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        need(pg_database_url is not None, "PostgreSQL (set CRM_IMPL_TEST_PG_URL)")
        url = pg_database_url
        _truncate_pg(get_engine(url))
    with UnitOfWork(get_engine(url)) as uow:
        ensure_default_stages(session=uow.session)
    yield url
    if request.param == "sqlite":
        get_engine(url).dispose()


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def make_user(engine: Engine):  # type: ignore[no-untyped-def]
    """Create a user with the given app roles directly (test setup, not under test)."""
    hashed = hash_password("correct-horse")

    def _make(username: str, *roles: str, password_hash: str | None = None) -> Actor:
        with Session(engine) as s:
            user = UserAccount(
                username=username,
                roles=list(roles) or ["sales_rep"],
                password_hash=password_hash or hashed,
                display_name=username,
            )
            s.add(user)
            s.commit()
            s.refresh(user)
            return actor_for(user)

    return _make
