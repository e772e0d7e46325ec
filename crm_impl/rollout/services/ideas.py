"""Idea intake (slide 8): anyone on the client side submits ideas; only the client-side project
manager triages them — accept (it becomes a requirement), mark as a duplicate of an idea or a
requirement, or reject with a reason. Likely duplicates are suggested by fuzzy text similarity."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.metrics import similar_texts
from crm_impl.rollout.models import (
    Idea,
    IdeaCreate,
    IdeaPublic,
    IdeaUpdate,
    Requirement,
    RequirementCreate,
    columns,
)
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services import scope

DECISIONS = ("accept", "duplicate", "reject")


def person_of(*, session: Session, actor: Actor) -> Person | None:
    """The person record linked to the acting user's account, if any."""
    if actor.id is None:
        return None
    user = session.get(UserAccount, actor.id)
    return session.get(Person, user.person_id) if user and user.person_id else None


def submit_idea(*, session: Session, actor: Actor, project_id: int, data: IdeaCreate) -> Idea:
    require(actor, "idea.submit")
    chk.project(session, project_id)
    own = person_of(session=session, actor=actor)
    on_behalf = chk.an_id(data.submitted_by_id, "plan.field.submitted_by")
    if on_behalf is None or (own is not None and on_behalf == own.id):
        if own is None:
            raise ValidationError("error.idea_needs_person")
        submitter = own
    else:
        # Entering an idea on someone else's behalf (e.g. from a workshop) is for team managers.
        require(actor, "team.manage")
        chk.person(session, on_behalf, "plan.field.submitted_by")
        submitter = writes.get(session, Person, on_behalf, "person")
    if submitter.side != "client":
        raise ValidationError("error.idea_client_side", field="plan.field.submitted_by")
    idea = Idea(
        project_id=project_id,
        title=validation.text(data.title, "plan.field.title", max_len=200),
        description=validation.text(data.description, "plan.field.description", max_len=5000, required=False),
        submitted_by_id=int(submitter.id or 0),
    )
    return writes.create(session=session, actor=actor, row=idea, entity="idea", project_id=project_id)


def candidates(*, session: Session, project_id: int, exclude_idea_id: int | None = None) -> pd.DataFrame:
    """Everything an idea may duplicate: open or accepted ideas, and requirements."""
    ideas = session.exec(
        select(Idea.id, Idea.title, Idea.description).where(
            Idea.project_id == project_id,
            col(Idea.status).in_(("new", "accepted")),
        )
    ).all()
    reqs = session.exec(
        select(Requirement.id, Requirement.title, Requirement.description).where(
            Requirement.project_id == project_id
        )
    ).all()
    df = pd.DataFrame(
        [("idea", *r) for r in ideas if r[0] != exclude_idea_id] + [("requirement", *r) for r in reqs],
        columns=["kind", "id", "title", "description"],
    )
    return df


def suggest_duplicates(
    *,
    session: Session,
    project_id: int,
    text: str,
    exclude_idea_id: int | None = None,
    limit: int = 5,
) -> pd.DataFrame:
    """Ideas and requirements whose title reads like `text`, best first (score 0–100)."""
    pool = candidates(session=session, project_id=project_id, exclude_idea_id=exclude_idea_id)
    return similar_texts(text, pool, limit=limit)


def triage_idea(
    *,
    session: Session,
    actor: Actor,
    idea_id: int,
    expected_version: int | None,
    decision: str,
    duplicate_of_idea_id: int | None = None,
    duplicate_of_requirement_id: int | None = None,
    rejection_reason: str = "",
    business_process: str = "",
    kind: str = "core",
    phase_id: int | None = None,
) -> Idea:
    require(actor, "idea.triage")
    idea = writes.get(session, Idea, idea_id, "idea")
    writes.expect_version(idea.version, expected_version)
    validation.choice(decision, "plan.field.decision", DECISIONS)
    if idea.status != "new":
        raise ValidationError("error.idea_already_triaged")
    status = {"accept": "accepted", "duplicate": "duplicate", "reject": "rejected"}[decision]
    changes = IdeaUpdate(status=status, triaged_by=actor.username, triaged_at=utcnow())
    if decision == "accept":
        requirement = scope.create_requirement(
            session=session,
            actor=actor,
            project_id=idea.project_id,
            process_required=False,
            data=RequirementCreate(
                title=idea.title,
                description=idea.description,
                business_process=business_process,
                kind=kind,
                phase_id=phase_id,
                business_owner_id=idea.submitted_by_id,
            ),
        )
        changes.requirement_id = requirement.id
    elif decision == "duplicate":
        changes = _duplicate_of(session, idea, duplicate_of_idea_id, duplicate_of_requirement_id, changes)
    else:
        changes.rejection_reason = validation.text(
            rejection_reason, "plan.field.rejection_reason", max_len=2000
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=idea,
        expected_version=expected_version,
        changes=changes,
        entity="idea",
        project_id=idea.project_id,
        action=decision,
    )


def _duplicate_of(
    session: Session, idea: Idea, of_idea: Any, of_requirement: Any, changes: IdeaUpdate
) -> IdeaUpdate:
    target_idea = chk.an_id(of_idea, "plan.field.duplicate_of")
    target_req = chk.an_id(of_requirement, "plan.field.duplicate_of")
    if (target_idea is None) == (target_req is None):
        raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
    if target_idea is not None:
        other = session.get(Idea, target_idea)
        if other is None or other.project_id != idea.project_id or other.id == idea.id:
            raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
        changes.duplicate_of_idea_id = target_idea
    else:
        req = session.get(Requirement, target_req)
        if req is None or req.project_id != idea.project_id:
            raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
        changes.duplicate_of_requirement_id = target_req
    return changes


def ideas_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Idea, Person.full_name, Person.department)
        .join(Person, col(Person.id) == Idea.submitted_by_id)
        .where(Idea.project_id == project_id)
        .order_by(col(Idea.id).desc())
    ).all()
    data = [{**i.model_dump(), "submitted_by": n, "department": d} for i, n, d in rows]
    return pd.DataFrame(data, columns=columns(IdeaPublic))
