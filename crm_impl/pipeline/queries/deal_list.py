"""The deal list (pages/pipeline/deals.py): every deal with its client, contact person, stage,
owner and dates, filtered in SQL, one query whatever the number of deals.

Who sees what is the board's rule: whoever reads the pipeline (`pipeline.read`) sees every deal;
a sales rep who owns deals starts on their own (the page's default owner filter), and only
managers (`deal.write_any`) change somebody else's. `DealListFilter` is the one list of the
page's filters: the widgets fill it, a saved filter stores it (`DEAL_FILTERS`), and a saved
filter whose values went stale is applied with what still exists (`from_saved`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import pandas as pd
from pydantic import ValidationError as PydanticError
from sqlalchemy import ColumnElement, and_, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col

from crm_impl.core.models import UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.core.saved_filters import FilterPage, keep_known
from crm_impl.pipeline.models import Account, Contact, Deal, StageDefinition
from crm_impl.pipeline.queries.values import effective_probability

STATUSES = ("open", "won", "lost")  # a stage's kind
LIMIT = 5000  # rows the table shows at most (newest first); the page says when there are more


class DealListFilter(SQLModel):
    """The deal list's filters; empty means "any"."""

    stage_ids: list[int] = []
    owner_ids: list[int] = []
    client: str = ""
    value_min: float | None = None
    value_max: float | None = None
    close_from: date | None = None
    close_to: date | None = None
    statuses: list[str] = []
    overdue: bool = False

    def is_empty(self) -> bool:
        return self == DealListFilter()


DEAL_FILTERS = FilterPage("pipeline.deals", "pipeline.read", tuple(DealListFilter.model_fields))

COLUMNS = [
    "id",
    "title",
    "client",
    "contact",
    "stage_id",
    "kind",
    "owner_id",
    "owner",
    "value",
    "currency",
    "expected_close",
    "probability",
    "last_touch_at",
    "created_at",
    "version",
]


def from_saved(
    criteria: Mapping[str, Any], *, stage_ids: Collection[int], owner_ids: Collection[int]
) -> DealListFilter:
    """A saved filter's values as filters: stages, owners and statuses that no longer exist are
    dropped one by one, a value of the wrong type (an old or hand-edited filter) is left out;
    never an error."""
    known: dict[str, Collection[Any]] = {
        "stage_ids": set(stage_ids),
        "owner_ids": set(owner_ids),
        "statuses": STATUSES,
    }
    kept: dict[str, Any] = {}
    for name in DealListFilter.model_fields:
        if name not in criteria:
            continue
        value = keep_known(criteria[name], known[name]) if name in known else criteria[name]
        try:
            DealListFilter.model_validate({name: value})
        except PydanticError:
            continue
        kept[name] = value
    return DealListFilter.model_validate(kept)


def to_saved(filters: DealListFilter) -> dict[str, Any]:
    """What a saved filter stores: the values that filter something, as JSON."""
    empty = DealListFilter().model_dump(mode="json")
    return {k: v for k, v in filters.model_dump(mode="json").items() if v != empty[k]}


def _where(filters: DealListFilter, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.stage_ids:
        where.append(col(Deal.stage_id).in_(filters.stage_ids))
    if filters.owner_ids:
        where.append(col(Deal.owner_id).in_(filters.owner_ids))
    if filters.client.strip():
        where.append(func.lower(col(Account.name)).contains(filters.client.strip().lower(), autoescape=True))
    if filters.value_min is not None:
        where.append(col(Deal.value) >= filters.value_min)
    if filters.value_max is not None:
        where.append(col(Deal.value) <= filters.value_max)
    if filters.close_from is not None:
        where.append(col(Deal.expected_close) >= filters.close_from)
    if filters.close_to is not None:
        where.append(col(Deal.expected_close) <= filters.close_to)
    if filters.statuses:
        where.append(col(StageDefinition.kind).in_(filters.statuses))
    if filters.overdue:
        where.append(and_(col(StageDefinition.kind) == "open", col(Deal.expected_close) < today))
    return where


def deal_list(
    *,
    session: Session,
    actor: Actor,
    filters: DealListFilter,
    today: date | None = None,
    limit: int = LIMIT,
) -> tuple[pd.DataFrame, int]:
    """The deals that match `filters`, newest first (at most `limit`), and how many match."""
    require(actor, "pipeline.read")
    today = today or utcnow().date()
    owner = aliased(UserAccount)
    where = _where(filters, today)
    base = (
        sa_select(
            col(Deal.id),
            col(Deal.title),
            col(Account.name),
            col(Contact.full_name),
            col(Deal.stage_id),
            col(StageDefinition.kind),
            col(Deal.owner_id),
            func.coalesce(col(owner.display_name), col(owner.username)),
            col(Deal.value),
            col(Deal.currency),
            col(Deal.expected_close),
            effective_probability(),
            col(Deal.last_touch_at),
            col(Deal.created_at),
            col(Deal.version),
        )
        .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
        .join(Account, col(Account.id) == col(Deal.account_id), isouter=True)
        .join(Contact, col(Contact.id) == col(Deal.contact_id), isouter=True)
        .join(owner, col(owner.id) == col(Deal.owner_id), isouter=True)
        .where(*where)
    )
    count_query = (
        sa_select(func.count(col(Deal.id)))
        .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
        .join(Account, col(Account.id) == col(Deal.account_id), isouter=True)
        .where(*where)
    )
    total = int(session.execute(count_query).scalar_one())
    rows = session.execute(base.order_by(col(Deal.id).desc()).limit(limit)).all()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["value"] = frame["value"].astype(float)
    frame["probability"] = frame["probability"].astype(float)
    for name in ("last_touch_at", "created_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["expected_close"] = pd.to_datetime(frame["expected_close"]).dt.date
    return frame, total


def summary(frame: pd.DataFrame, currency: str, today: date) -> dict[str, float | int]:
    """The figures above the list: open value and weighted value of the listed open deals in
    the pipeline's currency (others are never added in, see queries.values), and how many open
    deals are past their expected close."""
    is_open = frame["kind"] == "open"
    base = is_open & (frame["currency"] == currency)
    close = pd.to_datetime(frame["expected_close"], errors="coerce")
    return {
        "open_value": float(frame.loc[base, "value"].sum()),
        "weighted": float((frame.loc[base, "value"] * frame.loc[base, "probability"]).sum()),
        "overdue": int((is_open & (close < pd.Timestamp(today))).sum()),
    }
