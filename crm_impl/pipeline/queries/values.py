"""Pipeline value, computed once: Σ value of open deals and Σ value × effective probability
(the deal's own probability, else its stage's default), per stage, in ONE currency.

Amounts in different currencies are never added together. The pipeline's currency is the
configured one (`CRM_IMPL_CURRENCY`, default PLN); there is no rate table, so a deal in another
currency is left out of every sum, counted separately, and every screen that shows a sum says how
many deals (and how much, in their own currency) it left out. The board, the overview and the
dashboards all read these numbers from here (the dashboards through `frames.load`, which reads the
value of a deal in another currency as missing, so pandas sums skip it the same way).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, select

from crm_impl.core.config import get_settings
from crm_impl.pipeline.models import Deal, StageDefinition


def base_currency() -> str:
    code = str(get_settings().currency).upper()
    return code if re.fullmatch(r"[A-Z]{3}", code) else "PLN"


def effective_probability() -> ColumnElement[Any]:
    return func.coalesce(col(Deal.probability), col(StageDefinition.probability))


def _in_base() -> ColumnElement[bool]:
    return col(Deal.currency) == base_currency()


def open_totals(*, session: Session, where: tuple[Any, ...] = (), open_only: bool = True) -> pd.DataFrame:
    """stage_id, deals (every deal), value and weighted_value (deals in the pipeline's currency)."""
    in_base = _in_base()
    query = (
        select(
            col(Deal.stage_id),
            func.count(col(Deal.id)),
            func.coalesce(func.sum(case((in_base, col(Deal.value)), else_=None)), 0),
            func.coalesce(
                func.sum(case((in_base, col(Deal.value) * effective_probability()), else_=None)), 0
            ),
        )
        .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
        .where(*where)
        .group_by(col(Deal.stage_id))
    )
    if open_only:
        query = query.where(col(StageDefinition.kind) == "open")
    rows = session.exec(query).all()
    out = pd.DataFrame(rows, columns=["stage_id", "deals", "value", "weighted_value"])
    out[["value", "weighted_value"]] = out[["value", "weighted_value"]].astype(float)
    out["deals"] = out["deals"].astype(int)
    return out


def other_currencies(
    *, session: Session, where: tuple[Any, ...] = (), open_only: bool = True
) -> pd.DataFrame:
    """currency, deals, value: what `open_totals` left out of its sums, per currency."""
    query = (
        select(col(Deal.currency), func.count(col(Deal.id)), func.coalesce(func.sum(col(Deal.value)), 0))
        .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
        .where(col(Deal.currency) != base_currency(), *where)
        .group_by(col(Deal.currency))
        .order_by(col(Deal.currency))
    )
    if open_only:
        query = query.where(col(StageDefinition.kind) == "open")
    rows = session.exec(query).all()
    out = pd.DataFrame(rows, columns=["currency", "deals", "value"])
    out["value"] = out["value"].astype(float)
    out["deals"] = out["deals"].astype(int)
    return out
