"""Change requests (slide 9: the scope must not grow with every whim; slide 11: keep changes
moderate after go-live). Anyone on the project may request; only management decides."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import (
    ChangeRequest,
    ChangeRequestCreate,
    ChangeRequestDecision,
    ChangeRequestPublic,
    ChangeRequestUpdate,
    columns,
)
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services.ideas import person_of

CHANGE_FIELDS = chk.Fields(
    ChangeRequestUpdate,
    {
        "title": lambda v: validation.text(v, "plan.field.title", max_len=200),
        "reason": lambda v: validation.text(v, "plan.field.reason", max_len=5000),
        "effort_days": lambda v: validation.amount(v, "plan.field.effort_days"),
        "cost": lambda v: validation.amount(v, "plan.field.cost"),
        "schedule_impact_days": lambda v: chk.integer(v, "plan.field.schedule_impact_days", low=0),
    },
)


def request_change(
    *, session: Session, actor: Actor, project_id: int, data: ChangeRequestCreate
) -> ChangeRequest:
    require(actor, "change.request")
    project = chk.project(session, project_id)
    values = CHANGE_FIELDS.clean(data.model_dump(exclude={"requested_by_id"}))
    if chk.is_blank(data.requested_by_id):
        own = person_of(session=session, actor=actor)
        if own is None:
            raise ValidationError("error.required", field="plan.field.requested_by")
        requester = int(own.id or 0)
    else:
        requester = chk.person(session, data.requested_by_id, "plan.field.requested_by", required=True) or 0
    now = utcnow()
    change = ChangeRequest(
        project_id=project_id,
        requested_by_id=requester,
        requested_at=now,
        after_go_live=bool(project.go_live_date and now.date() >= project.go_live_date),
        **values,
    )
    return writes.create(
        session=session, actor=actor, row=change, entity="change_request", project_id=project_id
    )


def _pending(values: dict[str, Any]) -> None:
    if values["status"] != "pending":
        raise ValidationError("error.change_decided")


def update_change(
    *,
    session: Session,
    actor: Actor,
    change_id: int,
    expected_version: int | None,
    changes: ChangeRequestUpdate,
) -> ChangeRequest:
    """Edit a change request while it waits for a decision: its requester, a plan manager or
    management."""
    require(actor, "change.request")
    change = writes.get(session, ChangeRequest, change_id, "change_request")
    own = person_of(session=session, actor=actor)
    if (own is None or own.id != change.requested_by_id) and not actor.can("plan.write"):
        require(actor, "change.approve")  # someone else's request: plan managers and management
    _pending(change.model_dump())
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=change,
        expected_version=expected_version,
        changes=CHANGE_FIELDS.cleaned(changes),
        entity="change_request",
        project_id=change.project_id,
    )


def _decision_complete(values: dict[str, Any]) -> None:
    """A rejection says why (the note is optional for an approval)."""
    if values["status"] == "rejected" and not values["decision_note"]:
        raise ValidationError("error.required", field="plan.field.decision_note")


def decide_change(
    *,
    session: Session,
    actor: Actor,
    change_id: int,
    expected_version: int | None,
    approve: bool,
    note: str = "",
) -> ChangeRequest:
    require(actor, "change.approve")
    change = writes.get(session, ChangeRequest, change_id, "change_request")
    writes.expect_version(change.version, expected_version)
    _pending(change.model_dump())
    decision = ChangeRequestDecision(
        status="approved" if approve else "rejected",
        decided_by=actor.username,
        decided_at=utcnow(),
        decision_note=validation.text(note, "plan.field.decision_note", max_len=2000, required=False),
    )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=change,
        expected_version=expected_version,
        changes=decision,
        entity="change_request",
        project_id=change.project_id,
        action="approve" if approve else "reject",
        check=_decision_complete,
    )


def changes_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(ChangeRequest, Person.full_name)
        .join(Person, col(Person.id) == ChangeRequest.requested_by_id)
        .where(ChangeRequest.project_id == project_id)
        .order_by(col(ChangeRequest.requested_at).desc())
    ).all()
    names = columns(ChangeRequestPublic)
    data = [{**{c: getattr(r, c) for c in names if c != "requested_by"}, "requested_by": n} for r, n in rows]
    df = pd.DataFrame(data, columns=names)
    df["effort_days"] = df["effort_days"].astype(float)
    df["cost"] = df["cost"].astype(float)
    return df
