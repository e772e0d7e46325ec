"""The budget services (issue 10): every write of the budget domain, keyword-only, in the
caller's transaction — permission (`budget.edit`) -> validation -> write (crm_impl.core.writes)
-> audit. Bad input raises a translated ValidationError naming the field, with nothing written.

- budget lines: create_line, update_line (planned, committed, forecast never negative; a phase
  of the same project; open/closed);
- cost postings: add_posting, update_posting, delete_posting (amount above zero, never to a
  closed line, the line of the same project);
- settings: budget_settings (read, defaults when none saved), update_settings (the training
  share's benchmark band and its source);
- earned-value snapshots: take_snapshot (one closed month, frozen; never overwritten),
  freeze_last_month (the newest closed month, if not yet frozen — the CLI's
  `crm-impl budget snapshot` and the earned-value page opened by a budget editor call it).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from crm_impl.budget import metrics
from crm_impl.budget.models import (
    CATEGORIES,
    DEFAULT_TRAINING_HIGH,
    DEFAULT_TRAINING_LOW,
    DEFAULT_TRAINING_SOURCE,
    LINE_STATUSES,
    BudgetLine,
    BudgetLineCreate,
    BudgetLineUpdate,
    BudgetSettings,
    BudgetSettingsUpdate,
    CostPosting,
    CostPostingCreate,
    CostPostingUpdate,
    EvSnapshot,
)
from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import Phase
from crm_impl.rollout.services import checks as chk

EDIT = "budget.edit"
READ = "budget.read"


# ---- cleaners ---------------------------------------------------------------------------------


def _money(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    if chk.is_blank(value):
        if required:
            raise ValidationError("error.required", field=field)
        return None
    return validation.amount(value, field)


def _phase(session: Session, value: Any, project_id: int) -> int | None:
    phase_id = chk.an_id(value, "budget.field.phase")
    if phase_id is None:
        return None
    phase = session.get(Phase, phase_id)
    if phase is None or phase.project_id != project_id:
        raise ValidationError("budget.error.other_project", field="budget.field.phase", value=phase_id)
    return phase_id


def _line_values(session: Session, values: dict[str, Any], project_id: int) -> dict[str, Any]:
    cleaners: dict[str, Any] = {
        "name": lambda v: validation.text(v, "budget.field.name", max_len=120),
        "category": lambda v: validation.choice(v, "budget.field.category", CATEGORIES),
        "phase_id": lambda v: _phase(session, v, project_id),
        "planned": lambda v: _money(v, "budget.field.planned"),
        "committed": lambda v: _money(v, "budget.field.committed"),
        "forecast": lambda v: _money(v, "budget.field.forecast", required=False),
        "status": lambda v: validation.choice(v, "budget.field.status", LINE_STATUSES),
        "notes": lambda v: validation.text(v, "budget.field.notes", max_len=2000, required=False),
    }
    unknown = set(values) - set(cleaners)
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
    return {name: cleaners[name](value) for name, value in values.items()}


def _line_of(session: Session, value: Any, project_id: int) -> BudgetLine:
    line_id = chk.an_id(value, "budget.field.line")
    if line_id is None:
        raise ValidationError("error.required", field="budget.field.line")
    line = session.get(BudgetLine, line_id)
    if line is None or line.project_id != project_id:
        raise ValidationError("budget.error.other_project", field="budget.field.line", value=line_id)
    return line


def _open_line(line: BudgetLine) -> None:
    """One rule, used by the form, the grid and the import: nothing is posted to a closed line."""
    if line.status == "closed":
        raise ValidationError("budget.error.closed_line", field="budget.field.line", line=line.name)


def posting_amount(value: Any, field: str = "budget.field.amount") -> Decimal:
    """A posting's amount: money above zero (a credit note is entered on the line's forecast,
    not as a negative posting)."""
    if chk.is_blank(value):
        raise ValidationError("error.required", field=field)
    amount = validation.amount(value, field)
    if amount <= 0:
        raise ValidationError("budget.error.zero_amount", field=field)
    return amount


def _posting_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaners: dict[str, Any] = {
        "posted_on": lambda v: chk.a_date(v, "budget.field.posted_on", required=True),
        "amount": posting_amount,
        "supplier": lambda v: validation.text(v, "budget.field.supplier", max_len=120, required=False),
        "description": lambda v: validation.text(v, "budget.field.description", max_len=500, required=False),
        "document_number": lambda v: validation.text(
            v, "budget.field.document_number", max_len=60, required=False
        ),
    }
    unknown = set(values) - set(cleaners) - {"line_id"}
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
    return {name: cleaners[name](value) for name, value in values.items() if name != "line_id"}


# ---- budget lines -----------------------------------------------------------------------------


def create_line(*, session: Session, actor: Actor, project_id: int, data: BudgetLineCreate) -> BudgetLine:
    require(actor, EDIT)
    chk.project(session, project_id)
    values = _line_values(session, data.model_dump(), project_id)
    chk.unique_name(
        session, BudgetLine, "name", values["name"], project_id=project_id, field="budget.field.name"
    )
    line = BudgetLine(project_id=project_id, status="open", **values)
    return writes.create(session=session, actor=actor, row=line, entity="budget_line", project_id=project_id)


def update_line(
    *, session: Session, actor: Actor, line_id: int, expected_version: int | None, data: BudgetLineUpdate
) -> BudgetLine:
    require(actor, EDIT)
    line = writes.get(session, BudgetLine, line_id, "budget_line")
    writes.expect_version(line.version, expected_version)
    values = _line_values(session, data.changes(), line.project_id)
    if "name" in values:
        chk.unique_name(
            session,
            BudgetLine,
            "name",
            values["name"],
            project_id=line.project_id,
            field="budget.field.name",
            exclude_id=line.id,
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=line,
        expected_version=expected_version,
        changes=values,
        entity="budget_line",
        project_id=line.project_id,
    )


# ---- cost postings ----------------------------------------------------------------------------


def add_posting(*, session: Session, actor: Actor, project_id: int, data: CostPostingCreate) -> CostPosting:
    require(actor, EDIT)
    chk.project(session, project_id)
    line = _line_of(session, data.line_id, project_id)
    values = _posting_values(data.model_dump())
    _open_line(line)
    posting = CostPosting(project_id=project_id, line_id=int(line.id or 0), **values)
    return writes.create(
        session=session, actor=actor, row=posting, entity="cost_posting", project_id=project_id
    )


def update_posting(
    *,
    session: Session,
    actor: Actor,
    posting_id: int,
    expected_version: int | None,
    data: CostPostingUpdate,
) -> CostPosting:
    """Correct a posting; neither the line it is on now nor the one it moves to may be closed."""
    require(actor, EDIT)
    posting = writes.get(session, CostPosting, posting_id, "cost_posting")
    writes.expect_version(posting.version, expected_version)
    changes = data.changes()
    values = _posting_values(changes)
    _open_line(writes.get(session, BudgetLine, posting.line_id, "budget_line"))
    if "line_id" in changes:
        target = _line_of(session, changes["line_id"], posting.project_id)
        _open_line(target)
        values["line_id"] = int(target.id or 0)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=posting,
        expected_version=expected_version,
        changes=values,
        entity="cost_posting",
        project_id=posting.project_id,
    )


def delete_posting(*, session: Session, actor: Actor, posting_id: int, expected_version: int | None) -> None:
    require(actor, EDIT)
    posting = writes.get(session, CostPosting, posting_id, "cost_posting")
    writes.expect_version(posting.version, expected_version)
    _open_line(writes.get(session, BudgetLine, posting.line_id, "budget_line"))
    writes.delete(
        session=session, actor=actor, row=posting, entity="cost_posting", project_id=posting.project_id
    )


# ---- settings ---------------------------------------------------------------------------------


def budget_settings(*, session: Session, project_id: int) -> BudgetSettings:
    """The project's saved settings, else the defaults (not saved: version 0)."""
    row = session.get(BudgetSettings, project_id)
    if row is not None:
        return row
    return BudgetSettings(
        project_id=project_id,
        training_share_low=DEFAULT_TRAINING_LOW,
        training_share_high=DEFAULT_TRAINING_HIGH,
        training_source=DEFAULT_TRAINING_SOURCE,
        version=0,
    )


