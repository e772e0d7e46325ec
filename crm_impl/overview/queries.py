"""Read models for the Overview page: project facts, team and a pipeline snapshot, from SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.pipeline.models import Deal, StageDefinition
from crm_impl.pipeline.queries import values
from crm_impl.rollout.models import RoleAssignment


def team_counts(*, session: Session, project_id: int) -> dict[str, int]:
    rows = session.exec(
        select(col(Person.side), func.count(func.distinct(col(Person.id))))
        .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
        .where(col(RoleAssignment.project_id) == project_id)
        .group_by(col(Person.side))
    ).all()
    counts = {side: int(n) for side, n in rows}
    roles = session.exec(
        select(func.count(func.distinct(col(RoleAssignment.role)))).where(
            col(RoleAssignment.project_id) == project_id
        )
    ).one()
    return {
        "client": counts.get("client", 0),
        "vendor": counts.get("vendor", 0),
        "total": sum(counts.values()),
        "roles": int(roles or 0),
    }


def pipeline_snapshot(*, session: Session, days: int = 30) -> dict[str, Any]:
    """Open count/value/weighted value (the pipeline's one computation, in its one currency) and
    deals won or lost in the last `days` days."""
    totals = values.open_totals(session=session)
    since = utcnow() - timedelta(days=days)
    kind = col(StageDefinition.kind)
    recent = col(Deal.closed_at) >= since
    won = (kind == "won") & recent
    # a loss is dated by the day it was lost (its entry into Lost), not by an earlier contract
    lost_recent = func.coalesce(col(Deal.stage_entered_at), col(Deal.closed_at)) >= since
    row = session.exec(
        select(
            func.sum(case((won, 1), else_=0)),
            func.sum(case((won & (col(Deal.currency) == values.base_currency()), col(Deal.value)), else_=0)),
            func.sum(case(((kind == "lost") & lost_recent, 1), else_=0)),
        ).join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
    ).one()
    won_n, won_v, lost_n = (row[0] or 0), (row[1] or 0), (row[2] or 0)
    accounts = session.exec(
        select(func.count(func.distinct(col(Deal.account_id))))
        .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
        .where(kind == "open")
    ).one()
    closed = int(won_n) + int(lost_n)
    return {
        "open_deals": int(totals["deals"].sum()),
        "pipeline_value": float(totals["value"].sum()),
        "weighted_value": float(totals["weighted_value"].sum()),
        "currency": values.base_currency(),
        "other_currencies": values.other_currencies(session=session),
        "won_recent": int(won_n),
        "won_value_recent": float(won_v),
        "lost_recent": int(lost_n),
        "win_rate_recent": (int(won_n) / closed) if closed else None,
        "open_accounts": int(accounts or 0),
        "days": days,
    }


def open_deals_by_stage(*, session: Session) -> list[tuple[str, int, float]]:
    """(stage key, open deals, value in the pipeline's currency) for every open stage, in order."""
    stages = session.exec(
        select(col(StageDefinition.id), col(StageDefinition.key))
        .where(col(StageDefinition.kind) == "open")
        .order_by(col(StageDefinition.position))
    ).all()
    totals = values.open_totals(session=session).set_index("stage_id")
    return [
        (key, int(totals["deals"].get(sid, 0)), float(totals["value"].get(sid, 0.0))) for sid, key in stages
    ]


def active_users(*, session: Session) -> int:
    return int(session.exec(select(func.count(col(UserAccount.id))).where(col(UserAccount.is_active))).one())


def ideas_waiting(*, session: Session, project_id: int) -> int:
    """Ideas submitted on the project and not yet triaged by the client PM."""
    from crm_impl.rollout.models import Idea

    return int(
        session.exec(
            select(func.count(col(Idea.id))).where(
                col(Idea.project_id) == project_id, col(Idea.status) == "new"
            )
        ).one()
    )
