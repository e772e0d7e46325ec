"""Idea intake (slide 8): anyone on the client side submits ideas; only the client-side project
manager triages them — accept (it becomes a requirement), mark as a duplicate of an idea or a
requirement, or reject with a reason. Likely duplicates are suggested by fuzzy text similarity."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.metrics import similar_texts
from crm_impl.rollout.models import Idea, Requirement
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services import scope

DECISIONS = ("accept", "duplicate", "reject")


def person_of(*, session: Session, actor: Actor) -> Person | None:
    """The person record linked to the acting user's account, if any."""
    if actor.id is None:
        return None
    user = session.get(UserAccount, actor.id)
    return session.get(Person, user.person_id) if user and user.person_id else None


def submit_idea(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    title: str,
    description: str = "",
    submitted_by_id: int | None = None,
) -> Idea:
    require(actor, "idea.submit")
    chk.project(session, project_id)
    own = person_of(session=session, actor=actor)
    if submitted_by_id is None or (own is not None and int(submitted_by_id) == own.id):
        if own is None:
            raise ValidationError("error.idea_needs_person")
        submitter = own
    else:
        # Entering an idea on someone else's behalf (e.g. from a workshop) is for team managers.
        require(actor, "team.manage")
        submitter = session.get(Person, chk.person(session, submitted_by_id, "plan.field.submitted_by"))
    if submitter.side != "client":  # type: ignore[union-attr]
        raise ValidationError("error.idea_client_side", field="plan.field.submitted_by")
    idea = Idea(
        project_id=project_id,
        title=validation.text(title, "plan.field.title", max_len=200),
        description=validation.text(description, "plan.field.description", max_len=5000, required=False),
        submitted_by_id=submitter.id,  # type: ignore[union-attr, arg-type]
    )
    session.add(idea)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="idea",
        entity_id=idea.id,
        action="create",
        after=audit.snapshot(idea),
        project_id=project_id,
    )
    return idea


def candidates(*, session: Session, project_id: int, exclude_idea_id: int | None = None) -> pd.DataFrame:
    """Everything an idea may duplicate: open or accepted ideas, and requirements."""
    ideas = session.exec(
        select(Idea.id, Idea.title, Idea.description).where(
            Idea.project_id == project_id,
            Idea.status.in_(("new", "accepted")),  # type: ignore[attr-defined]
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
    idea = chk.get(session, Idea, idea_id, "idea")
    validation.expect_version(idea.version, expected_version)
    validation.choice(decision, "plan.field.decision", DECISIONS)
    if idea.status != "new":
        raise ValidationError("error.idea_already_triaged")
    before = audit.snapshot(idea)
    if decision == "accept":
        requirement = scope.create_requirement(
            session=session,
            actor=actor,
            project_id=idea.project_id,
            process_required=False,
            title=idea.title,
            description=idea.description,
            business_process=business_process,
            kind=kind,
            phase_id=phase_id,
            business_owner_id=idea.submitted_by_id,
        )
        idea.requirement_id = requirement.id
    elif decision == "duplicate":
        _mark_duplicate(session, idea, duplicate_of_idea_id, duplicate_of_requirement_id)
    else:
        idea.rejection_reason = validation.text(rejection_reason, "plan.field.rejection_reason", max_len=2000)
    idea.status = {"accept": "accepted", "duplicate": "duplicate", "reject": "rejected"}[decision]
    idea.triaged_by, idea.triaged_at = actor.username, utcnow()
    session.add(idea)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="idea",
        entity_id=idea.id,
        action=decision,
        before=before,
        after=audit.snapshot(idea),
        project_id=idea.project_id,
    )
    return idea


def _mark_duplicate(session: Session, idea: Idea, of_idea: Any, of_requirement: Any) -> None:
    of_idea = None if chk.is_blank(of_idea) else int(of_idea)
    of_requirement = None if chk.is_blank(of_requirement) else int(of_requirement)
    if (of_idea is None) == (of_requirement is None):
        raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
    if of_idea is not None:
        target = session.get(Idea, of_idea)
        if target is None or target.project_id != idea.project_id or target.id == idea.id:
            raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
        idea.duplicate_of_idea_id = of_idea
    else:
        req = session.get(Requirement, of_requirement)
        if req is None or req.project_id != idea.project_id:
            raise ValidationError("error.duplicate_target", field="plan.field.duplicate_of")
        idea.duplicate_of_requirement_id = of_requirement


def ideas_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Idea, Person.full_name, Person.department)
        .join(Person, Person.id == Idea.submitted_by_id)
        .where(Idea.project_id == project_id)
        .order_by(Idea.id.desc())  # type: ignore[union-attr]
    ).all()
    columns = [
        "id",
        "version",
        "title",
        "description",
        "status",
        "submitted_at",
        "submitted_by_id",
        "duplicate_of_idea_id",
        "duplicate_of_requirement_id",
        "requirement_id",
        "rejection_reason",
        "triaged_by",
        "triaged_at",
    ]
    data = [{**{c: getattr(i, c) for c in columns}, "submitted_by": n, "department": d} for i, n, d in rows]
    return pd.DataFrame(data, columns=[*columns, "submitted_by", "department"])