def _share(value: Any, field: str) -> float:
    number = chk.number(value, field)
    if number > 1:  # typed as a percentage: 15 -> 0.15
        number /= 100
    if not 0 <= number <= 1:
        raise ValidationError("error.out_of_range", field=field, low=0, high=100)
    return round(number, 4)


def update_settings(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    expected_version: int | None,
    data: BudgetSettingsUpdate,
) -> BudgetSettings:
    require(actor, EDIT)
    chk.project(session, project_id)
    current = session.get(BudgetSettings, project_id)
    values: dict[str, Any] = {}
    changes = data.changes()
    if "training_share_low" in changes:
        values["training_share_low"] = _share(changes["training_share_low"], "budget.field.training_low")
    if "training_share_high" in changes:
        values["training_share_high"] = _share(changes["training_share_high"], "budget.field.training_high")
    if "training_source" in changes:
        values["training_source"] = validation.text(
            changes["training_source"], "budget.field.training_source", max_len=1000
        )
    base = current or budget_settings(session=session, project_id=project_id)
    low = values.get("training_share_low", base.training_share_low)
    high = values.get("training_share_high", base.training_share_high)
    if low > high:
        raise ValidationError("budget.error.band_order", field="budget.field.training_low")
    if current is None:
        if expected_version not in (None, 0):
            writes.expect_version(0, expected_version)
        row = BudgetSettings(
            project_id=project_id,
            training_share_low=low,
            training_share_high=high,
            training_source=values.get("training_source", base.training_source),
        )
        return writes.create(
            session=session, actor=actor, row=row, entity="budget_settings", project_id=project_id
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=current,
        expected_version=expected_version,
        changes=values,
        entity="budget_settings",
        project_id=project_id,
    )


