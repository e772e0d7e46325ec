"""Training sessions, invitations and attendance (issue 10): permission -> validation -> write
through crm_impl.core.writes (audited) -> nothing committed here.

A session is planned, held or cancelled. People are invited (an attendance row each); once the
session is held the trainer records, per invited person, attended or not and the assessment
score (0–100, only for someone who attended). A batch of records is checked as a whole before
the first is written, so one bad line (someone not invited, a score of 120, a stale row) writes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.services import checks as chk
from crm_impl.training.models import (
    SESSION_STATUSES,
    Attendance,
    AttendanceRecord,
    TrainingSession,
    TrainingSessionCreate,
    TrainingSessionUpdate,
)
from crm_impl.training.services import _common as c

FIELDS = chk.Fields(
    TrainingSessionUpdate,
    {
        "title": lambda v: validation.text(v, c.field("title"), max_len=200),
        "module": lambda v: validation.text(v, c.field("module"), max_len=80, required=False),
        "session_date": lambda v: chk.a_date(v, c.field("session_date"), required=True),
        "duration_minutes": c.duration,
        "trainer_id": lambda v: v,  # checked against the people with the session (below)
        "audience": c.departments,
        "online": chk.flag,
        "venue": lambda v: validation.text(v, c.field("venue"), max_len=200, required=False),
        "status": lambda v: validation.choice(v, c.field("status"), SESSION_STATUSES),
        "notes": lambda v: validation.text(v, c.field("notes"), max_len=5000, required=False),
    },
)


def _clean(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    cleaned = FIELDS.clean(values)
    if "trainer_id" in cleaned:
        cleaned["trainer_id"] = chk.person(session, cleaned["trainer_id"], c.field("trainer"))
    return cleaned


def _held_not_in_future(values: dict[str, Any]) -> None:
    if values.get("status") == "held" and values["session_date"] > utcnow().date():
        raise ValidationError("error.training_held_future", field=c.field("status"))


def create_session(
    *, session: Session, actor: Actor, project_id: int, data: TrainingSessionCreate
) -> TrainingSession:
    require(actor, "training.manage")
    chk.project(session, project_id)
    values = _clean(session, data.model_dump())
    row = TrainingSession(project_id=project_id, status="planned", created_by_id=actor.id, **values)
    return writes.create(
        session=session, actor=actor, row=row, entity="training_session", project_id=project_id
    )


def update_session(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    expected_version: int | None,
    data: TrainingSessionUpdate,
) -> TrainingSession:
    """Edit a session (version-checked); status `held` only once its date has come."""
    require(actor, "training.manage")
    row = writes.get(session, TrainingSession, session_id, "training_session")
    writes.expect_version(row.version, expected_version)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=_clean(session, data.changes()),
        entity="training_session",
        project_id=row.project_id,
        check=_held_not_in_future,
    )


def invite(*, session: Session, actor: Actor, session_id: int, person_ids: Sequence[int]) -> list[Attendance]:
    """Invite people to a session (an attendance row each); those already invited are left as
    they are. Returns the new invitations."""
    require(actor, "training.manage")
    training = writes.get(session, TrainingSession, session_id, "training_session")
    if training.status == "cancelled":
        raise ValidationError("error.training_cancelled", field=c.field("invited"))
    wanted = c.people(session, list(person_ids), "invited")
    if not wanted:
        raise ValidationError("error.required", field=c.field("invited"))
    already = set(session.exec(select(Attendance.person_id).where(Attendance.session_id == session_id)).all())
    return [
        writes.create(
            session=session,
            actor=actor,
            row=Attendance(session_id=session_id, person_id=pid, invited_at=utcnow()),
            entity="attendance",
            project_id=training.project_id,
            action="invite",
        )
        for pid in wanted
        if pid not in already
    ]


def record_attendance(
    *, session: Session, actor: Actor, session_id: int, records: Sequence[AttendanceRecord]
) -> list[Attendance]:
    """The trainer's attendance list for a held session: per invited person attended or not and
    the score. Everything is checked before the first row is written."""
    require(actor, "training.manage")
    training = writes.get(session, TrainingSession, session_id, "training_session")
    if training.status != "held":
        raise ValidationError("error.training_not_held", field=c.field("status"))
    rows = {
        a.person_id: a
        for a in session.exec(select(Attendance).where(Attendance.session_id == session_id)).all()
    }
    planned: list[tuple[Attendance, int | None, dict[str, Any]]] = []
    for record in records:
        row = rows.get(record.person_id)
        if row is None:
            person = session.get(Person, record.person_id)
            name = person.full_name if person else f"#{record.person_id}"
            raise ValidationError("error.training_not_invited", field=c.field("attended"), name=name)
        writes.expect_version(row.version, record.expected_version)
        attended = chk.flag(record.attended)
        score = c.score(record.score)
        if score is not None and not attended:
            raise ValidationError("error.training_score_absent", field=c.field("score"))
        changes = {"attended": attended, "score": score}
        if changes != {"attended": row.attended, "score": row.score}:
            planned.append((row, record.expected_version, changes))
    return [
        writes.update_versioned(
            session=session,
            actor=actor,
            row=row,
            expected_version=expected,
            changes={**changes, "recorded_at": utcnow()},
            entity="attendance",
            project_id=training.project_id,
            action="record",
        )
        for row, expected, changes in planned
    ]


def attendance_of(*, session: Session, session_id: int) -> list[Attendance]:
    return list(
        session.exec(
            select(Attendance).where(Attendance.session_id == session_id).order_by(col(Attendance.id))
        ).all()
    )
