"""ERP settlements, read side (slide 7): the latest balance per account and the flags shown on
the board, the client page and when a deal moves to Offer or Contract. Rows are written by the
settlements import."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from crm_impl.pipeline.models import ErpBalance

FLAG_STAGES = ("offer", "contract")  # moving here warns about a flagged account


def latest_balances(*, session: Session, account_ids: list[int]) -> dict[int, ErpBalance]:
    if not account_ids:
        return {}
    newest = (
        select(col(ErpBalance.account_id), func.max(col(ErpBalance.as_of)).label("as_of"))
        .where(col(ErpBalance.account_id).in_(account_ids))
        .group_by(col(ErpBalance.account_id))
        .subquery()
    )
    rows = session.exec(
        select(ErpBalance).join(
            newest,
            and_(col(ErpBalance.account_id) == newest.c.account_id, col(ErpBalance.as_of) == newest.c.as_of),
        )
    ).all()
    return {row.account_id: row for row in rows}


def account_flags(*, session: Session, account_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Accounts whose newest ERP balance shows an overdue amount or a negative balance (goods
    or services not paid for), with the figures; accounts without flags are left out."""
    flags: dict[int, dict[str, Any]] = {}
    for account_id, row in latest_balances(session=session, account_ids=list(account_ids)).items():
        overdue, negative = row.overdue > 0, row.balance < 0
        if overdue or negative:
            flags[account_id] = {
                "overdue": bool(overdue),
                "negative_balance": bool(negative),
                "overdue_amount": float(row.overdue),
                "balance": float(row.balance),
                "receivable": float(row.receivable),
                "as_of": row.as_of,
            }
    return flags
