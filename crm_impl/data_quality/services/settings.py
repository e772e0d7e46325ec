"""The scan's settings (one row): required fields per entity, N days for timeliness, the burst
limits and the known sectors. Version-checked; the first save creates the row from the defaults."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.permissions import Actor, require
from crm_impl.data_quality.models import SETTINGS_FIELDS, DqSettings, DqSettingsUpdate
from crm_impl.data_quality.vocabulary import REQUIRABLE
from crm_impl.rollout.services import checks as chk


def field(name: str) -> str:
    return f"dq.field.{name}"


def _required(entity: str, value: Any) -> list[str]:
    items = [] if chk.is_blank(value) else ([value] if isinstance(value, str) else list(value))
    unknown = [v for v in items if v not in REQUIRABLE[entity]]
    if unknown:
        raise ValidationError("error.choice", field=field(f"required_{entity}"), value=unknown[0])
    return list(dict.fromkeys(items))


def _sectors(value: Any) -> list[str]:
    items = re.split(r"[\n,;]", value) if isinstance(value, str) else list(value or [])
    cleaned = [validation.text(v, field("sectors"), max_len=80, required=False).lower() for v in items]
    sectors = list(dict.fromkeys(s for s in cleaned if s))
    if not sectors:
        raise ValidationError("error.required", field=field("sectors"))
    return sectors


CLEANERS = {
    "required_account": lambda v: _required("account", v),
    "required_contact": lambda v: _required("contact", v),
    "required_deal": lambda v: _required("deal", v),
    "stale_days": lambda v: chk.integer(v, field("stale_days"), low=1, high=3650),
    "burst_count": lambda v: chk.integer(v, field("burst_count"), low=2, high=100_000),
    "burst_minutes": lambda v: chk.integer(v, field("burst_minutes"), low=1, high=1440),
    "sectors": _sectors,
}
assert set(CLEANERS) == set(SETTINGS_FIELDS)


def update_settings(
    *, session: Session, actor: Actor, expected_version: int | None, data: DqSettingsUpdate
) -> DqSettings:
    require(actor, "dq.manage")
    changes = {name: CLEANERS[name](value) for name, value in data.changes().items()}
    row = session.get(DqSettings, 1)
    if row is None:  # nothing stored yet: the defaults are version 1
        writes.expect_version(1, expected_version)
        row = writes.create(session=session, actor=actor, row=DqSettings(), entity="dq_settings")
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=changes,
        entity="dq_settings",
    )
