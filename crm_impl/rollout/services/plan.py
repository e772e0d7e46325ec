"""The schedule of a rollout: project dates and scope baseline, phases, milestones with gate
criteria, named baselines, the RACI grid, and plan thresholds. Writes: permission → validation →
write → audit, in the caller's transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ConflictError, ValidationError
from crm_impl.core.models import Person, Project
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import (
    PHASE_KINDS,
    PHASE_STATUSES,
    RACI_LETTERS,
    BaselineItem,
    Milestone,
    Phase,
    PhaseBaseline,
    PlanSettings,
    RaciEntry,
)
from crm_impl.rollout.services import checks as chk

# Default phases of a new rollout (slide 10's budget stages plus training), with weeks each.
DEFAULT_PHASES = (
    ("analysis", 6),
    ("programming", 10),
    ("testing", 6),
    ("deployment", 3),
    ("training", 4),
    ("modifications", 6),
    ("maintenance", 12),
)


# ---------------------------------------------------------------- project and settings


def get_settings(*, session: Session, project_id: int) -> PlanSettings:
    """The project's thresholds (defaults when never saved; not added to the session)."""
    return session.get(PlanSettings, project_id) or PlanSettings(project_id=project_id)


def update_project_plan(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    expected_version: int | None,
    start_date: Any = None,
    go_live_date: Any = None,
    baseline_effort_days: Any = 0,
    baseline_cost: Any = 0,
    scope_creep_limit: Any = 0.10,
    changes_per_month_limit: Any = 3,
) -> Project:
    """Go-live date, scope baseline (effort days, cost) and the plan thresholds of a project."""
    require(actor, "project.manage")
    project = chk.project(session, project_id)
    validation.expect_version(project.version, expected_version)
    start = chk.a_date(start_date, "plan.field.start_date")
    go_live = chk.a_date(go_live_date, "field.go_live_date")
    validation.date_order(start, go_live, "field.go_live_date")
    effort = validation.amount(baseline_effort_days, "field.baseline_effort")
    cost = validation.amount(baseline_cost, "field.baseline_cost")
    limit = chk.number(scope_creep_limit, "plan.field.scope_creep_limit")
    if not 0 <= limit <= 10:
        raise ValidationError("error.out_of_range", field="plan.field.scope_creep_limit", low=0, high=10)
    per_month = chk.integer(changes_per_month_limit, "plan.field.changes_per_month_limit", low=0, high=1000)
    before = audit.snapshot(project)
    project.start_date, project.go_live_date = start, go_live
    project.baseline_effort_days, project.baseline_cost = effort, cost
    session.add(project)
    settings = session.get(PlanSettings, project_id)
    if settings is None:
        settings = PlanSettings(project_id=project_id)
    settings.scope_creep_limit, settings.changes_per_month_limit = limit, per_month
    session.add(settings)
    chk.flush(session)
    after = {**audit.snapshot(project), "scope_creep_limit": limit, "changes_per_month_limit": per_month}
    audit.record(
        session=session,
        actor=actor,
        entity="project",
        entity_id=project.id,
        action="update",
        before=before,
        after=after,
        project_id=project.id,
    )
    return project


# ---------------------------------------------------------------- phases


def _phase_cleaners(session: Session) -> dict[str, Any]:
    return {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "kind": lambda v: validation.choice(v, "plan.field.phase_kind", PHASE_KINDS),
        "position": lambda v: chk.integer(v, "plan.field.position", low=0),
        "planned_start": lambda v: chk.a_date(v, "plan.field.planned_start", required=True),
        "planned_end": lambda v: chk.a_date(v, "plan.field.planned_end", required=True),
        "actual_start": lambda v: chk.a_date(v, "plan.field.actual_start"),
        "actual_end": lambda v: chk.a_date(v, "plan.field.actual_end"),
        "percent_complete": lambda v: chk.integer(v, "plan.field.percent_complete", low=0, high=100),
        "status": lambda v: validation.choice(v, "plan.field.status", PHASE_STATUSES),
        "owner_id": lambda v: chk.person(session, v, "plan.field.owner"),
    }


def _check_phase(values: dict[str, Any]) -> None:
    validation.date_order(values["planned_start"], values["planned_end"], "plan.field.planned_end")
    validation.date_order(values["actual_start"], values["actual_end"], "plan.field.actual_end")
    if values["actual_end"] and not values["actual_start"]:
        raise ValidationError("error.required", field="plan.field.actual_start")


