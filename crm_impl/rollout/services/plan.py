"""The schedule of a rollout: project dates and scope baseline, phases, milestones with gate
criteria, named baselines, the RACI grid, and plan thresholds. Writes: permission → validation →
write → audit (through crm_impl.core.writes), in the caller's transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ConflictError, ValidationError
from crm_impl.core.models import Person, Project, ProjectUpdate
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import (
    PHASE_KINDS,
    PHASE_STATUSES,
    RACI_LETTERS,
    BaselineItem,
    Milestone,
    MilestoneCreate,
    MilestonePublic,
    MilestoneUpdate,
    Phase,
    PhaseBaseline,
    PhaseCreate,
    PhasePublic,
    PhaseUpdate,
    PlanSettings,
    PlanSettingsUpdate,
    RaciCell,
    RaciEntry,
    RaciUpdate,
    columns,
)
from crm_impl.rollout.services import checks as chk
from crm_impl.rollout.services import projects

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

SETTINGS_FIELDS = chk.Fields(
    PlanSettingsUpdate,
    {
        "scope_creep_limit": lambda v: _limit(chk.number(v, "plan.field.scope_creep_limit")),
        "changes_per_month_limit": lambda v: chk.integer(
            v, "plan.field.changes_per_month_limit", low=0, high=1000
        ),
    },
)


def _limit(value: float) -> float:
    if not 0 <= value <= 10:
        raise ValidationError("error.out_of_range", field="plan.field.scope_creep_limit", low=0, high=10)
    return value


def get_settings(*, session: Session, project_id: int) -> PlanSettings:
    """The project's thresholds (defaults when never saved; not added to the session)."""
    return session.get(PlanSettings, project_id) or PlanSettings(project_id=project_id)


def update_project_plan(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    expected_version: int | None,
    changes: ProjectUpdate,
    settings: PlanSettingsUpdate | None = None,
) -> Project:
    """Go-live date, scope baseline (effort days, cost) and the plan thresholds of a project,
    in one transaction (the project's version guards both)."""
    require(actor, "project.manage")
    project = chk.project(session, project_id)
    clean = projects.PROJECT_FIELDS.cleaned(changes)
    clean_settings = SETTINGS_FIELDS.cleaned(settings or PlanSettingsUpdate())
    if clean.name is not None:
        projects.unique_project_name(session, clean.name, exclude_id=project.id)
    writes.update_versioned(
        session=session,
        actor=actor,
        row=project,
        expected_version=expected_version,
        changes=clean,
        entity="project",
        project_id=project.id,
        check=projects.check_project,
    )
    row = session.get(PlanSettings, project_id)
    if row is None:
        writes.create(
            session=session,
            actor=actor,
            row=PlanSettings(project_id=project_id, **clean_settings.changes()),
            entity="plan_settings",
            project_id=project_id,
        )
    elif clean_settings.changes():
        writes.update_versioned(
            session=session,
            actor=actor,
            row=row,
            expected_version=None,
            changes=clean_settings,
            entity="plan_settings",
            project_id=project_id,
        )
    return project


# ---------------------------------------------------------------- phases

PHASE_FIELDS = chk.Fields(
    PhaseUpdate,
    {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "kind": lambda v: validation.choice(v, "plan.field.phase_kind", PHASE_KINDS),
        "position": lambda v: None if chk.is_blank(v) else chk.integer(v, "plan.field.position", low=0),
        "planned_start": lambda v: chk.a_date(v, "plan.field.planned_start", required=True),
        "planned_end": lambda v: chk.a_date(v, "plan.field.planned_end", required=True),
        "actual_start": lambda v: chk.a_date(v, "plan.field.actual_start"),
        "actual_end": lambda v: chk.a_date(v, "plan.field.actual_end"),
        "percent_complete": lambda v: chk.integer(v, "plan.field.percent_complete", low=0, high=100),
        "status": lambda v: validation.choice(v, "plan.field.status", PHASE_STATUSES),
        "owner_id": lambda v: chk.an_id(v, "plan.field.owner"),
    },
)


def _check_phase(values: dict[str, Any]) -> None:
    validation.date_order(values["planned_start"], values["planned_end"], "plan.field.planned_end")
    validation.date_order(values["actual_start"], values["actual_end"], "plan.field.actual_end")
    if values["actual_end"] and not values["actual_start"]:
        raise ValidationError("error.required", field="plan.field.actual_start")


def _phase_refs(session: Session, values: dict[str, Any]) -> None:
    if values.get("owner_id") is not None:
        chk.person(session, values["owner_id"], "plan.field.owner")


