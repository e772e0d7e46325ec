"""Rollout projects, people and their project roles (the basics; the plan issue extends them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
from sqlmodel import Session, func, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import NotFound, ValidationError
from crm_impl.core.models import SIDES, Person, Project
from crm_impl.core.permissions import Actor, require
from crm_impl.core.projects import get_project
from crm_impl.rollout.models import PROJECT_ROLES, RoleAssignment
from crm_impl.rollout.services import plan


def create_project(
    *,
    session: Session,
    actor: Actor,
    name: str,
    client_name: str = "",
    vendor_name: str = "",
    start_date: date | None = None,
    go_live_date: date | None = None,
    currency: str = "PLN",
    baseline_effort_days: Decimal | float | str = 0,
    baseline_cost: Decimal | float | str = 0,
    description: str = "",
) -> Project:
    require(actor, "project.manage")
    clean = validation.text(name, "field.name", max_len=120)
    if session.exec(select(Project).where(func.lower(Project.name) == clean.lower())).first():
        raise ValidationError("error.duplicate", field="field.name", value=clean)
    validation.date_order(start_date, go_live_date, "field.go_live_date")
    project = Project(
        name=clean,
        client_name=validation.text(client_name, "field.client", max_len=120, required=False),
        vendor_name=validation.text(vendor_name, "field.vendor", max_len=120, required=False),
        start_date=start_date,
        go_live_date=go_live_date,
        currency=validation.text(currency, "field.currency", max_len=3).upper(),
        baseline_effort_days=validation.amount(baseline_effort_days, "field.baseline_effort"),
        baseline_cost=validation.amount(baseline_cost, "field.baseline_cost"),
        description=description or "",
    )
    session.add(project)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="project",
        entity_id=project.id,
        action="create",
        after=audit.snapshot(project),
        project_id=project.id,
    )
    plan.on_project_created(session=session, actor=actor, project=project)
    return project


def create_person(
    *,
    session: Session,
    actor: Actor,
    full_name: str,
    side: str,
    department: str = "",
    email: str | None = None,
    phone: str | None = None,
    experience_years: int = 0,
    licensed_user: bool = False,
) -> Person:
    require(actor, "team.manage")
    if experience_years is None or int(experience_years) < 0:
        raise ValidationError("error.negative", field="field.experience_years")
    person = Person(
        full_name=validation.text(full_name, "field.full_name", max_len=120),
        side=validation.choice(side, "field.side", SIDES),
        department=validation.text(department, "field.department", max_len=80, required=False),
        email=validation.email(email),
        phone=(phone or "").strip() or None,
        experience_years=int(experience_years),
        licensed_user=bool(licensed_user),
    )
    session.add(person)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="person",
        entity_id=person.id,
        action="create",
        after=audit.snapshot(person),
    )
    return person


def assign_role(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    person_id: int,
    role: str,
    reports_to_id: int | None = None,
    responsibilities: str = "",
) -> RoleAssignment:
    require(actor, "team.manage")
    get_project(session=session, project_id=project_id)
    validation.choice(role, "field.project_role", PROJECT_ROLES)
    for pid in (person_id, reports_to_id):
        if pid is not None and session.get(Person, pid) is None:
            raise NotFound("error.not_found", entity="person", id=pid)
    exists = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.project_id == project_id,
            RoleAssignment.person_id == person_id,
            RoleAssignment.role == role,
        )
    ).first()
    if exists:
        raise ValidationError("error.duplicate", field="field.project_role", value=role)
    assignment = RoleAssignment(
        project_id=project_id,
        person_id=person_id,
        role=role,
        reports_to_id=reports_to_id,
        responsibilities=responsibilities,
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        entity="role_assignment",
        entity_id=assignment.id,
        action="create",
        after=audit.snapshot(assignment),
        project_id=project_id,
    )
    return assignment


def team_summary(*, session: Session, project_id: int) -> pd.DataFrame:
    """People per side and role on a project (one row per assignment)."""
    rows = session.exec(
        select(RoleAssignment.role, Person.side, Person.full_name, Person.department)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.project_id == project_id)
    ).all()
    return pd.DataFrame(rows, columns=["role", "side", "full_name", "department"])