def create_phase(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    name: str,
    planned_start: Any,
    planned_end: Any,
    kind: str = "other",
    **rest: Any,
) -> Phase:
    require(actor, "plan.write")
    chk.project(session, project_id)
    position = rest.pop("position", None)
    if position is None:
        position = len(session.exec(select(Phase.id).where(Phase.project_id == project_id)).all())
    phase = Phase(project_id=project_id, name="", planned_start=date.today(), planned_end=date.today())
    changes = {
        "name": name,
        "kind": kind,
        "planned_start": planned_start,
        "planned_end": planned_end,
        "position": position,
        **rest,
    }
    values = chk.merged(phase, changes, _phase_cleaners(session))
    _check_phase(values)
    chk.unique_name(session, Phase, "name", values["name"], project_id=project_id, field="field.name")
    chk.apply(phase, values, list(_phase_cleaners(session)))
    session.add(phase)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="phase",
        entity_id=phase.id,
        action="create",
        after=audit.snapshot(phase),
        project_id=project_id,
    )
    return phase


def update_phase(
    *, session: Session, actor: Actor, phase_id: int, expected_version: int | None, **changes: Any
) -> Phase:
    require(actor, "plan.write")
    phase = chk.get(session, Phase, phase_id, "phase")
    validation.expect_version(phase.version, expected_version)
    values = chk.merged(phase, changes, _phase_cleaners(session))
    _check_phase(values)
    if "name" in changes:
        chk.unique_name(
            session,
            Phase,
            "name",
            values["name"],
            project_id=phase.project_id,
            field="field.name",
            exclude_id=phase.id,
        )
    if values["percent_complete"] == 100 and "status" not in changes:
        values["status"] = "done"
    before = audit.snapshot(phase)
    chk.apply(phase, values, [*changes, "status"])
    session.add(phase)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="phase",
        entity_id=phase.id,
        action="update",
        before=before,
        after=audit.snapshot(phase),
        project_id=phase.project_id,
    )
    return phase


def add_default_phases(*, session: Session, actor: Actor, project_id: int, start: Any = None) -> list[Phase]:
    """The seven default phases back to back from `start` (the project start, else today)."""
    require(actor, "plan.write")
    project = chk.project(session, project_id)
    day = chk.a_date(start, "plan.field.planned_start") or project.start_date or date.today()
    from crm_impl.core.i18n import t

    created = []
    for kind, weeks in DEFAULT_PHASES:
        end = day + timedelta(weeks=weeks) - timedelta(days=1)
        name = t(f"plan.phase_kind.{kind}")
        exists = session.exec(select(Phase.id).where(Phase.project_id == project_id, Phase.name == name))
        if exists.first() is None:
            created.append(
                create_phase(
                    session=session,
                    actor=actor,
                    project_id=project_id,
                    name=name,
                    kind=kind,
                    planned_start=day,
                    planned_end=end,
                )
            )
        day = end + timedelta(days=1)
    return created


def phases_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Phase, Person.full_name)
        .join(Person, Person.id == Phase.owner_id, isouter=True)
        .where(Phase.project_id == project_id)
        .order_by(Phase.position, Phase.id)
    ).all()
    columns = [
        "id",
        "version",
        "position",
        "kind",
        "name",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "percent_complete",
        "status",
        "owner_id",
    ]
    data = [{**{c: getattr(p, c) for c in columns}, "owner": owner or ""} for p, owner in rows]
    return pd.DataFrame(data, columns=[*columns, "owner"])


# ---------------------------------------------------------------- milestones


def _criteria(value: Any) -> list[dict[str, Any]]:
    """Gate criteria as [{"text", "done"}]; plain text gives one open criterion per line."""
    if chk.is_blank(value):
        return []
    if isinstance(value, str):
        items = [{"text": line.strip(), "done": False} for line in value.splitlines() if line.strip()]
    else:
        items = [{"text": str(i.get("text", "")).strip(), "done": bool(i.get("done"))} for i in value]
    if any(not i["text"] or len(i["text"]) > 200 for i in items):
        raise ValidationError("error.gate_criterion", field="plan.field.gate_criteria")
    return items