def create_phase(*, session: Session, actor: Actor, project_id: int, data: PhaseCreate) -> Phase:
    require(actor, "plan.write")
    chk.project(session, project_id)
    values = PHASE_FIELDS.clean(data.model_dump())
    if values["position"] is None:
        values["position"] = len(session.exec(select(Phase.id).where(Phase.project_id == project_id)).all())
    _check_phase(values)
    _phase_refs(session, values)
    chk.unique_name(session, Phase, "name", values["name"], project_id=project_id, field="field.name")
    return writes.create(
        session=session,
        actor=actor,
        row=Phase(project_id=project_id, **values),
        entity="phase",
        project_id=project_id,
    )


def update_phase(
    *, session: Session, actor: Actor, phase_id: int, expected_version: int | None, changes: PhaseUpdate
) -> Phase:
    require(actor, "plan.write")
    phase = writes.get(session, Phase, phase_id, "phase")
    values = PHASE_FIELDS.clean(changes.changes())
    if "position" in values and values["position"] is None:
        raise ValidationError("error.required", field="plan.field.position")
    _phase_refs(session, values)
    if "name" in values:
        chk.unique_name(
            session,
            Phase,
            "name",
            values["name"],
            project_id=phase.project_id,
            field="field.name",
            exclude_id=phase.id,
        )
    if values.get("percent_complete", phase.percent_complete) == 100 and "status" not in values:
        values["status"] = "done"
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=phase,
        expected_version=expected_version,
        changes=PhaseUpdate(**values),
        entity="phase",
        project_id=phase.project_id,
        check=_check_phase,
    )


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
                    data=PhaseCreate(name=name, kind=kind, planned_start=day, planned_end=end),
                )
            )
        day = end + timedelta(days=1)
    return created


def phases_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Phase, Person.full_name)
        .join(Person, col(Person.id) == Phase.owner_id, isouter=True)
        .where(Phase.project_id == project_id)
        .order_by(col(Phase.position), col(Phase.id))
    ).all()
    names = columns(PhasePublic)
    data = [{**p.model_dump(), "owner": owner or ""} for p, owner in rows]
    return pd.DataFrame(data, columns=names)


# ---------------------------------------------------------------- milestones


def _criteria(value: Any) -> list[dict[str, Any]]:
    """Gate criteria as [{"text", "done"}]; plain text gives one open criterion per line."""
    if chk.is_blank(value):
        return []
    items: list[dict[str, Any]]
    if isinstance(value, str):
        items = [{"text": line.strip(), "done": False} for line in value.splitlines() if line.strip()]
    else:
        items = [{"text": str(i.get("text", "")).strip(), "done": bool(i.get("done"))} for i in value]
    if any(not i["text"] or len(str(i["text"])) > 200 for i in items):
        raise ValidationError("error.gate_criterion", field="plan.field.gate_criteria")
    return items


MILESTONE_FIELDS = chk.Fields(
    MilestoneUpdate,
    {
        "name": lambda v: validation.text(v, "field.name", max_len=120),
        "phase_id": lambda v: chk.an_id(v, "plan.field.phase"),
        "due_date": lambda v: chk.a_date(v, "plan.field.due_date", required=True),
        "done_date": lambda v: chk.a_date(v, "plan.field.done_date"),
        "gate_criteria": _criteria,
    },
)


def _check_milestone(values: dict[str, Any]) -> None:
    if values["done_date"] and any(not c["done"] for c in values["gate_criteria"]):
        raise ValidationError("error.gate_open", field="plan.field.done_date")


def _milestone_refs(session: Session, values: dict[str, Any]) -> None:
    if values.get("phase_id") is not None:
        writes.get(session, Phase, values["phase_id"], "phase")


def create_milestone(*, session: Session, actor: Actor, project_id: int, data: MilestoneCreate) -> Milestone:
    require(actor, "plan.write")
    chk.project(session, project_id)
    values = MILESTONE_FIELDS.clean(data.model_dump())
    _check_milestone(values)
    _milestone_refs(session, values)
    chk.unique_name(session, Milestone, "name", values["name"], project_id=project_id, field="field.name")
    return writes.create(
        session=session,
        actor=actor,
        row=Milestone(project_id=project_id, **values),
        entity="milestone",
        project_id=project_id,
    )


def update_milestone(
    *,
    session: Session,
    actor: Actor,
    milestone_id: int,
    expected_version: int | None,
    changes: MilestoneUpdate,
) -> Milestone:
    require(actor, "plan.write")
    milestone = writes.get(session, Milestone, milestone_id, "milestone")
    clean = MILESTONE_FIELDS.cleaned(changes)
    _milestone_refs(session, clean.changes())
    if clean.name is not None:
        chk.unique_name(
            session,
            Milestone,
            "name",
            clean.name,
            project_id=milestone.project_id,
            field="field.name",
            exclude_id=milestone.id,
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=milestone,
        expected_version=expected_version,
        changes=clean,
        entity="milestone",
        project_id=milestone.project_id,
        check=_check_milestone,
    )


