"""The project team (slides 8–9): people on both sides, their project roles, whom they report
to, their written responsibilities. Creating people and roles lives in services.projects."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import SIDES, Person
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import RoleAssignment
from crm_impl.rollout.services import checks as chk


def _person_cleaners() -> dict[str, Any]:
    return {
        "full_name": lambda v: validation.text(v, "field.full_name", max_len=120),
        "side": lambda v: validation.choice(v, "field.side", SIDES),
        "department": lambda v: validation.text(v, "field.department", max_len=80, required=False),
        "email": lambda v: validation.email(v),
        "experience_years": lambda v: chk.integer(v, "field.experience_years", low=0, high=70),
        "licensed_user": bool,
        "active": bool,
    }


def update_person(
    *, session: Session, actor: Actor, person_id: int, expected_version: int | None, **changes: Any
) -> Person:
    require(actor, "team.manage")
    person = chk.get(session, Person, person_id, "person")
    validation.expect_version(person.version, expected_version)
    values = chk.merged(person, changes, _person_cleaners())
    before = audit.snapshot(person)
    chk.apply(person, values, list(changes))
    session.add(person)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="person",
        entity_id=person.id,
        action="update",
        before=before,
        after=audit.snapshot(person),
    )
    return person


def update_assignment(
    *, session: Session, actor: Actor, assignment_id: int, expected_version: int | None, **changes: Any
) -> RoleAssignment:
    require(actor, "team.manage")
    row = chk.get(session, RoleAssignment, assignment_id, "role_assignment")
    validation.expect_version(row.version, expected_version)
    cleaners = {
        "reports_to_id": lambda v: chk.person(session, v, "plan.field.reports_to"),
        "responsibilities": lambda v: validation.text(
            v, "plan.field.responsibilities", max_len=2000, required=False
        ),
        "is_client_contact": bool,
    }
    values = chk.merged(row, changes, cleaners)
    if values["reports_to_id"] is not None and values["reports_to_id"] == row.person_id:
        raise ValidationError("error.reports_to_self", field="plan.field.reports_to")
    before = audit.snapshot(row)
    chk.apply(row, values, list(changes))
    session.add(row)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="role_assignment",
        entity_id=row.id,
        action="update",
        before=before,
        after=audit.snapshot(row),
        project_id=row.project_id,
    )
    return row


def remove_assignment(*, session: Session, actor: Actor, assignment_id: int) -> None:
    require(actor, "team.manage")
    row = chk.get(session, RoleAssignment, assignment_id, "role_assignment")
    before = audit.snapshot(row)
    session.delete(row)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="role_assignment",
        entity_id=assignment_id,
        action="delete",
        before=before,
        project_id=before["project_id"] if before else None,
    )


def people_frame(*, session: Session) -> pd.DataFrame:
    rows = session.exec(select(Person).order_by(Person.full_name)).all()
    columns = [
        "id",
        "version",
        "full_name",
        "side",
        "department",
        "email",
        "experience_years",
        "licensed_user",
        "active",
    ]
    return pd.DataFrame([{c: getattr(p, c) for c in columns} for p in rows], columns=columns)


ASSIGNMENT_COLUMNS = [
    "id",
    "version",
    "person_id",
    "full_name",
    "side",
    "department",
    "role",
    "reports_to_id",
    "reports_to",
    "responsibilities",
    "is_client_contact",
]


def assignments_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    """One row per role assignment, with the person's side and whom they report to."""
    rows = session.exec(
        select(RoleAssignment, Person)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.project_id == project_id)
        .order_by(Person.full_name, RoleAssignment.role)
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