def _milestone_cleaners(session: Session) -> dict[str, Any]:
    return {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "phase_id": lambda v: None if chk.is_blank(v) else chk.get(session, Phase, int(v), "phase").id,
        "due_date": lambda v: chk.a_date(v, "plan.field.due_date", required=True),
        "done_date": lambda v: chk.a_date(v, "plan.field.done_date"),
        "gate_criteria": _criteria,
    }


def _check_milestone(values: dict[str, Any]) -> None:
    if values["done_date"] and any(not c["done"] for c in values["gate_criteria"]):
        raise ValidationError("error.gate_open", field="plan.field.done_date")


def create_milestone(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    name: str,
    due_date: Any,
    phase_id: int | None = None,
    gate_criteria: Any = None,
    done_date: Any = None,
) -> Milestone:
    require(actor, "plan.write")
    chk.project(session, project_id)
    milestone = Milestone(project_id=project_id, name="", due_date=date.today())
    changes = {
        "name": name,
        "due_date": due_date,
        "phase_id": phase_id,
        "gate_criteria": gate_criteria,
        "done_date": done_date,
    }
    values = chk.merged(milestone, changes, _milestone_cleaners(session))
    _check_milestone(values)
    chk.unique_name(session, Milestone, "name", values["name"], project_id=project_id, field="field.name")
    chk.apply(milestone, values, list(changes))
    session.add(milestone)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="milestone",
        entity_id=milestone.id,
        action="create",
        after=audit.snapshot(milestone),
        project_id=project_id,
    )
    return milestone


def update_milestone(
    *, session: Session, actor: Actor, milestone_id: int, expected_version: int | None, **changes: Any
) -> Milestone:
    require(actor, "plan.write")
    milestone = chk.get(session, Milestone, milestone_id, "milestone")
    validation.expect_version(milestone.version, expected_version)
    values = chk.merged(milestone, changes, _milestone_cleaners(session))
    _check_milestone(values)
    if "name" in changes:
        chk.unique_name(
            session,
            Milestone,
            "name",
            values["name"],
            project_id=milestone.project_id,
            field="field.name",
            exclude_id=milestone.id,
        )
    before = audit.snapshot(milestone)
    chk.apply(milestone, values, list(changes))
    session.add(milestone)
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="milestone",
        entity_id=milestone.id,
        action="update",
        before=before,
        after=audit.snapshot(milestone),
        project_id=milestone.project_id,
    )
    return milestone


def milestones_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Milestone).where(Milestone.project_id == project_id).order_by(Milestone.due_date)
    ).all()
    columns = ["id", "version", "name", "phase_id", "due_date", "done_date", "gate_criteria"]
    df = pd.DataFrame([{c: getattr(m, c) for c in columns} for m in rows], columns=columns)
    df["criteria_done"] = df["gate_criteria"].map(lambda cs: sum(bool(c["done"]) for c in cs or []))
    df["criteria_total"] = df["gate_criteria"].map(lambda cs: len(cs or []))
    return df


# ---------------------------------------------------------------- baselines


def save_baseline(*, session: Session, actor: Actor, project_id: int, name: str) -> PhaseBaseline:
    """Freeze today's planned dates of every phase and milestone under a name."""
    require(actor, "plan.write")
    chk.project(session, project_id)
    clean = validation.text(name, "field.name", max_len=80)
    chk.unique_name(session, PhaseBaseline, "name", clean, project_id=project_id, field="field.name")
    phases = session.exec(select(Phase).where(Phase.project_id == project_id)).all()
    if not phases:
        raise ValidationError("error.no_phases")
    baseline = PhaseBaseline(project_id=project_id, name=clean, created_by=actor.username)
    session.add(baseline)
    chk.flush(session)
    milestones = session.exec(select(Milestone).where(Milestone.project_id == project_id)).all()
    for p in phases:
        session.add(
            BaselineItem(
                baseline_id=baseline.id,
                kind="phase",
                ref_id=p.id,
                name=p.name,
                start=p.planned_start,
                end=p.planned_end,
            )
        )
    for m in milestones:
        session.add(
            BaselineItem(baseline_id=baseline.id, kind="milestone", ref_id=m.id, name=m.name, end=m.due_date)
        )
    chk.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="baseline",
        entity_id=baseline.id,
        action="create",
        after={"name": clean, "phases": len(phases), "milestones": len(milestones)},
        project_id=project_id,
    )
    return baseline


