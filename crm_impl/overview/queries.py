"""Read models for the Overview page: project facts, team and a pipeline snapshot, from SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, select

from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.pipeline.models import Deal, StageDefinition
from crm_impl.rollout.models import RoleAssignment


def team_counts(*, session: Session, project_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Person.side, func.count(func.distinct(Person.id)))
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.project_id == project_id)
        .group_by(Person.side)
    ).all()
    counts = {side: int(n) for side, n in rows}
    roles = session.exec(
        select(func.count(func.distinct(RoleAssignment.role))).where(RoleAssignment.project_id == project_id)
    ).one()
    return {
        "client": counts.get("client", 0),
        "vendor": counts.get("vendor", 0),
        "total": sum(counts.values()),
        "roles": int(roles or 0),
    }


def pipeline_snapshot(*, session: Session, days: int = 30) -> dict[str, Any]:
    """Open count/value/weighted value and deals won or lost in the last `days` days."""
    prob = func.coalesce(Deal.probability, StageDefinition.probability)
    is_open = StageDefinition.kind == "open"
    since = utcnow() - timedelta(days=days)
    row = session.exec(
        select(
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((is_open, Deal.value), else_=0)),
            func.sum(case((is_open, Deal.value * prob), else_=0)),
            func.sum(case(((StageDefinition.kind == "won") & (Deal.closed_at >= since), 1), else_=0)),
            func.sum(
                case(((StageDefinition.kind == "won") & (Deal.closed_at >= since), Deal.value), else_=0)
            ),
            func.sum(case(((StageDefinition.kind == "lost") & (Deal.closed_at >= since), 1), else_=0)),
            func.count(func.distinct(case((is_open, Deal.account_id)))),
        ).join(StageDefinition, StageDefinition.id == Deal.stage_id)
    ).one()
    open_n, open_v, weighted, won_n, won_v, lost_n, accounts = row
    closed = int(won_n or 0) + int(lost_n or 0)
    return {
        "open_deals": int(open_n or 0),
        "pipeline_value": float(open_v or 0),
        "weighted_value": float(weighted or 0),
        "won_recent": int(won_n or 0),
        "won_value_recent": float(won_v or 0),
        "lost_recent": int(lost_n or 0),
        "win_rate_recent": (int(won_n or 0) / closed) if closed else None,
        "open_accounts": int(accounts or 0),
        "days": days,
    }


def open_deals_by_stage(*, session: Session) -> list[tuple[str, int, float]]:
    rows = session.exec(
        select(StageDefinition.key, func.count(Deal.id), func.coalesce(func.sum(Deal.value), 0))
        .join(Deal, Deal.stage_id == StageDefinition.id, isouter=True)
        .where(StageDefinition.kind == "open")
        .group_by(StageDefinition.key, StageDefinition.position)
        .order_by(StageDefinition.position)
    ).all()
    return [(key, int(n), float(v)) for key, n, v in rows]


def active_users(*, session: Session) -> int:
    return int(session.exec(select(func.count(UserAccount.id)).where(UserAccount.is_active)).one())


def ideas_waiting(*, session: Session, project_id: int) -> int:
    """Ideas submitted on the project and not yet triaged by the client PM."""
    from crm_impl.rollout.models import Idea

    return int(
        session.exec(
            select(func.count(Idea.id)).where(Idea.project_id == project_id, Idea.status == "new")
        ).one()
    )
