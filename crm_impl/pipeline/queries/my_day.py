"""A sales rep's day: their open deals, their stale deals (the one rule of
`crm_impl.pipeline.metrics.stale`), and their open activities due today or overdue.

"My" activity is one the rep owns (entered) or one still open on a deal the rep owns. Due
dates are days in UTC, as the deal page enters them: due before today is overdue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.models import Account, Activity, Deal
from crm_impl.pipeline.queries.frames import PipelineFrames

ACTIVITY_COLUMNS = [
    "id",
    "version",
    "kind",
    "subject",
    "due_at",
    "deal_id",
    "deal",
    "deal_owner_id",
    "account_id",
    "account",
    "overdue",
]


def my_deals(frames: PipelineFrames, owner_id: int | None, now: datetime) -> pd.DataFrame:
    """The owner's open deals, enriched (stage key, kind, rot days…), with `stale` (the
    metrics' rule) and `idle_days`, the oldest touch first."""
    deals = pm.enrich(frames.deals, frames.stages)
    stale = pm.stale(frames.deals, frames.stages, now)
    mine = (
        (deals["owner_id"] == owner_id).fillna(False).to_numpy(dtype=bool) if owner_id is not None else False
    )
    keep = mine & (deals["kind"] == "open").to_numpy(dtype=bool)
    out = deals[keep].assign(stale=stale[keep].to_numpy(dtype=bool))
    out["idle_days"] = (pd.Timestamp(now).tz_convert("UTC") - out["last_touch_at"]) / pd.Timedelta(days=1)
    return out.sort_values("last_touch_at").reset_index(drop=True)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _open_due_mine(actor: Actor, today: date) -> list[Any]:
    """Open, due before tomorrow, and the actor's (entered by them or on their deal)."""
    return [
        col(Activity.done_at).is_(None),
        col(Activity.due_at).is_not(None),
        col(Activity.due_at) < _day_start(today + timedelta(days=1)),
        or_(col(Activity.owner_id) == actor.id, col(Deal.owner_id) == actor.id),
    ]


def activities_due(*, session: Session, actor: Actor, today: date, limit: int = 200) -> pd.DataFrame:
    """The actor's open activities due today or before (overdue first, then by due time);
    `overdue`: due before today."""
    require(actor, "pipeline.read")
    if actor.id is None:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS)
    rows = session.execute(
        sa_select(
            col(Activity.id),
            col(Activity.version),
            col(Activity.kind),
            col(Activity.subject),
            col(Activity.due_at),
            col(Activity.deal_id),
            col(Deal.title),
            col(Deal.owner_id),
            col(Activity.account_id),
            col(Account.name),
        )
        .join(Deal, col(Deal.id) == col(Activity.deal_id), isouter=True)
        .join(Account, col(Account.id) == col(Activity.account_id), isouter=True)
        .where(*_open_due_mine(actor, today))
        .order_by(col(Activity.due_at), col(Activity.id))
        .limit(limit)
    ).all()
    out = pd.DataFrame([tuple(r) for r in rows], columns=ACTIVITY_COLUMNS[:-1])
    due = pd.to_datetime(out["due_at"], utc=True)
    out["due_at"] = due
    out["overdue"] = (due < pd.Timestamp(_day_start(today))).to_numpy(dtype=bool)
    return out


def count_due(*, session: Session, actor: Actor, today: date) -> tuple[int, int]:
    """(due today, overdue) among the actor's open activities, counted in the database."""
    require(actor, "pipeline.read")
    if actor.id is None:
        return 0, 0
    start = _day_start(today)
    overdue = func.coalesce(func.sum(case((col(Activity.due_at) < start, 1), else_=0)), 0)
    total = func.count(col(Activity.id))
    n_all, n_overdue = session.execute(
        sa_select(total, overdue)
        .select_from(Activity)
        .join(Deal, col(Deal.id) == col(Activity.deal_id), isouter=True)
        .where(*_open_due_mine(actor, today))
    ).one()
    return int(n_all) - int(n_overdue), int(n_overdue)
