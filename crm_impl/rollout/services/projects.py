"""Rollout projects, people and their project roles (the basics; the plan issue extends them)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, col, func, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, PersonCreate, Project, ProjectCreate, ProjectUpdate
from crm_impl.core.permissions import Actor, require
from crm_impl.core.projects import get_project
from crm_impl.rollout.models import PROJECT_ROLES, RoleAssignment, RoleAssignmentCreate
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services import team

__all__ = ["PROJECT_FIELDS", "assign_role", "create_person", "create_project", "get_project", "team_summary"]

PROJECT_FIELDS = chk.Fields(
    ProjectUpdate,
    {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "client_name": lambda v: validation.text(v, "field.client", max_len=120, required=False),
        "vendor_name": lambda v: validation.text(v, "field.vendor", max_len=120, required=False),
        "description": lambda v: validation.text(v, "plan.field.description", max_len=5000, required=False),
        "start_date": lambda v: chk.a_date(v, "plan.field.start_date"),
        "go_live_date": lambda v: chk.a_date(v, "field.go_live_date"),
        "currency": lambda v: validation.text(v, "field.currency", max_len=3).upper(),
        "baseline_effort_days": lambda v: validation.amount(v, "field.baseline_effort"),
        "baseline_cost": lambda v: validation.amount(v, "field.baseline_cost"),
    },
)


def check_project(values: dict[str, Any]) -> None:
    validation.date_order(values["start_date"], values["go_live_date"], "field.go_live_date")


def unique_project_name(session: Session, name: str, *, exclude_id: int | None = None) -> None:
    query = select(Project.id).where(func.lower(Project.name) == name.lower())
    if exclude_id is not None:
        query = query.where(col(Project.id) != exclude_id)
    if session.exec(query).first() is not None:
        raise ValidationError("error.duplicate", field="field.name", value=name)


def create_project(*, session: Session, actor: Actor, data: ProjectCreate) -> Project:
    require(actor, "project.manage")
    values = PROJECT_FIELDS.clean(data.model_dump())
    unique_project_name(session, values["name"])
    check_project(values)
    project = writes.create(session=session, actor=actor, row=Project(**values), entity="project")
    project.id = int(project.id or 0)
    from crm_impl.rollout.services import plan  # plan reads projects; a new project starts its plan

    plan.on_project_created(session=session, actor=actor, project=project)
    return project


def create_person(*, session: Session, actor: Actor, data: PersonCreate) -> Person:
    require(actor, "team.manage")
    values = team.PERSON_FIELDS.clean(data.model_dump())
    return writes.create(session=session, actor=actor, row=Person(**values), entity="person")


def assign_role(
    *, session: Session, actor: Actor, project_id: int, data: RoleAssignmentCreate
) -> RoleAssignment:
    require(actor, "team.manage")
    get_project(session=session, project_id=project_id)
    role = validation.choice(data.role, "field.project_role", PROJECT_ROLES)
    writes.get(session, Person, data.person_id, "person")
    values = team.ROLE_FIELDS.clean(
        {k: v for k, v in data.model_dump().items() if k in team.ROLE_FIELDS.names}
    )
    team.check_role(session, data.person_id, values)
    exists = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.project_id == project_id,
            RoleAssignment.person_id == data.person_id,
            RoleAssignment.role == role,
        )
    ).first()
    if exists:
        raise ValidationError("error.duplicate", field="field.project_role", value=role)
    row = RoleAssignment(project_id=project_id, person_id=data.person_id, role=role, **values)
    return writes.create(
        session=session, actor=actor, row=row, entity="role_assignment", project_id=project_id
    )


def team_summary(*, session: Session, project_id: int) -> pd.DataFrame:
    """People per side and role on a project (one row per assignment)."""
    rows = session.exec(
        select(RoleAssignment.role, Person.side, Person.full_name, Person.department)
        .join(Person, col(Person.id) == RoleAssignment.person_id)
        .where(RoleAssignment.project_id == project_id)
    ).all()
    return pd.DataFrame(rows, columns=["role", "side", "full_name", "department"])