def milestones_frame(*, session: Session, project_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Milestone).where(Milestone.project_id == project_id).order_by(col(Milestone.due_date))
    ).all()
    names = columns(MilestonePublic)
    df = pd.DataFrame([m.model_dump() for m in rows], columns=names)
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
    milestones = session.exec(select(Milestone).where(Milestone.project_id == project_id)).all()
    baseline = writes.create(
        session=session,
        actor=actor,
        row=PhaseBaseline(project_id=project_id, name=clean, created_by=actor.username),
        entity="baseline",
        project_id=project_id,
    )
    bid = int(baseline.id or 0)
    items = [
        BaselineItem(
            baseline_id=bid,
            kind="phase",
            ref_id=int(p.id or 0),
            name=p.name,
            start=p.planned_start,
            end=p.planned_end,
        )
        for p in phases
    ] + [
        BaselineItem(baseline_id=bid, kind="milestone", ref_id=int(m.id or 0), name=m.name, end=m.due_date)
        for m in milestones
    ]
    session.add_all(items)  # the frozen copy belongs to the audited baseline row
    writes.flush(session)
    return baseline


def list_baselines(*, session: Session, project_id: int) -> list[PhaseBaseline]:
    return list(
        session.exec(
            select(PhaseBaseline)
            .where(PhaseBaseline.project_id == project_id)
            .order_by(col(PhaseBaseline.created_at), col(PhaseBaseline.id))
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


def raci_letter(value: Any) -> str:
    """A RACI cell: R/A/C/I, or "" for none (blank, None, NaN)."""
    if chk.is_blank(value):
        return ""
    return validation.choice(str(value).strip().upper(), "plan.field.raci", RACI_LETTERS)


RACI_FIELDS = chk.Fields(RaciUpdate, {"letter": raci_letter})


def save_raci(*, session: Session, actor: Actor, project_id: int, cells: list[RaciCell]) -> int:
    """Apply grid edits, all or nothing. `was` is the letter the editor was loaded with; a
    different letter in the database is a conflict. Returns the number of cells changed."""
    require(actor, "plan.write")
    chk.project(session, project_id)
    existing = {
        (e.phase_id, e.person_id): e
        for e in session.exec(select(RaciEntry).where(RaciEntry.project_id == project_id)).all()
    }
    phase_ids = set(session.exec(select(Phase.id).where(Phase.project_id == project_id)).all())
    letters = {key: e.letter for key, e in existing.items()}
    for cell in cells:
        person_id = chk.person(session, cell.person_id, "plan.field.person", required=True)
        if cell.phase_id not in phase_ids or person_id is None:
            raise ValidationError("error.choice", field="plan.field.phase", value=cell.phase_id)
        key = (cell.phase_id, person_id)
        if letters.get(key, "") != raci_letter(cell.was):
            raise ConflictError()
        letters[key] = RACI_FIELDS.cleaned(RaciUpdate(letter=cell.letter)).letter or ""
    accountable = pd.Series([k[0] for k, v in letters.items() if v == "A"], dtype="int64")
    if (accountable.value_counts() > 1).any():
        raise ValidationError("error.raci_one_accountable", field="plan.field.raci")
    changed = 0
    for key, letter in letters.items():
        entry = existing.get(key)
        if entry is None and letter:
            row = RaciEntry(project_id=project_id, phase_id=key[0], person_id=key[1], letter=letter)
            writes.create(session=session, actor=actor, row=row, entity="raci", project_id=project_id)
        elif entry is not None and not letter:
            writes.delete(session=session, actor=actor, row=entry, entity="raci", project_id=project_id)
        elif entry is not None and entry.letter != letter:
            writes.update_versioned(
                session=session,
                actor=actor,
                row=entry,
                expected_version=None,
                changes=RaciUpdate(letter=letter),
                entity="raci",
                project_id=project_id,
            )
        else:
            continue
        changed += 1
    return changed


# ---------------------------------------------------------------- new projects


def on_project_created(*, session: Session, actor: Actor, project: Project) -> None:
    """A new project starts with its plan settings and the slide-8 mistakes as risks."""
    from crm_impl.rollout.services import scope

    pid = int(project.id or 0)
    writes.create(
        session=session, actor=actor, row=PlanSettings(project_id=pid), entity="plan_settings", project_id=pid
    )
    scope.add_preset_risks(session=session, actor=actor, project_id=pid)
