"""Change requests (slide 9: the scope must not grow with every whim; slide 11: keep changes
moderate after go-live). Anyone on the project may request; only management decides."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import ChangeRequest
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services.ideas import person_of


def request_change(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    title: str,
    reason: str,
    effort_days: Any = 0,
    cost: Any = 0,
    schedule_impact_days: Any = 0,
    requested_by_id: int | None = None,
) -> ChangeRequest:
    require(actor, "change.request")
    project = chk.project(session, project_id)
    if chk.is_blank(requested_by_id):
        own = person_of(session=session, actor=actor)
        if own is None:
            raise ValidationError("error.required", field="plan.field.requested_by")
        requester = own.id
    else:
        requester = chk.person(session, requested_by_id, "plan.field.requested_by", required=True)
    now = utcnow()
    change = ChangeRequest(
        project_id=project_id,
        title=validation.text(title, "plan.field.title", max_len=200),
        reason=validation.text(reason, "plan.field.reason", max_len=5000),
        requested_by_id=requester,  # type: ignore[arg-type]
        requested_at=now,
        effort_days=validation.amount(effort_days, "plan.field.effort_days"),
        cost=validation.amount(cost, "plan.field.cost"),
        schedule_impact_days=chk.integer(schedule_impact_days, "plan.field.schedule_impact_days", low=0),
        after_go_live=bool(project.go_live_date and now.date() >= project.go_live_date),
    )
    session.add(change)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="change_request",
        entity_id=change.id,
        action="create",
        after=audit.snapshot(change),
        project_id=project_id,
    )
    return change


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
    change = chk.get(session, ChangeRequest, change_id, "change_request")
    validation.expect_version(change.version, expected_version)
    if change.status != "pending":
        raise ValidationError("error.change_decided")
    clean_note = validation.text(note, "plan.field.decision_note", max_len=2000, required=not approve)
    before = audit.snapshot(change)
    change.status = "approved" if approve else "rejected"
    change.decided_by, change.decided_at, change.decision_note = actor.username, utcnow(), clean_note
    session.add(change)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="change_request",
        entity_id=change.id,
        action="approve" if approve else "reject",
        before=before,
        after=audit.snapshot(change),
        project_id=change.project_id,
    )
    return change


def changes_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(ChangeRequest, Person.full_name)
        .join(Person, Person.id == ChangeRequest.requested_by_id)
        .where(ChangeRequest.project_id == project_id)
        .order_by(ChangeRequest.requested_at.desc())  # type: ignore[attr-defined]
    ).all()
    columns = [
        "id",
        "version",
        "title",
        "reason",
        "requested_at",
        "effort_days",
        "cost",
        "schedule_impact_days",
        "status",
        "after_go_live",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    data = [{**{c: getattr(r, c) for c in columns}, "requested_by": n} for r, n in rows]
    df = pd.DataFrame(data, columns=[*columns, "requested_by"])
    df["effort_days"] = df["effort_days"].astype(float)
    df["cost"] = df["cost"].astype(float)
    return df
