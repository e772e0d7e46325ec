"""Configuring the pipeline (permission `stage.configure`): stages, lost reasons, sales budget.

The grids save all-or-nothing: `save_stages` and `save_lost_reasons` validate every row first
and name the first bad one (`core.errors.RowError`); only then is anything written, in the caller's one
transaction.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from crm_impl.core import audit, validation, writes
from crm_impl.core.errors import DomainError, NotFound, RowError, ValidationError
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.models import (
    STAGE_KINDS,
    LostReason,
    LostReasonCreate,
    LostReasonGridRow,
    LostReasonUpdate,
    SalesBudget,
    SalesBudgetCreate,
    StageDefinition,
    StageDefinitionCreate,
    StageDefinitionUpdate,
    StageGridRow,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _key(value: str) -> str:
    cleaned = str(value or "").strip().lower()
    if not _KEY.match(cleaned):
        raise ValidationError("pipeline.error.key", field="pipeline.field.key")
    return cleaned


def _stage_values(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("name_en", "name_pl"):
        if name in fields:
            out[name] = validation.text(fields[name], f"pipeline.field.{name}", max_len=60)
    if "kind" in fields:
        out["kind"] = validation.choice(fields["kind"], "pipeline.field.kind", STAGE_KINDS)
    if "probability" in fields:
        try:
            prob = float(fields["probability"])
        except (TypeError, ValueError) as err:
            raise ValidationError(
                "error.number", field="pipeline.field.probability", value=fields["probability"]
            ) from err
        if not 0 <= prob <= 1:
            raise ValidationError("pipeline.error.probability", field="pipeline.field.probability")
        out["probability"] = prob
    if "stage_cost" in fields:
        out["stage_cost"] = validation.amount(fields["stage_cost"], "pipeline.field.stage_cost")
    if "rot_days" in fields:
        try:
            rot = int(fields["rot_days"])
        except (TypeError, ValueError) as err:
            raise ValidationError(
                "error.number", field="pipeline.field.rot_days", value=fields["rot_days"]
            ) from err
        if rot < 1 or rot > 3650:
            raise ValidationError("pipeline.error.rot_days", field="pipeline.field.rot_days")
        out["rot_days"] = rot
    if "active" in fields:
        out["active"] = bool(fields["active"])
    return out


def update_stage(
    *,
    session: Session,
    actor: Actor,
    stage_id: int,
    expected_version: int | None,
    data: StageDefinitionUpdate,
) -> StageDefinition:
    """Rename a stage or set its probability, cost or rot threshold."""
    require(actor, "stage.configure")
    return writes.update_by_id(
        session=session,
        actor=actor,
        model=StageDefinition,
        row_id=stage_id,
        expected_version=expected_version,
        changes=lambda: _stage_values(data.changes()),
        entity="stage",
    )


def add_stage(*, session: Session, actor: Actor, data: StageDefinitionCreate) -> StageDefinition:
    """Add a stage after `data.after_key` (else before Lost); later stages shift down one place."""
    require(actor, "stage.configure")
    clean_key = _key(data.key)
    if session.exec(select(StageDefinition.id).where(StageDefinition.key == clean_key)).first() is not None:
        raise ValidationError("error.duplicate", field="pipeline.field.key", value=clean_key)
    values = _stage_values(data.model_dump(exclude={"key", "after_key"}))
    stages = list(session.exec(select(StageDefinition).order_by(col(StageDefinition.position))).all())
    if data.after_key:
        anchor = next((s for s in stages if s.key == data.after_key), None)
        if anchor is None:
            raise ValidationError("error.choice", field="field.stage", value=data.after_key)
        position = anchor.position + 1
    else:
        lost = [s.position for s in stages if s.kind == "lost"]
        position = min(lost) if lost else (max((s.position for s in stages), default=0) + 1)
    stage = StageDefinition(key=clean_key, position=position, **values)
    ordered = (
        [s for s in stages if s.position < position] + [stage] + [s for s in stages if s.position >= position]
    )
    _renumber(session, ordered)
    return writes.create(session=session, actor=actor, row=stage, entity="stage")


def _renumber(session: Session, ordered: list[StageDefinition]) -> None:
    for position, stage in enumerate(ordered, start=1):
        if stage.position != position:
            stage.position = position
            session.add(stage)


def reorder_stages(*, session: Session, actor: Actor, keys: list[str]) -> list[StageDefinition]:
    """Put the stages in the order of `keys` (every stage exactly once)."""
    require(actor, "stage.configure")
    stages = {s.key: s for s in session.exec(select(StageDefinition)).all()}
    if sorted(keys) != sorted(stages):
        raise ValidationError("pipeline.error.reorder")
    before = [s.key for s in sorted(stages.values(), key=lambda s: s.position)]
    ordered = [stages[k] for k in keys]
    _renumber(session, ordered)
    writes.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="stage",
        entity_id="*",
        action="reorder",
        before={"order": before},
        after={"order": list(keys)},
    )
    return ordered


def save_stages(*, session: Session, actor: Actor, rows: list[StageGridRow]) -> list[StageDefinition]:
    """Save the stages grid in one go: every row's changes and the new order (rows sorted by
    position, ties by key). Every row is checked before anything is written; the first bad row
    is named and nothing is saved."""
    require(actor, "stage.configure")
    stages = {s.id: s for s in session.exec(select(StageDefinition)).all()}
    cleaned: list[tuple[StageDefinition, StageGridRow, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        stage = stages.get(row.id)
        try:
            if stage is None:
                raise NotFound("error.not_found", entity="stage", id=row.id)
            values = _stage_values(row.changes.changes())
            if values:
                writes.expect_version(stage.version, row.expected_version)
        except DomainError as err:
            name: str | dict[str, str] = (
                str(row.id) if stage is None else {"en": stage.name_en, "pl": stage.name_pl}
            )
            raise RowError(number, err, name) from err
        cleaned.append((stage, row, values))
    order = [stage.key for stage, row, _ in sorted(cleaned, key=lambda c: (c[1].position, c[0].key))]
    current = [s.key for s in sorted(stages.values(), key=lambda s: s.position)]
    if sorted(order) != sorted(current):
        raise ValidationError("pipeline.error.reorder")
    for stage, row, values in cleaned:
        if values:
            writes.update_versioned(
                session=session,
                actor=actor,
                row=stage,
                expected_version=row.expected_version,
                changes=values,
                entity="stage",
            )
    if order != current:
        reorder_stages(session=session, actor=actor, keys=order)
    return [stages[s.id] for s, _, _ in cleaned]


def _reason_values(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("name_en", "name_pl"):
        if name in fields:
            out[name] = validation.text(fields[name], f"pipeline.field.{name}", max_len=80)
    if fields.get("position") is not None:
        try:
            out["position"] = int(fields["position"])
        except (TypeError, ValueError) as err:
            raise ValidationError(
                "error.number", field="pipeline.field.position", value=fields["position"]
            ) from err
    if "active" in fields:
        out["active"] = bool(fields["active"])
    return out


def _next_reason_position(session: Session) -> int:
    return int(session.exec(select(func.max(LostReason.position))).one() or 0) + 1


def create_lost_reason(*, session: Session, actor: Actor, data: LostReasonCreate) -> LostReason:
    require(actor, "stage.configure")
    clean_key = _key(data.key)
    if session.exec(select(LostReason.id).where(LostReason.key == clean_key)).first() is not None:
        raise ValidationError("error.duplicate", field="pipeline.field.key", value=clean_key)
    values = _reason_values(data.model_dump(exclude={"key"}))
    values.setdefault("position", _next_reason_position(session))
    return writes.create(
        session=session, actor=actor, row=LostReason(key=clean_key, **values), entity="lost_reason"
    )


def update_lost_reason(
    *,
    session: Session,
    actor: Actor,
    reason_id: int,
    expected_version: int | None,
    data: LostReasonUpdate,
) -> LostReason:
    """Rename, reorder or (de)activate a lost reason (keys stay: deals keep them)."""
    require(actor, "stage.configure")
    return writes.update_by_id(
        session=session,
        actor=actor,
        model=LostReason,
        row_id=reason_id,
        expected_version=expected_version,
        changes=lambda: _reason_values(data.changes()),
        entity="lost_reason",
    )


def save_lost_reasons(*, session: Session, actor: Actor, rows: list[LostReasonGridRow]) -> list[LostReason]:
    """Save the lost-reasons grid in one go: new rows are added, changed rows updated. Every row
    is checked first; the first bad row is named and nothing is saved."""
    require(actor, "stage.configure")
    existing = {r.id: r for r in session.exec(select(LostReason)).all()}
    by_key = {r.key: r for r in existing.values()}
    seen: set[str] = set()
    plan: list[tuple[LostReason | None, LostReasonGridRow, str, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        try:
            reason = existing.get(row.id) if row.id is not None else None
            if row.id is not None and reason is None:
                raise NotFound("error.not_found", entity="lost_reason", id=row.id)
            clean_key = reason.key if reason is not None else _key(row.key)
            if clean_key in seen or (reason is None and clean_key in by_key):
                raise ValidationError("error.duplicate", field="pipeline.field.key", value=clean_key)
            seen.add(clean_key)
            values = _reason_values(row.model_dump(include={"name_en", "name_pl", "position", "active"}))
            if reason is not None:
                values = {k: v for k, v in values.items() if getattr(reason, k) != v}
                if values:
                    writes.expect_version(reason.version, row.expected_version)
        except DomainError as err:
            raise RowError(number, err, row.key or str(row.id)) from err
        plan.append((reason, row, clean_key, values))
    saved: list[LostReason] = []
    next_position = _next_reason_position(session)
    for reason, row, clean_key, values in plan:
        if reason is None:
            if "position" not in values:
                values["position"] = next_position
                next_position += 1
            reason = writes.create(
                session=session, actor=actor, row=LostReason(key=clean_key, **values), entity="lost_reason"
            )
        elif values:
            writes.update_versioned(
                session=session,
                actor=actor,
                row=reason,
                expected_version=row.expected_version,
                changes=values,
                entity="lost_reason",
            )
        saved.append(reason)
    return saved


def set_budget(*, session: Session, actor: Actor, data: SalesBudgetCreate) -> SalesBudget:
    """The sales budget for one month (stored on the first day of the month)."""
    require(actor, "stage.configure")
    first = date(data.month.year, data.month.month, 1)
    value = validation.amount(data.amount, "pipeline.field.budget")
    row = session.exec(select(SalesBudget).where(SalesBudget.month == first)).first()
    if row is None:
        return writes.create(
            session=session, actor=actor, row=SalesBudget(month=first, amount=value), entity="sales_budget"
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=None,
        changes={"amount": value},
        entity="sales_budget",
    )


def list_budget(*, session: Session) -> list[SalesBudget]:
    return list(session.exec(select(SalesBudget).order_by(col(SalesBudget.month))).all())


def list_lost_reasons(*, session: Session) -> list[LostReason]:
    return list(session.exec(select(LostReason).order_by(col(LostReason.position))).all())
