"""The project team (slides 8–9): people on both sides, their project roles, whom they report
to, their written responsibilities. Creating people and roles lives in services.projects."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import SIDES, Person, PersonUpdate
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import (
    PersonPublic,
    RoleAssignment,
    RoleAssignmentPublic,
    RoleAssignmentUpdate,
    columns,
)
from crm_impl.rollout.services import checks as chk

PERSON_FIELDS = chk.Fields(
    PersonUpdate,
    {
        "full_name": lambda v: validation.text(v, "field.full_name", max_len=120),
        "side": lambda v: validation.choice(v, "field.side", SIDES),
        "department": lambda v: validation.text(v, "field.department", max_len=80, required=False),
        "email": lambda v: validation.email(None if chk.is_blank(v) else v),
        "phone": lambda v: None if chk.is_blank(v) else validation.text(v, "plan.field.phone", max_len=40),
        "experience_years": lambda v: chk.integer(v, "field.experience_years", low=0, high=70),
        "licensed_user": chk.flag,
        "active": chk.flag,
    },
)

ROLE_FIELDS = chk.Fields(
    RoleAssignmentUpdate,
    {
        "reports_to_id": lambda v: chk.an_id(v, "plan.field.reports_to"),
        "responsibilities": lambda v: validation.text(
            v, "plan.field.responsibilities", max_len=2000, required=False
        ),
        "is_client_contact": chk.flag,
    },
)


def check_role(session: Session, person_id: int, values: dict[str, Any]) -> None:
    """Whom a person reports to exists and is somebody else."""
    boss = values.get("reports_to_id")
    if boss is not None:
        chk.person(session, boss, "plan.field.reports_to")
        if boss == person_id:
            raise ValidationError("error.reports_to_self", field="plan.field.reports_to")


def update_person(
    *, session: Session, actor: Actor, person_id: int, expected_version: int | None, changes: PersonUpdate
) -> Person:
    require(actor, "team.manage")
    person = writes.get(session, Person, person_id, "person")
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=person,
        expected_version=expected_version,
        changes=PERSON_FIELDS.cleaned(changes),
        entity="person",
    )


def update_assignment(
    *,
    session: Session,
    actor: Actor,
    assignment_id: int,
    expected_version: int | None,
    changes: RoleAssignmentUpdate,
) -> RoleAssignment:
    require(actor, "team.manage")
    row = writes.get(session, RoleAssignment, assignment_id, "role_assignment")
    clean = ROLE_FIELDS.cleaned(changes)
    check_role(session, row.person_id, clean.changes())
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=clean,
        entity="role_assignment",
        project_id=row.project_id,
    )


def remove_assignment(*, session: Session, actor: Actor, assignment_id: int) -> None:
    require(actor, "team.manage")
    row = writes.get(session, RoleAssignment, assignment_id, "role_assignment")
    writes.delete(session=session, actor=actor, row=row, entity="role_assignment", project_id=row.project_id)


def people_frame(*, session: Session) -> pd.DataFrame:
    rows = session.exec(select(Person).order_by(col(Person.full_name))).all()
    names = columns(PersonPublic)
    return pd.DataFrame([{c: getattr(p, c) for c in names} for p in rows], columns=names)


ASSIGNMENT_COLUMNS = columns(RoleAssignmentPublic)


def assignments_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    """One row per role assignment, with the person's side and whom they report to."""
    rows = session.exec(
        select(RoleAssignment, Person)
        .join(Person, col(Person.id) == RoleAssignment.person_id)
        .where(RoleAssignment.project_id == project_id)
        .order_by(col(Person.full_name), col(RoleAssignment.role))
    ).all()
    names = dict(session.exec(select(Person.id, Person.full_name)).all())
    data = [
        {
            "id": a.id,
            "version": a.version,
            "person_id": p.id,
            "full_name": p.full_name,
            "side": p.side,
            "department": p.department,
            "role": a.role,
            "reports_to_id": a.reports_to_id,
            "reports_to": names.get(a.reports_to_id, "") if a.reports_to_id else "",
            "responsibilities": a.responsibilities,
            "is_client_contact": a.is_client_contact,
        }
        for a, p in rows
    ]
    return pd.DataFrame(data, columns=ASSIGNMENT_COLUMNS)
