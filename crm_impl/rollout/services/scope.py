"""Scope of a rollout: business goals and their measurements (slide 6), requirements tied to
business processes (slide 6), the integration register (slide 7) and the risk register (slide 8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
from sqlmodel import Session, SQLModel, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import (
    GOAL_DIRECTIONS,
    INTEGRATION_DIRECTIONS,
    INTEGRATION_FREQUENCIES,
    INTEGRATION_METHODS,
    INTEGRATION_STATUSES,
    INTEGRATION_SYSTEMS,
    REQUIREMENT_KINDS,
    REQUIREMENT_STATUSES,
    RISK_STATUSES,
    BusinessGoal,
    BusinessGoalCreate,
    BusinessGoalPublic,
    BusinessGoalUpdate,
    GoalMeasurement,
    GoalMeasurementCreate,
    IntegrationInterface,
    IntegrationInterfaceCreate,
    IntegrationInterfacePublic,
    IntegrationInterfaceUpdate,
    Phase,
    Requirement,
    RequirementCreate,
    RequirementPublic,
    RequirementUpdate,
    Risk,
    RiskCreate,
    RiskPublic,
    RiskUpdate,
    columns,
)
from crm_impl.rollout.services import checks as chk

# The slide-8 (and slide-9) mistakes every new project starts with: (key, probability, impact, slide)
PRESET_RISKS = (
    ("no_management_support", 3, 5, 8),
    ("programmer_as_pm", 2, 4, 8),
    ("unclear_roles", 3, 4, 8),
    ("unfiltered_ideas", 4, 3, 8),
    ("scope_creep", 4, 4, 9),
    ("strategy_change", 2, 5, 9),
)


Row = TypeVar("Row", BusinessGoal, Requirement, IntegrationInterface, Risk)
Check = Callable[[dict[str, Any]], None]


def _refs(session: Session, values: dict[str, Any]) -> None:
    """People and phases a row points to exist."""
    for name, field in (("owner_id", "plan.field.owner"), ("business_owner_id", "plan.field.business_owner")):
        if values.get(name) is not None:
            chk.person(session, values[name], field)
    if values.get("phase_id") is not None:
        writes.get(session, Phase, values["phase_id"], "phase")


def _create(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    model: type[Row],
    entity: str,
    name_col: str,
    fields: chk.Fields[Any],
    data: SQLModel,
    check: Check | None = None,
) -> Row:
    """permission -> validation -> create -> audit, for a row of a project-scoped register."""
    require(actor, "plan.write")
    chk.project(session, project_id)
    values = fields.clean(data.model_dump())
    if check is not None:
        check(values)
    _refs(session, values)
    chk.unique_name(
        session, model, name_col, values[name_col], project_id=project_id, field=f"plan.field.{name_col}"
    )
    row = model(project_id=project_id, **values)
    return writes.create(session=session, actor=actor, row=row, entity=entity, project_id=project_id)


def _update(
    *,
    session: Session,
    actor: Actor,
    model: type[Row],
    row_id: int,
    expected_version: int | None,
    entity: str,
    name_col: str,
    fields: chk.Fields[Any],
    changes: writes.Update,
    check: Check | None = None,
) -> Row:
    """permission -> validation -> versioned update -> audit, for a row of a register."""
    require(actor, "plan.write")
    row = writes.get(session, model, row_id, entity)
    clean = fields.cleaned(changes)
    values = clean.changes()
    _refs(session, values)
    if name_col in values:
        chk.unique_name(
            session,
            model,
            name_col,
            values[name_col],
            project_id=row.project_id,
            field=f"plan.field.{name_col}",
            exclude_id=row.id,
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=clean,
        entity=entity,
        project_id=row.project_id,
        check=check,
    )


# ---------------------------------------------------------------- goals

GOAL_FIELDS = chk.Fields(
    BusinessGoalUpdate,
    {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "kpi": lambda v: validation.text(v, "plan.field.kpi", max_len=200, required=False),
        "unit": lambda v: validation.text(v, "plan.field.unit", max_len=30, required=False),
        "baseline_value": lambda v: chk.number(v, "plan.field.baseline_value"),
        "target_value": lambda v: chk.number(v, "plan.field.target_value"),
        "target_date": lambda v: chk.a_date(v, "plan.field.target_date"),
        "direction": lambda v: validation.choice(v, "plan.field.direction", GOAL_DIRECTIONS),
        "owner_id": lambda v: chk.an_id(v, "plan.field.owner"),
    },
)


def _check_goal(values: dict[str, Any]) -> None:
    up = values["target_value"] > values["baseline_value"]
    down = values["target_value"] < values["baseline_value"]
    if (values["direction"] == "increase" and not up) or (values["direction"] == "decrease" and not down):
        raise ValidationError("error.goal_direction", field="plan.field.target_value")


def create_goal(*, session: Session, actor: Actor, project_id: int, data: BusinessGoalCreate) -> BusinessGoal:
    return _create(
        session=session,
        actor=actor,
        project_id=project_id,
        model=BusinessGoal,
        entity="goal",
        name_col="name",
        fields=GOAL_FIELDS,
        data=data,
        check=_check_goal,
    )


def update_goal(
    *,
    session: Session,
    actor: Actor,
    goal_id: int,
    expected_version: int | None,
    changes: BusinessGoalUpdate,
) -> BusinessGoal:
    return _update(
        session=session,
        actor=actor,
        model=BusinessGoal,
        row_id=goal_id,
        expected_version=expected_version,
        entity="goal",
        name_col="name",
        fields=GOAL_FIELDS,
        changes=changes,
        check=_check_goal,
    )


def add_measurement(
    *, session: Session, actor: Actor, goal_id: int, data: GoalMeasurementCreate
) -> GoalMeasurement:
    require(actor, "plan.write")
    goal = writes.get(session, BusinessGoal, goal_id, "goal")
    day = chk.a_date(data.measured_on, "plan.field.measured_on", required=True) or data.measured_on
    number = chk.number(data.value, "plan.field.value")
    exists = session.exec(
        select(GoalMeasurement.id).where(
            GoalMeasurement.goal_id == goal_id, GoalMeasurement.measured_on == day
        )
    ).first()
    if exists is not None:
        raise ValidationError("error.duplicate", field="plan.field.measured_on", value=str(day))
    row = GoalMeasurement(
        goal_id=goal_id,
        measured_on=day,
        value=number,
        note=validation.text(data.note, "plan.field.note", max_len=200, required=False),
    )
    return writes.create(
        session=session, actor=actor, row=row, entity="goal_measurement", project_id=goal.project_id
    )


def goals_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(BusinessGoal, Person.full_name)
        .join(Person, col(Person.id) == BusinessGoal.owner_id, isouter=True)
        .where(BusinessGoal.project_id == project_id)
        .order_by(col(BusinessGoal.id))
    ).all()
    data = [{**g.model_dump(), "owner": o or ""} for g, o in rows]
    return pd.DataFrame(data, columns=columns(BusinessGoalPublic))


def measurements_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(GoalMeasurement)
        .join(BusinessGoal, col(BusinessGoal.id) == GoalMeasurement.goal_id)
        .where(BusinessGoal.project_id == project_id)
        .order_by(col(GoalMeasurement.goal_id), col(GoalMeasurement.measured_on))
    ).all()
    names = ["id", "goal_id", "measured_on", "value", "note"]
    return pd.DataFrame([{c: getattr(m, c) for c in names} for m in rows], columns=names)


# ---------------------------------------------------------------- requirements


REQUIREMENT_FIELDS = chk.Fields(
    RequirementUpdate,
    {
        "title": lambda v: validation.text(v, "plan.field.title", max_len=200),
        "description": lambda v: validation.text(v, "plan.field.description", max_len=5000, required=False),
        "business_process": lambda v: validation.text(
            v, "plan.field.business_process", max_len=120, required=False
        ),
        "kind": lambda v: validation.choice(v, "plan.field.requirement_kind", REQUIREMENT_KINDS),
        "business_owner_id": lambda v: chk.an_id(v, "plan.field.business_owner"),
        "phase_id": lambda v: chk.an_id(v, "plan.field.phase"),
        "status": lambda v: validation.choice(v, "plan.field.status", REQUIREMENT_STATUSES),
    },
)


def _process_named(values: dict[str, Any]) -> None:
    if "business_process" in values and not values["business_process"]:
        raise ValidationError("error.required", field="plan.field.business_process")


def create_requirement(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    data: RequirementCreate,
    process_required: bool = True,
) -> Requirement:
    """A requirement must name the business process it serves (slide 6); one created from an
    accepted idea may leave it for the analyst (it then counts as not yet tied to a process)."""
    return _create(
        session=session,
        actor=actor,
        project_id=project_id,
        model=Requirement,
        entity="requirement",
        name_col="title",
        fields=REQUIREMENT_FIELDS,
        data=data,
        check=_process_named if process_required else None,
    )


def update_requirement(
    *,
    session: Session,
    actor: Actor,
    requirement_id: int,
    expected_version: int | None,
    changes: RequirementUpdate,
) -> Requirement:
    require(actor, "plan.write")
    _process_named(REQUIREMENT_FIELDS.cleaned(changes).changes())  # may not be cleared once named
    return _update(
        session=session,
        actor=actor,
        model=Requirement,
        row_id=requirement_id,
        expected_version=expected_version,
        entity="requirement",
        name_col="title",
        fields=REQUIREMENT_FIELDS,
        changes=changes,
    )


def requirements_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Requirement, Person.full_name, Phase.name)
        .join(Person, col(Person.id) == Requirement.business_owner_id, isouter=True)
        .join(Phase, col(Phase.id) == Requirement.phase_id, isouter=True)
        .where(Requirement.project_id == project_id)
        .order_by(col(Requirement.id))
    ).all()
    data = [{**r.model_dump(), "owner": o or "", "phase": ph or ""} for r, o, ph in rows]
    return pd.DataFrame(data, columns=columns(RequirementPublic))


# ---------------------------------------------------------------- integrations


INTEGRATION_FIELDS = chk.Fields(
    IntegrationInterfaceUpdate,
    {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "system": lambda v: validation.choice(v, "plan.field.system", INTEGRATION_SYSTEMS),
        "direction": lambda v: validation.choice(v, "plan.field.direction", INTEGRATION_DIRECTIONS),
        "method": lambda v: validation.choice(v, "plan.field.method", INTEGRATION_METHODS),
        "frequency": lambda v: validation.choice(v, "plan.field.frequency", INTEGRATION_FREQUENCIES),
        "owner_id": lambda v: chk.an_id(v, "plan.field.owner"),
        "estimated_cost": lambda v: validation.amount(v, "plan.field.estimated_cost"),
        "status": lambda v: validation.choice(v, "plan.field.status", INTEGRATION_STATUSES),
        "notes": lambda v: validation.text(v, "plan.field.notes", max_len=2000, required=False),
    },
)


def create_integration(
    *, session: Session, actor: Actor, project_id: int, data: IntegrationInterfaceCreate
) -> IntegrationInterface:
    return _create(
        session=session,
        actor=actor,
        project_id=project_id,
        model=IntegrationInterface,
        entity="integration",
        name_col="name",
        fields=INTEGRATION_FIELDS,
        data=data,
    )


def update_integration(
    *,
    session: Session,
    actor: Actor,
    integration_id: int,
    expected_version: int | None,
    changes: IntegrationInterfaceUpdate,
) -> IntegrationInterface:
    return _update(
        session=session,
        actor=actor,
        model=IntegrationInterface,
        row_id=integration_id,
        expected_version=expected_version,
        entity="integration",
        name_col="name",
        fields=INTEGRATION_FIELDS,
        changes=changes,
    )


def integrations_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(IntegrationInterface, Person.full_name)
        .join(Person, col(Person.id) == IntegrationInterface.owner_id, isouter=True)
        .where(IntegrationInterface.project_id == project_id)
        .order_by(col(IntegrationInterface.id))
    ).all()
    data = [{**i.model_dump(), "owner": o or ""} for i, o in rows]
    df = pd.DataFrame(data, columns=columns(IntegrationInterfacePublic))
    df["estimated_cost"] = df["estimated_cost"].astype(float)
    return df


# ---------------------------------------------------------------- risks


RISK_FIELDS = chk.Fields(
    RiskUpdate,
    {
        "title": lambda v: validation.text(v, "plan.field.title", max_len=200),
        "key": lambda v: None if chk.is_blank(v) else str(v),  # create only: a slide-8 preset
        "description": lambda v: validation.text(v, "plan.field.description", max_len=5000, required=False),
        "probability": lambda v: chk.integer(v, "plan.field.probability", low=1, high=5),
        "impact": lambda v: chk.integer(v, "plan.field.impact", low=1, high=5),
        "owner_id": lambda v: chk.an_id(v, "plan.field.owner"),
        "mitigation": lambda v: validation.text(v, "plan.field.mitigation", max_len=5000, required=False),
        "status": lambda v: validation.choice(v, "plan.field.status", RISK_STATUSES),
        "slide": lambda v: None if chk.is_blank(v) else chk.integer(v, "plan.field.slide", low=1, high=11),
    },
)


def create_risk(*, session: Session, actor: Actor, project_id: int, data: RiskCreate) -> Risk:
    return _create(
        session=session,
        actor=actor,
        project_id=project_id,
        model=Risk,
        entity="risk",
        name_col="title",
        fields=RISK_FIELDS,
        data=data,
    )


def update_risk(
    *, session: Session, actor: Actor, risk_id: int, expected_version: int | None, changes: RiskUpdate
) -> Risk:
    return _update(
        session=session,
        actor=actor,
        model=Risk,
        row_id=risk_id,
        expected_version=expected_version,
        entity="risk",
        name_col="title",
        fields=RISK_FIELDS,
        changes=changes,
    )


def add_preset_risks(*, session: Session, actor: Actor, project_id: int) -> list[Risk]:
    """The slide-8 mistakes as open risks (titles in English; screens show them translated)."""
    from crm_impl.core.i18n import catalogue

    english = catalogue("en")
    created = []
    for key, probability, impact, slide in PRESET_RISKS:
        created.append(
            create_risk(
                session=session,
                actor=actor,
                project_id=project_id,
                data=RiskCreate(
                    key=key,
                    title=english[f"plan.risk_preset.{key}"],
                    mitigation=english[f"plan.risk_mitigation.{key}"],
                    probability=probability,
                    impact=impact,
                    slide=slide,
                ),
            )
        )
    return created


def risks_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Risk, Person.full_name)
        .join(Person, col(Person.id) == Risk.owner_id, isouter=True)
        .where(Risk.project_id == project_id)
        .order_by(col(Risk.id))
    ).all()
    data = [{**r.model_dump(), "owner": o or ""} for r, o in rows]
    return pd.DataFrame(data, columns=columns(RiskPublic))
