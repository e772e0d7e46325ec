"""Configuring the pipeline (permission `stage.configure`): stages, lost reasons, sales budget."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, func, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ConflictError, NotFound, ValidationError
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.models import STAGE_KINDS, LostReason, SalesBudget, StageDefinition

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as err:
        raise ConflictError() from err


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
    *, session: Session, actor: Actor, stage_id: int, expected_version: int | None, **fields: Any
) -> StageDefinition:
    """Rename a stage or set its probability, cost or rot threshold."""
    require(actor, "stage.configure")
    stage = session.get(StageDefinition, stage_id)
    if stage is None:
        raise NotFound("error.not_found", entity="stage", id=stage_id)
    validation.expect_version(stage.version, expected_version)
    before = audit.snapshot(stage)
    for name, value in _stage_values(fields).items():
        setattr(stage, name, value)
    session.add(stage)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="stage",
        entity_id=stage.id,
        action="update",
        before=before,
        after=audit.snapshot(stage),
    )
    return stage


def add_stage(
    *,
    session: Session,
    actor: Actor,
    key: str,
    name_en: str,
    name_pl: str,
    after_key: str | None = None,
    **fields: Any,
) -> StageDefinition:
    """Add a stage after `after_key` (else before Lost); later stages shift down one place."""
    require(actor, "stage.configure")
    clean_key = _key(key)
    if session.exec(select(StageDefinition.id).where(StageDefinition.key == clean_key)).first() is not None:
        raise ValidationError("error.duplicate", field="pipeline.field.key", value=clean_key)
    values = _stage_values({"name_en": name_en, "name_pl": name_pl, **fields})
    stages = list(session.exec(select(StageDefinition).order_by(StageDefinition.position)).all())
    if after_key:
        anchor = next((s for s in stages if s.key == after_key), None)
        if anchor is None:
            raise ValidationError("error.choice", field="field.stage", value=after_key)
        position = anchor.position + 1
    else:
        lost = [s.position for s in stages if s.kind == "lost"]
        position = min(lost) if lost else (max((s.position for s in stages), default=0) + 1)
    ordered = (
        [s for s in stages if s.position < position] + [None] + [s for s in stages if s.position >= position]
    )
    stage = StageDefinition(key=clean_key, position=position, **values)
    _renumber(session, [s if s is not None else stage for s in ordered])
    session.add(stage)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="stage",
        entity_id=stage.id,
        action="create",
        after=audit.snapshot(stage),
    )
    return stage


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
    before = {k: s.position for k, s in stages.items()}
    ordered = [stages[k] for k in keys]
    _renumber(session, ordered)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="stage",
        entity_id="*",
        action="reorder",
        before={"order": sorted(before, key=before.get)},
        after={"order": list(keys)},  # type: ignore[arg-type]
    )
    return ordered


def save_lost_reason(
    *,
    session: Session,
    actor: Actor,
    key: str,
    name_en: str,
    name_pl: str,
    active: bool = True,
    position: int | None = None,
) -> LostReason:
    """Add a lost reason, or rename/(de)activate the one with this key (keys stay: deals keep them)."""
    require(actor, "stage.configure")
    clean_key = _key(key)
    reason = session.exec(select(LostReason).where(LostReason.key == clean_key)).first()
    before = audit.snapshot(reason)
    if reason is None:
        top = session.exec(select(func.max(LostReason.position))).one() or 0
        reason = LostReason(key=clean_key, name_en="", name_pl="", position=position or top + 1)
    reason.name_en = validation.text(name_en, "pipeline.field.name_en", max_len=80)
    reason.name_pl = validation.text(name_pl, "pipeline.field.name_pl", max_len=80)
    reason.active = bool(active)
    if position is not None:
        reason.position = int(position)
    session.add(reason)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="lost_reason",
        entity_id=reason.id,
        action="create" if before is None else "update",
        before=before,
        after=audit.snapshot(reason),
    )
    return reason


def set_budget(*, session: Session, actor: Actor, month: date, amount: Any) -> SalesBudget:
    """The sales budget for one month (stored on the first day of the month)."""
    require(actor, "stage.configure")
    first = date(month.year, month.month, 1)
    value = validation.amount(amount, "pipeline.field.budget")
    row = session.exec(select(SalesBudget).where(SalesBudget.month == first)).first()
    before = audit.snapshot(row)
    if row is None:
        row = SalesBudget(month=first, amount=value)
    else:
        row.amount = value
    session.add(row)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="sales_budget",
        entity_id=row.id,
        action="create" if before is None else "update",
        before=before,
        after=audit.snapshot(row),
    )
    return row


def list_budget(*, session: Session) -> list[SalesBudget]:
    return list(session.exec(select(SalesBudget).order_by(SalesBudget.month)).all())


def list_lost_reasons(*, session: Session) -> list[LostReason]:
    return list(session.exec(select(LostReason).order_by(LostReason.position)).all())
