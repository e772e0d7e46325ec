"""The live-refresh key (audit.data_version) changes with every commit that wrote something,
including one that commits after a later transaction (PostgreSQL), and never deadlocks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crm_impl.core import audit
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.models import AuditEntry, Person
from crm_impl.core.permissions import SYSTEM
from tests.conftest import _truncate_pg, need


def _version(engine: Engine) -> int:
    with Session(engine) as reader:
        return audit.data_version(session=reader)


def _max_audit_id(engine: Engine) -> int:
    with Session(engine) as reader:
        return int(reader.exec(select(func.max(AuditEntry.id))).one() or 0)


def _write(session: Session, name: str) -> None:
    """A write as every service makes one: a row and its audit entry."""
    person = Person(full_name=name, side="client")
    session.add(person)
    session.flush()
    audit.record(session=session, actor=SYSTEM, entity="person", entity_id=person.id, action="create")


@pytest.fixture
def pg_engine(pg_database_url: str | None) -> Iterator[Engine]:
    need(pg_database_url is not None, "PostgreSQL (set CRM_IMPL_TEST_PG_URL)")
    assert pg_database_url is not None
    engine = get_engine(pg_database_url)
    _truncate_pg(engine)
    yield engine


def test_every_commit_that_writes_raises_it_once(engine):
    v0 = _version(engine)
    with UnitOfWork(engine) as uow:
        _write(uow.session, "ann")
        _write(uow.session, "bob")
        _write(uow.session, "cid")
        assert _version(engine) == v0  # not before the commit
        uow.commit()
    v1 = _version(engine)
    assert v1 == v0 + 1  # three audit entries, one transaction: one step
    with UnitOfWork(engine) as uow:  # rolled back: no change
        _write(uow.session, "dee")
    assert _version(engine) == v1
    with Session(engine) as session:  # a commit without a write: no change either
        session.exec(select(AuditEntry)).all()
        session.commit()
    assert _version(engine) == v1
    with UnitOfWork(engine) as uow:  # the rolled-back flag does not leak into the next transaction
        uow.session.exec(select(AuditEntry)).all()
        uow.commit()
        _write(uow.session, "eve")
        uow.commit()
    assert _version(engine) == v1 + 1


def test_a_commit_after_a_later_transaction_still_changes_it(pg_engine):
    """T1 writes first (lower audit id), T2 writes and commits, the page reads; then T1 commits.

    With the old key (the newest audit id) the page would read the same number twice and stay stale.
    """
    t1 = Session(pg_engine)
    t2 = Session(pg_engine)
    try:
        _write(t1, "early")
        t1.flush()
        _write(t2, "late")
        t2.flush()
        t2.commit()
        seen = _version(pg_engine)
        newest_id_seen = _max_audit_id(pg_engine)
        t1.commit()
    finally:
        t1.close()
        t2.close()
    assert _max_audit_id(pg_engine) == newest_id_seen  # the old key did not move ...
    assert _version(pg_engine) != seen  # ... the new one does
    assert _version(pg_engine) == seen + 1


def test_concurrent_writers_neither_deadlock_nor_lose_a_step(pg_engine):
    start = _version(pg_engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with UnitOfWork(pg_engine) as uow:
                    _write(uow.session, f"w{worker}-{i}")
                    uow.commit()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert _version(pg_engine) == start + 20
