"""Read models of the budget domain for the pages, the CLI and the report: the frames the
metrics take (one SQL query each), the postings with their line's name, the frozen snapshots,
and `report` — the numbers of `crm-impl report budget --json` and of the budget pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from crm_impl.budget import metrics
from crm_impl.budget.models import BudgetLine, CostPosting, EvSnapshot
from crm_impl.core.models import Project, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.models import Phase


def _frame(rows: list[Any], columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def lines_frame(session: Session, project_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            col(BudgetLine.id),
            col(BudgetLine.name),
            col(BudgetLine.category),
            col(BudgetLine.phase_id),
            col(BudgetLine.planned),
            col(BudgetLine.committed),
            col(BudgetLine.forecast),
            col(BudgetLine.status),
            col(BudgetLine.notes),
            col(BudgetLine.version),
        )
        .where(col(BudgetLine.project_id) == project_id)
        .order_by(col(BudgetLine.id))
    ).all()
    df = _frame(list(rows), [*metrics.LINE_COLUMNS, "notes", "version"])
    for name in ("planned", "committed", "forecast"):
        df[name] = pd.to_numeric(df[name], errors="coerce").astype(float)
    df["phase_id"] = df["phase_id"].astype("Int64")
    return df


def postings_frame(session: Session, project_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            col(CostPosting.id),
            col(CostPosting.line_id),
            col(CostPosting.posted_on),
            col(CostPosting.amount),
            col(CostPosting.supplier),
            col(CostPosting.description),
            col(CostPosting.document_number),
            col(CostPosting.version),
        )
        .where(col(CostPosting.project_id) == project_id)
        .order_by(col(CostPosting.posted_on), col(CostPosting.id))
    ).all()
    df = _frame(
        list(rows), [*metrics.POSTING_COLUMNS, "supplier", "description", "document_number", "version"]
    )
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").astype(float)
    return df


def phases_frame(session: Session, project_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            col(Phase.id),
            col(Phase.name),
            col(Phase.kind),
            col(Phase.planned_start),
            col(Phase.planned_end),
            col(Phase.percent_complete),
        )
        .where(col(Phase.project_id) == project_id)
        .order_by(col(Phase.position), col(Phase.planned_start), col(Phase.id))
    ).all()
    return _frame(list(rows), metrics.PHASE_COLUMNS)


def snapshots_frame(session: Session, project_id: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            col(EvSnapshot.month),
            col(EvSnapshot.bac),
            col(EvSnapshot.pv),
            col(EvSnapshot.ev),
            col(EvSnapshot.ac),
            col(EvSnapshot.taken_at),
            col(EvSnapshot.taken_by),
        )
        .where(col(EvSnapshot.project_id) == project_id)
        .order_by(col(EvSnapshot.month))
    ).all()
    return _frame(list(rows), ("month", "bac", "pv", "ev", "ac", "taken_at", "taken_by"))


def load(session: Session, project_id: int) -> dict[str, pd.DataFrame]:
    """lines, postings, phases and snapshots of one project (the metrics' inputs)."""
    return {
        "lines": lines_frame(session, project_id),
        "postings": postings_frame(session, project_id),
        "phases": phases_frame(session, project_id),
        "snapshots": snapshots_frame(session, project_id),
    }


def report(session: Session, project_id: int, *, today: date | None = None) -> dict[str, Any]:
    """Everything the budget pages and `crm-impl report budget --json` show: per category and
    per phase planned / committed / actual / forecast, the variance table, earned value now and
    per month (frozen snapshots + the month in progress), the training share and the findings."""
    from crm_impl.budget import services  # settings with their defaults

    today = today or utcnow().date()
    frames = load(session, project_id)
    project = session.get(Project, project_id)
    settings = services.budget_settings(session=session, project_id=project_id)
    table = metrics.line_table(frames["lines"], frames["postings"])
    now = metrics.earned_value(frames["lines"], frames["postings"], frames["phases"], today)
    found = metrics.findings(
        table,
        low=settings.training_share_low,
        high=settings.training_share_high,
        source=settings.training_source,
    )
    totals = {k: float(table[k].sum()) for k in ("planned", "committed", "actual", "forecast")}
    return {
        "project_id": project_id,
        "project": project.name if project else "",
        "currency": project.currency if project else "PLN",
        "today": today.isoformat(),
        "totals": totals,
        "by_category": metrics.by_category(table),
        "by_phase": metrics.by_phase(table, frames["phases"]),
        "lines": table,
        "earned_value": now,
        "history": metrics.history(frames["snapshots"], now),
        "cumulative": metrics.cumulative(frames["lines"], frames["postings"], frames["phases"], today),
        "training_share": metrics.training_share(table),
        "band": {
            "low": settings.training_share_low,
            "high": settings.training_share_high,
            "source": settings.training_source,
        },
        "findings": found,
        "frames": frames,
    }


def budget_report(
    *, session: Session, actor: Actor, project_id: int, today: date | None = None
) -> dict[str, Any]:
    """`report` for a reader who may see the budget (`budget.read`)."""
    require(actor, "budget.read")
    return report(session, project_id, today=today)


EV_FIGURES = ["bac", "pv", "ev", "ac", "cv", "sv", "cpi", "spi", "eac", "etc", "vac"]


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    """The report as plain JSON values (`crm-impl report budget --json`)."""

    def records(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
        out = df.loc[:, columns].astype(object).where(df.loc[:, columns].notna(), None)
        return [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()}
            for row in out.to_dict("records")
        ]

    history = data["history"].copy()
    history["month"] = history["month"].map(lambda d: d.isoformat()[:7])
    money = ["planned", "committed", "actual", "forecast", "variance"]
    return {
        "project": data["project"],
        "currency": data["currency"],
        "today": data["today"],
        "totals": {k: round(v, 2) for k, v in data["totals"].items()},
        "by_category": records(data["by_category"], ["category", *money]),
        "by_phase": records(data["by_phase"], ["phase", *money[:-1]]),
        "lines": records(data["lines"], ["name", "category", "status", *money]),
        "earned_value": {
            k: (round(v, 4) if isinstance(v, float) else v) for k, v in data["earned_value"].as_dict().items()
        },
        "history": records(history, ["month", *EV_FIGURES, "partial"]),
        "training_share": None if data["training_share"] is None else round(data["training_share"], 4),
        "band": data["band"],
        "findings": [f.as_dict() for f in data["findings"]],
    }