# ---- earned-value snapshots -------------------------------------------------------------------


def take_snapshot(*, session: Session, actor: Actor, project_id: int, month: date) -> EvSnapshot:
    """Freeze the project's PV, EV, AC and BAC as of the last day of `month` (a month that has
    ended), from the phases' % complete and planned dates as they are now. A month is frozen
    once: taking it again is refused, so editing % complete later never rewrites history."""
    from crm_impl.budget import queries  # the frames the metrics take

    require(actor, EDIT)
    chk.project(session, project_id)
    first = metrics.month_start(month)
    today = utcnow().date()
    if metrics.month_end(first) >= today:
        raise ValidationError("budget.error.month_open", field="budget.field.month", month=first.isoformat())
    existing = session.exec(
        select(EvSnapshot).where(col(EvSnapshot.project_id) == project_id, col(EvSnapshot.month) == first)
    ).first()
    if existing is not None:
        raise ValidationError(
            "budget.error.month_frozen", field="budget.field.month", month=first.isoformat()
        )
    frames = queries.load(session, project_id)
    ev = metrics.earned_value(frames["lines"], frames["postings"], frames["phases"], metrics.month_end(first))
    cent = Decimal("0.01")
    row = EvSnapshot(
        project_id=project_id,
        month=first,
        bac=Decimal(str(ev.bac)).quantize(cent),
        pv=Decimal(str(ev.pv)).quantize(cent),
        ev=Decimal(str(ev.ev)).quantize(cent),
        ac=Decimal(str(ev.ac)).quantize(cent),
        taken_at=utcnow(),
        taken_by=actor.username,
    )
    return writes.create(session=session, actor=actor, row=row, entity="ev_snapshot", project_id=project_id)


def freeze_last_month(*, session: Session, actor: Actor, project_id: int) -> EvSnapshot | None:
    """The snapshot of the newest closed month, taken now if it is missing (None: it already
    exists). Older months that were never frozen stay gaps: their % complete is not known."""
    require(actor, EDIT)
    month = metrics.last_closed_month(utcnow().date())
    exists = session.exec(
        select(EvSnapshot.id).where(col(EvSnapshot.project_id) == project_id, col(EvSnapshot.month) == month)
    ).first()
    if exists is not None:
        return None
    return take_snapshot(session=session, actor=actor, project_id=project_id, month=month)
