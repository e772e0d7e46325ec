"""The defect lifecycle exhaustively: every actor x every from-status x every to-status. The
allowed steps (written out below, independently of the service's TRANSITIONS) succeed with a
history entry and an audit entry; every other one is refused with nothing written, and
`allowed_transitions` offers exactly the allowed ones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.errors import DomainError
from crm_impl.core.models import AuditEntry
from crm_impl.defects import services
from crm_impl.defects.models import STATUSES, DefectChange, DefectTransition
from tests.defects.fixtures import PEOPLE, World

PMS = {"pm", "pm_client"}
TRIAGE = PMS | {"admin"}
TESTERS = {"tester", "tester_client"}
# (from, to) -> who may take the step; anything not listed is refused for everyone.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("new", "confirmed"): TESTERS | PMS | {"admin"},
    ("confirmed", "assigned"): PMS,
    ("assigned", "assigned"): PMS,
    ("in_progress", "assigned"): PMS,
    ("reopened", "assigned"): PMS,
    ("assigned", "in_progress"): {"assignee"},
    ("reopened", "in_progress"): {"assignee"},
    ("in_progress", "fixed"): {"assignee"},
    ("fixed", "in_retest"): TESTERS,
    ("in_retest", "verified"): {"tester"},
    ("verified", "closed"): TESTERS,
    ("in_retest", "reopened"): TESTERS,
    ("verified", "reopened"): TESTERS,
    ("closed", "reopened"): TESTERS,
    **{
        (s, to): TRIAGE
        for s in ("new", "confirmed", "assigned", "in_progress", "reopened")
        for to in ("rejected", "duplicate", "wont_fix")
    },
}


def _step(world: World, to: str, original_id: int) -> DefectTransition:
    """What each target status needs, so a refusal can only come from the matrix or the role."""
    needs: dict[str, dict[str, Any]] = {
        "assigned": {"assignee_id": world["assignee"].id},
        "fixed": {"release_id": world.releases["1.0"]},
        "verified": {"release_id": world.releases["1.1"]},
        "rejected": {"comment": "works as designed"},
        "wont_fix": {"comment": "not worth it"},
        "duplicate": {"comment": "same as the other", "duplicate_of_id": original_id},
    }
    return DefectTransition(to_status=to, **needs.get(to, {}))


def _counts(session: Session) -> tuple[int, int]:
    changes = session.exec(select(func.count()).select_from(DefectChange)).one()
    audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return int(changes), int(audits)


def test_the_written_out_matrix_is_the_services():
    assert {pair for pair in services.TRANSITIONS} == set(EXPECTED)


@pytest.mark.parametrize("from_status", STATUSES)
def test_every_actor_every_step_from(world: World, session: Session, from_status: str):
    original = world.defect_in("new")
    wrong: list[str] = []
    for who in PEOPLE:
        actor = world[who]
        offered = services.allowed_transitions(
            session=session, actor=actor, defect=world.defect_in(from_status)
        )
        expected_offer = [to for to in STATUSES if who in EXPECTED.get((from_status, to), set())]
        if offered != expected_offer:
            wrong.append(f"{who} in {from_status}: offered {offered}, expected {expected_offer}")
        for to in STATUSES:
            defect = world.defect_in(from_status)
            version, before = defect.version, _counts(session)
            allowed = who in EXPECTED.get((from_status, to), set())
            try:
                services.transition(
                    session=session,
                    actor=actor,
                    defect_id=int(defect.id or 0),
                    expected_version=version,
                    data=_step(world, to, int(original.id or 0)),
                )
                session.flush()
            except DomainError as err:
                session.flush()
                session.refresh(defect)
                if allowed:
                    wrong.append(f"{who} {from_status}->{to} refused: {err.message()}")
                elif (defect.status, defect.version, _counts(session)) != (from_status, version, before):
                    wrong.append(f"{who} {from_status}->{to} refused but wrote something")
                continue
            if not allowed:
                wrong.append(f"{who} {from_status}->{to} should be refused")
                continue
            last = session.exec(
                select(DefectChange)
                .where(DefectChange.defect_id == defect.id)
                .order_by(col(DefectChange.id).desc())
            ).first()
            assert last is not None
            if (defect.status, defect.version, last.from_status, last.to_status, last.by_id) != (
                to,
                version + 1,
                from_status,
                to,
                actor.id,
            ):
                wrong.append(f"{who} {from_status}->{to}: wrong result or history")
            if _counts(session) != (before[0] + 1, before[1] + 1):
                wrong.append(f"{who} {from_status}->{to}: not one history and one audit entry")
    assert wrong == []