def list_baselines(*, session: Session, project_id: int) -> list[PhaseBaseline]:
    return list(
        session.exec(
            select(PhaseBaseline)
            .where(PhaseBaseline.project_id == project_id)
            .order_by(PhaseBaseline.created_at, PhaseBaseline.id)
        ).all()
    )


ITEM_COLUMNS = ["kind", "ref_id", "name", "start", "end"]


def baseline_items(*, session: Session, baseline_id: int) -> pd.DataFrame:
    rows = session.exec(select(BaselineItem).where(BaselineItem.baseline_id == baseline_id)).all()
    return pd.DataFrame([{c: getattr(r, c) for c in ITEM_COLUMNS} for r in rows], columns=ITEM_COLUMNS)


def current_items(*, session: Session, project_id: int) -> pd.DataFrame:
    """The plan as it stands now, in the same shape as a baseline (for 'baseline vs now')."""
    phases = session.exec(select(Phase).where(Phase.project_id == project_id)).all()
    milestones = session.exec(select(Milestone).where(Milestone.project_id == project_id)).all()
    rows = [
        {"kind": "phase", "ref_id": p.id, "name": p.name, "start": p.planned_start, "end": p.planned_end}
        for p in phases
    ] + [
        {"kind": "milestone", "ref_id": m.id, "name": m.name, "start": None, "end": m.due_date}
        for m in milestones
    ]
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


# ---------------------------------------------------------------- RACI


def raci_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(select(RaciEntry).where(RaciEntry.project_id == project_id)).all()
    columns = ["id", "phase_id", "person_id", "letter"]
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def save_raci(*, session: Session, actor: Actor, project_id: int, cells: list[dict[str, Any]]) -> int:
    """Apply grid edits: each cell {phase_id, person_id, letter (R/A/C/I or empty), was}. `was` is the
    letter the editor was loaded with; a different letter in the database is a conflict."""
    require(actor, "plan.write")
    chk.project(session, project_id)
    existing = {
        (e.phase_id, e.person_id): e
        for e in session.exec(select(RaciEntry).where(RaciEntry.project_id == project_id)).all()
    }
    phase_ids = set(session.exec(select(Phase.id).where(Phase.project_id == project_id)).all())
    letters = {key: e.letter for key, e in existing.items()}
    for cell in cells:
        key = (
            int(cell["phase_id"]),
            chk.person(session, cell["person_id"], "plan.field.person", required=True),
        )
        if key[0] not in phase_ids:
            raise ValidationError("error.choice", field="plan.field.phase", value=key[0])
        letter = "" if chk.is_blank(cell.get("letter")) else str(cell["letter"]).strip().upper()
        if letter:
            validation.choice(letter, "plan.field.raci", RACI_LETTERS)
        was = "" if chk.is_blank(cell.get("was")) else str(cell["was"]).strip().upper()
        if letters.get(key, "") != was:
            raise ConflictError()
        letters[key] = letter
    accountable = pd.Series([k[0] for k, v in letters.items() if v == "A"], dtype="int64")
    if (accountable.value_counts() > 1).any():
        raise ValidationError("error.raci_one_accountable", field="plan.field.raci")
    changed = 0
    for key, letter in letters.items():
        entry = existing.get(key)
        if entry is None and letter:
            entry = RaciEntry(project_id=project_id, phase_id=key[0], person_id=key[1], letter=letter)
            session.add(entry)
        elif entry is not None and not letter:
            session.delete(entry)
        elif entry is not None and entry.letter != letter:
            entry.letter = letter
            session.add(entry)
        else:
            continue
        changed += 1
        audit.record(
            session=session,
            actor=actor,
            entity="raci",
            entity_id=f"{key[0]}:{key[1]}",
            action="update",
            before={"letter": existing[key].letter if key in existing else ""},
            after={"letter": letter},
            project_id=project_id,
        )
    chk.flush(session)
    return changed


# ---------------------------------------------------------------- new projects


def on_project_created(*, session: Session, actor: Actor, project: Project) -> None:
    """A new project starts with its plan settings and the slide-8 mistakes as risks."""
    from crm_impl.rollout.services import scope

    session.add(PlanSettings(project_id=project.id))
    scope.add_preset_risks(session=session, actor=actor, project_id=project.id)
