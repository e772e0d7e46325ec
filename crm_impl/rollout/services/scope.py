"""Scope of a rollout: business goals and their measurements (slide 6), requirements tied to
business processes (slide 6), the integration register (slide 7) and the risk register (slide 8)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlmodel import Session, SQLModel, select

from crm_impl.core import audit, validation
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
    GoalMeasurement,
    IntegrationInterface,
    Phase,
    Requirement,
    Risk,
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


def _phase(session: Session, value: Any) -> int | None:
    if chk.is_blank(value):
        return None
    return chk.get(session, Phase, int(value), "phase").id


def _create(session: Session, actor: Actor, row: SQLModel, entity: str, project_id: int) -> None:
    session.add(row)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=row.id,  # type: ignore[attr-defined]
        action="create",
        after=audit.snapshot(row),
        project_id=project_id,
    )


def _update(
    session: Session,
    actor: Actor,
    row: Any,
    entity: str,
    values: dict[str, Any],
    keys: list[str],
) -> None:
    before = audit.snapshot(row)
    chk.apply(row, values, keys)
    session.add(row)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=row.id,
        action="update",
        before=before,
        after=audit.snapshot(row),
        project_id=row.project_id,
    )


def _write(
    *,
    session: Session,
    actor: Actor,
    model: type[SQLModel],
    entity: str,
    name_col: str,
    cleaners: dict[str, Any],
    check: Any,
    project_id: int | None = None,
    row_id: int | None = None,
    expected_version: int | None = None,
    changes: dict[str, Any],
) -> Any:
    """Create (row_id None) or update one row of a project-scoped register."""
    require(actor, "plan.write")
    if row_id is None:
        chk.project(session, int(project_id))  # type: ignore[arg-type]
        row = model(project_id=project_id, **{name_col: ""})
    else:
        row = chk.get(session, model, row_id, entity)
        validation.expect_version(row.version, expected_version)
    values = chk.merged(row, changes, cleaners)
    check(values)
    if row_id is None or name_col in changes:
        chk.unique_name(
            session,
            model,
            name_col,
            values[name_col],
            project_id=row.project_id,
            field=f"plan.field.{name_col}",
            exclude_id=row_id,
        )
    if row_id is None:
        chk.apply(row, values, list(changes))
        _create(session, actor, row, entity, row.project_id)
    else:
        _update(session, actor, row, entity, values, list(changes))
    return row


def _no_check(_values: dict[str, Any]) -> None:
    return None


# ---------------------------------------------------------------- goals


def _goal_cleaners(session: Session) -> dict[str, Any]:
    return {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "kpi": lambda v: validation.text(v, "plan.field.kpi", max_len=200, required=False),
        "unit": lambda v: validation.text(v, "plan.field.unit", max_len=30, required=False),
        "baseline_value": lambda v: chk.number(v, "plan.field.baseline_value"),
        "target_value": lambda v: chk.number(v, "plan.field.target_value"),
        "target_date": lambda v: chk.a_date(v, "plan.field.target_date"),
        "direction": lambda v: validation.choice(v, "plan.field.direction", GOAL_DIRECTIONS),
        "owner_id": lambda v: chk.person(session, v, "plan.field.owner"),
    }


def _check_goal(values: dict[str, Any]) -> None:
    up = values["target_value"] > values["baseline_value"]
    down = values["target_value"] < values["baseline_value"]
    if (values["direction"] == "increase" and not up) or (values["direction"] == "decrease" and not down):
        raise ValidationError("error.goal_direction", field="plan.field.target_value")


def create_goal(*, session: Session, actor: Actor, project_id: int, **changes: Any) -> BusinessGoal:
    return _write(
        session=session,
        actor=actor,
        model=BusinessGoal,
        entity="goal",
        name_col="name",
        cleaners=_goal_cleaners(session),
        check=_check_goal,
        project_id=project_id,
        changes={"direction": "increase", **changes},
    )


def update_goal(
    *, session: Session, actor: Actor, goal_id: int, expected_version: int | None, **changes: Any
) -> BusinessGoal:
    return _write(
        session=session,
        actor=actor,
        model=BusinessGoal,
        entity="goal",
        name_col="name",
        cleaners=_goal_cleaners(session),
        check=_check_goal,
        row_id=goal_id,
        expected_version=expected_version,
        changes=changes,
    )


def add_measurement(
    *, session: Session, actor: Actor, goal_id: int, measured_on: Any, value: Any, note: str = ""
) -> GoalMeasurement:
    require(actor, "plan.write")
    goal = chk.get(session, BusinessGoal, goal_id, "goal")
    day = chk.a_date(measured_on, "plan.field.measured_on", required=True)
    number = chk.number(value, "plan.field.value")
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
        note=validation.text(note, "plan.field.note", max_len=200, required=False),
    )
    _create(session, actor, row, "goal_measurement", goal.project_id)
    return row


def goals_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(BusinessGoal, Person.full_name)
        .join(Person, Person.id == BusinessGoal.owner_id, isouter=True)
        .where(BusinessGoal.project_id == project_id)
        .order_by(BusinessGoal.id)
    ).all()
    columns = [
        "id",
        "version",
        "name",
        "kpi",
        "unit",
        "baseline_value",
        "target_value",
        "target_date",
        "direction",
        "owner_id",
    ]
    data = [{**{c: getattr(g, c) for c in columns}, "owner": o or ""} for g, o in rows]
    return pd.DataFrame(data, columns=[*columns, "owner"])


def measurements_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(GoalMeasurement)
        .join(BusinessGoal, BusinessGoal.id == GoalMeasurement.goal_id)
        .where(BusinessGoal.project_id == project_id)
        .order_by(GoalMeasurement.goal_id, GoalMeasurement.measured_on)
    ).all()
    columns = ["id", "goal_id", "measured_on", "value", "note"]
    return pd.DataFrame([{c: getattr(m, c) for c in columns} for m in rows], columns=columns)


# ---------------------------------------------------------------- requirements


def _requirement_cleaners(session: Session, *, process_required: bool = True) -> dict[str, Any]:
    return {
        "title": lambda v: validation.text(v, "plan.field.title", max_len=200),
        "description": lambda v: validation.text(v, "plan.field.description", max_len=5000, required=False),
        "business_process": lambda v: validation.text(
            v, "plan.field.business_process", max_len=120, required=process_required
        ),
        "kind": lambda v: validation.choice(v, "plan.field.requirement_kind", REQUIREMENT_KINDS),
        "business_owner_id": lambda v: chk.person(session, v, "plan.field.business_owner"),
        "phase_id": lambda v: _phase(session, v),
        "status": lambda v: validation.choice(v, "plan.field.status", REQUIREMENT_STATUSES),
    }


def create_requirement(
    *, session: Session, actor: Actor, project_id: int, process_required: bool = True, **changes: Any
) -> Requirement:
    """A requirement must name the business process it serves (slide 6); one created from an
    accepted idea may leave it for the analyst (it then counts as not yet tied to a process)."""
    return _write(
        session=session,
        actor=actor,
        model=Requirement,
        entity="requirement",
        name_col="title",
        cleaners=_requirement_cleaners(session, process_required=process_required),
        check=_no_check,
        project_id=project_id,
        changes={"kind": "core", "status": "proposed", "business_process": "", **changes},
    )


def update_requirement(
    *, session: Session, actor: Actor, requirement_id: int, expected_version: int | None, **changes: Any
) -> Requirement:
    return _write(
        session=session,
        actor=actor,
        model=Requirement,
        entity="requirement",
        name_col="title",
        cleaners=_requirement_cleaners(session),
        check=_no_check,
        row_id=requirement_id,
        expected_version=expected_version,
        changes=changes,
    )


def requirements_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Requirement, Person.full_name, Phase.name)
        .join(Person, Person.id == Requirement.business_owner_id, isouter=True)
        .join(Phase, Phase.id == Requirement.phase_id, isouter=True)
        .where(Requirement.project_id == project_id)
        .order_by(Requirement.id)
    ).all()
    columns = [
        "id",
        "version",
        "title",
        "business_process",
        "kind",
        "status",
        "business_owner_id",
        "phase_id",
        "description",
    ]
    data = [{**{c: getattr(r, c) for c in columns}, "owner": o or "", "phase": ph or ""} for r, o, ph in rows]
    return pd.DataFrame(data, columns=[*columns, "owner", "phase"])


# ---------------------------------------------------------------- integrations


def _integration_cleaners(session: Session) -> dict[str, Any]:
    return {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "system": lambda v: validation.choice(v, "plan.field.system", INTEGRATION_SYSTEMS),
        "direction": lambda v: validation.choice(v, "plan.field.direction", INTEGRATION_DIRECTIONS),
        "method": lambda v: validation.choice(v, "plan.field.method", INTEGRATION_METHODS),
        "frequency": lambda v: validation.choice(v, "plan.field.frequency", INTEGRATION_FREQUENCIES),
        "owner_id": lambda v: chk.person(session, v, "plan.field.owner"),
        "estimated_cost": lambda v: validation.amount(v, "plan.field.estimated_cost"),
        "status": lambda v: validation.choice(v, "plan.field.status", INTEGRATION_STATUSES),
        "notes": lambda v: validation.text(v, "plan.field.notes", max_len=2000, required=False),
    }


def create_integration(
    *, session: Session, actor: Actor, project_id: int, **changes: Any
) -> IntegrationInterface:
    defaults = {
        "system": "erp",
        "direction": "both",
        "method": "api",
        "frequency": "daily",
        "status": "planned",
    }
    return _write(
        session=session,
        actor=actor,
        model=IntegrationInterface,
        entity="integration",
        name_col="name",
        cleaners=_integration_cleaners(session),
        check=_no_check,
        project_id=project_id,
        changes={**defaults, **changes},
    )


def update_integration(
    *, session: Session, actor: Actor, integration_id: int, expected_version: int | None, **changes: Any
) -> IntegrationInterface:
    return _write(
        session=session,
        actor=actor,
        model=IntegrationInterface,
        entity="integration",
        name_col="name",
        cleaners=_integration_cleaners(session),
        check=_no_check,
        row_id=integration_id,
        expected_version=expected_version,
        changes=changes,
    )


def integrations_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(IntegrationInterface, Person.full_name)
        .join(Person, Person.id == IntegrationInterface.owner_id, isouter=True)
        .where(IntegrationInterface.project_id == project_id)
        .order_by(IntegrationInterface.id)
    ).all()
    columns = [
        "id",
        "version",
        "name",
        "system",
        "direction",
        "method",
        "frequency",
        "owner_id",
        "estimated_cost",
        "status",
        "notes",
    ]
    data = [{**{c: getattr(i, c) for c in columns}, "owner": o or ""} for i, o in rows]
    df = pd.DataFrame(data, columns=[*columns, "owner"])
    df["estimated_cost"] = df["estimated_cost"].astype(float)
    return df


# ---------------------------------------------------------------- risks


def _risk_cleaners(session: Session) -> dict[str, Any]:
    return {
        "title": lambda v: validation.text(v, "plan.field.title", max_len=200),
        "key": lambda v: None if chk.is_blank(v) else str(v),
        "description": lambda v: validation.text(v, "plan.field.description", max_len=5000, required=False),
        "probability": lambda v: chk.integer(v, "plan.field.probability", low=1, high=5),
        "impact": lambda v: chk.integer(v, "plan.field.impact", low=1, high=5),
        "owner_id": lambda v: chk.person(session, v, "plan.field.owner"),
        "mitigation": lambda v: validation.text(v, "plan.field.mitigation", max_len=5000, required=False),
        "status": lambda v: validation.choice(v, "plan.field.status", RISK_STATUSES),
        "slide": lambda v: None if chk.is_blank(v) else chk.integer(v, "plan.field.slide", low=1, high=11),
    }


def create_risk(*, session: Session, actor: Actor, project_id: int, **changes: Any) -> Risk:
    return _write(
        session=session,
        actor=actor,
        model=Risk,
        entity="risk",
        name_col="title",
        cleaners=_risk_cleaners(session),
        check=_no_check,
        project_id=project_id,
        changes={"status": "open", "probability": 3, "impact": 3, **changes},
    )


def update_risk(
    *, session: Session, actor: Actor, risk_id: int, expected_version: int | None, **changes: Any
) -> Risk:
    return _write(
        session=session,
        actor=actor,
        model=Risk,
        entity="risk",
        name_col="title",
        cleaners=_risk_cleaners(session),
        check=_no_check,
        row_id=risk_id,
        expected_version=expected_version,
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
                key=key,
                title=english[f"plan.risk_preset.{key}"],
                mitigation=english[f"plan.risk_mitigation.{key}"],
                probability=probability,
                impact=impact,
                slide=slide,
            )
        )
    return created


def risks_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Risk, Person.full_name)
        .join(Person, Person.id == Risk.owner_id, isouter=True)
        .where(Risk.project_id == project_id)
        .order_by(Risk.id)
    ).all()
    columns = [
        "id",
        "version",
        "key",
        "title",
        "description",
        "probability",
        "impact",
        "owner_id",
        "mitigation",
        "status",
        "slide",
    ]
    data = [{**{c: getattr(r, c) for c in columns}, "owner": o or ""} for r, o in rows]
    return pd.DataFrame(data, columns=[*columns, "owner"])
