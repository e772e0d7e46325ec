"""The read side of exports: every deal with readable names, and the pipeline report as tables
(for the export page's CSV/XLSX downloads and `crm-impl export`)."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, select
from sqlmodel import Session

from crm_impl.core.config import local_tz
from crm_impl.core.models import UserAccount
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.models import Account, Deal, DealProduct, Product, StageDefinition
from crm_impl.pipeline.queries.report import pipeline_report


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def deals_frame(*, session: Session, actor: Actor) -> pd.DataFrame:
    """Every deal with readable names, for export (CSV/XLSX) and the CLI."""
    require(actor, "pipeline.read")
    owner = _table(UserAccount).alias("owner")
    deal, account, stage = _table(Deal), _table(Account), _table(StageDefinition)
    dp, product = _table(DealProduct), _table(Product)
    query = (
        select(
            deal.c.id,
            deal.c.external_ref,
            deal.c.title,
            account.c.name.label("account"),
            stage.c.key.label("stage"),
            stage.c.kind.label("stage_kind"),
            owner.c.username.label("owner"),
            deal.c.value,
            deal.c.currency,
            deal.c.probability,
            deal.c.expected_close,
            deal.c.created_at,
            deal.c.stage_entered_at,
            deal.c.closed_at,
            deal.c.lost_reason,
        )
        .select_from(
            deal.outerjoin(account, deal.c.account_id == account.c.id)
            .join(stage, deal.c.stage_id == stage.c.id)
            .outerjoin(owner, deal.c.owner_id == owner.c.id)
        )
        .order_by(deal.c.id)
    )
    conn = session.connection()
    rows = conn.execute(query).all()
    columns = [c.name for c in query.selected_columns]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    products = conn.execute(
        select(dp.c.deal_id, product.c.name).join(product, dp.c.product_id == product.c.id)
    ).all()
    if products:
        names = pd.DataFrame(products, columns=["id", "product"]).groupby("id")["product"].agg(", ".join)
        frame["product"] = frame["id"].map(names).fillna("")
    else:
        frame["product"] = ""
    for name in ("created_at", "stage_entered_at", "closed_at"):
        frame[name] = (
            pd.to_datetime(frame[name], utc=True, format="ISO8601")
            .dt.tz_convert(local_tz())
            .dt.tz_localize(None)
        )
    frame["value"] = frame["value"].astype(float)
    return frame


def pipeline_report_frames(*, session: Session, actor: Actor, today: Any = None) -> dict[str, pd.DataFrame]:
    """The pipeline report (crm_impl.pipeline.queries.report) as two tables: summary and stages."""
    require(actor, "pipeline.read")
    report = pipeline_report(session=session, actor=actor, today=today)
    summary: list[dict[str, Any]] = []
    for key, value in report.items():
        if key in ("stages", "flow"):  # per-stage lists, not one summary value
            continue
        if isinstance(value, dict):
            summary.extend({"metric": f"{key}.{k}", "value": v} for k, v in value.items())
        else:
            summary.append({"metric": key, "value": value})
    frame = pd.DataFrame(summary, columns=["metric", "value"])
    frame["value"] = frame["value"].map(lambda v: "" if v is None else str(v))  # one type per column
    return {"summary": frame, "stages": pd.DataFrame(report.get("stages", []))}
