"""Meetings (issue 10; slides 8 and 11): steering committees, benefit demonstrations,
motivation / practice sessions and workshops with employees, with their attendees, whether
management was present, decisions, notes and the benefits shown.

Whoever holds a meeting records it (meeting.organise) and may edit it later; PMs and management
edit anybody's (meeting.manage). Attendees are rows of meeting_attendee, replaced as a set; the
change is audited with the meeting as an "attendees" entry."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, select

from crm_impl.core import audit, validation, writes
from crm_impl.core.errors import PermissionDenied
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.services import checks as chk
from crm_impl.training.models import MEETING_KINDS, Meeting, MeetingAttendee, MeetingCreate, MeetingUpdate
from crm_impl.training.services import _common as c

_CLEANERS = {
    "kind": lambda v: validation.choice(v, c.field("kind"), MEETING_KINDS),
    "title": lambda v: validation.text(v, c.field("meeting_title"), max_len=200),
    "meeting_date": lambda v: chk.a_date(v, c.field("meeting_date"), required=True),
    "management_present": chk.flag,
    "decisions": lambda v: validation.text(v, c.field("decisions"), max_len=10000, required=False),
    "notes": lambda v: validation.text(v, c.field("notes"), max_len=10000, required=False),
    "benefits_shown": lambda v: validation.text(v, c.field("benefits_shown"), max_len=5000, required=False),
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _CLEANERS[name](value)
        for name, value in values.items()
        if name not in ("attendee_ids", "benefit_ids")
    }


def _benefits(session: Session, project_id: int, kind: str, benefit_ids: list[int]) -> list[int]:
    """The adoption register's benefits a benefit demonstration showed (checked there)."""
    from crm_impl.adoption.services import registers

    return registers.check_meeting_benefits(
        session=session, project_id=project_id, kind=kind, benefit_ids=benefit_ids
    )


def _link(session: Session, actor: Actor, meeting_id: int, project_id: int, benefit_ids: list[int]) -> None:
    from crm_impl.adoption.services import registers

    registers.link_meeting_benefits(
        session=session, actor=actor, meeting_id=meeting_id, project_id=project_id, benefit_ids=benefit_ids
    )


def attendee_ids(*, session: Session, meeting_id: int) -> list[int]:
    return list(
        session.exec(
            select(MeetingAttendee.person_id)
            .where(MeetingAttendee.meeting_id == meeting_id)
            .order_by(col(MeetingAttendee.person_id))
        ).all()
    )


def _set_attendees(session: Session, meeting_id: int, people: list[int]) -> None:
    session.exec(delete(MeetingAttendee).where(col(MeetingAttendee.meeting_id) == meeting_id))
    session.add_all(MeetingAttendee(meeting_id=meeting_id, person_id=pid) for pid in people)
    writes.flush(session)


def create_meeting(*, session: Session, actor: Actor, project_id: int, data: MeetingCreate) -> Meeting:
    require(actor, "meeting.organise")
    chk.project(session, project_id)
    values = _clean(data.model_dump())
    people = c.people(session, data.attendee_ids, "attendees")
    benefits = _benefits(session, project_id, values["kind"], data.benefit_ids)
    row = Meeting(project_id=project_id, organiser_id=actor.id, **values)
    writes.create(session=session, actor=actor, row=row, entity="meeting", project_id=project_id)
    meeting_id = int(row.id or 0)
    _set_attendees(session, meeting_id, people)
    if benefits:
        _link(session, actor, meeting_id, project_id, benefits)
    if people:
        audit.record(
            session=session,
            actor=actor,
            entity="meeting",
            entity_id=meeting_id,
            action="attendees",
            after={"attendee_ids": people},
            project_id=project_id,
        )
    return row


def may_edit(actor: Actor, meeting: Meeting) -> bool:
    """The organiser edits their own meeting; PMs and management edit any."""
    return actor.can("meeting.manage") or (
        actor.can("meeting.organise") and actor.id is not None and meeting.organiser_id == actor.id
    )


def update_meeting(
    *, session: Session, actor: Actor, meeting_id: int, expected_version: int | None, data: MeetingUpdate
) -> Meeting:
    require(actor, "meeting.organise")
    row = writes.get(session, Meeting, meeting_id, "meeting")
    if not may_edit(actor, row):
        raise PermissionDenied("error.meeting_not_organiser")
    writes.expect_version(row.version, expected_version)
    changes = data.changes()
    values = _clean(changes)
    people = c.people(session, changes["attendee_ids"], "attendees") if "attendee_ids" in changes else None
    kind = values.get("kind", row.kind)
    benefits: list[int] | None = None
    if "benefit_ids" in changes:
        benefits = _benefits(session, row.project_id, kind, changes["benefit_ids"] or [])
    elif kind != row.kind:  # a meeting that is no longer a benefit demonstration shows none
        benefits = _benefits(session, row.project_id, kind, [])
    before = attendee_ids(session=session, meeting_id=meeting_id)
    # updated_at always changes, so the version moves on even when only the attendees did
    writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes={**values, "updated_at": utcnow()},
        entity="meeting",
        project_id=row.project_id,
    )
    if people is not None and people != before:
        _set_attendees(session, meeting_id, people)
        audit.record(
            session=session,
            actor=actor,
            entity="meeting",
            entity_id=meeting_id,
            action="attendees",
            before={"attendee_ids": before},
            after={"attendee_ids": people},
            project_id=row.project_id,
        )
    if benefits is not None:
        _link(session, actor, meeting_id, row.project_id, benefits)
    return row
