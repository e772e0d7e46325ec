"""The application clock: real UTC time, or the moment of an active `clock.at` block (per
thread/context, ended with the block) — and everything that stamps a time follows it."""

import threading
from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import Session, select

from crm_impl.core import audit, clock
from crm_impl.core.models import AuditEntry, Project, utcnow
from crm_impl.core.permissions import SYSTEM

MOMENT = datetime(2025, 3, 14, 9, 26, tzinfo=UTC)


def test_now_is_real_utc_outside_a_block():
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None and before <= now <= datetime.now(UTC)
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_at_overrides_inside_the_block_only_and_nests():
    with clock.at(MOMENT) as moment:
        assert moment == clock.now() == utcnow() == MOMENT
        with clock.at(MOMENT + timedelta(days=1)):
            assert clock.now() == MOMENT + timedelta(days=1)
        assert clock.now() == MOMENT
    assert clock.now() - MOMENT > timedelta(days=300)


def test_naive_and_other_zones_become_utc():
    with clock.at(datetime(2025, 3, 14, 9, 26)):
        assert clock.now() == MOMENT
    with clock.at(datetime(2025, 3, 14, 11, 26, tzinfo=timezone(timedelta(hours=2)))):
        assert clock.now() == MOMENT and clock.now().tzinfo == UTC


def test_the_override_ends_when_the_block_raises():
    try:
        with clock.at(MOMENT):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert clock.now() != MOMENT


def test_another_thread_keeps_real_time():
    seen: list[datetime] = []
    with clock.at(MOMENT):
        worker = threading.Thread(target=lambda: seen.append(clock.now()))
        worker.start()
        worker.join()
        assert clock.now() == MOMENT
    assert seen and seen[0] != MOMENT and seen[0] - MOMENT > timedelta(days=300)


def test_model_defaults_and_audit_entries_follow_the_clock(engine):
    with Session(engine) as s, clock.at(MOMENT):
        project = Project(name="Clocked")
        s.add(project)
        s.flush()
        audit.record(session=s, actor=SYSTEM, entity="project", entity_id=project.id, action="create")
        s.commit()
    with Session(engine) as s:
        created = s.exec(select(Project.created_at).where(Project.name == "Clocked")).one()
        at = s.exec(select(AuditEntry.at).where(AuditEntry.entity == "project")).one()
    assert created.replace(tzinfo=UTC) == at.replace(tzinfo=UTC) == MOMENT
