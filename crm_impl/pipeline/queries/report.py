"""The pipeline and forecast reports (CLI `crm-impl report …`, dashboard and forecast pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
from sqlmodel import Session

from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.metrics import forecast as fc
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import values
from crm_impl.pipeline.queries.frames import PipelineFrames


def _now(today: date | None) -> tuple[date, datetime]:
    if today is None:
        now = datetime.now(UTC)
        return now.date(), now
    return today, datetime.combine(today, time(23, 59, 59), UTC)


def _num(value: Any, digits: int = 2) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), digits)


def report_from_frames(frames: PipelineFrames, today: date | None = None) -> dict[str, Any]:
    """Headline numbers and the per-stage share of the open pipeline (everything closed counts)."""
    day, now = _now(today)
    s, c = frames.stages, frames.changes
    deals = pm.enrich(frames.deals, s)  # once, not in every metric
    head = pm.summary(deals, s, now)
    share = pm.stage_share(deals, s)
    pairs = pm.entered(c, deals)
    flow = pm.funnel(c, deals, s, pairs).merge(
        pm.time_in_stage(c, s, deals=deals, now=now)[
            ["stage_id", "km_median", "finished_median", "stays", "still_open"]
        ],
        on="stage_id",
    )
    costs = pm.cost_budget_totals(pm.cost_vs_budget(c, deals, s, frames.budget, pairs), day)
    trends = pm.monthly_trends(deals, s)
    this_month = pd.Timestamp(day).to_period("M").to_timestamp()
    outlook = pm.relationship_outlook(deals, s, day)
    return {
        "as_of": now.isoformat(),
        "currency": values.base_currency(),
        "other_currencies": [
            {"currency": r.currency, "open_deals": int(r.deals), "value": _num(r.value)}
            for r in frames.other_currencies.itertuples()
        ],
        "deals": {"open": head["open"], "won": head["won"], "lost": head["lost"]},
        "win_rate": _num(head["win_rate"], 4),
        "won_value": _num(head["won_value"]),
        "pipeline_value": _num(head["pipeline_value"]),
        "weighted_value": _num(head["weighted_value"]),
        "avg_won_value": _num(head["avg_won_value"]),
        "avg_sales_cycle_days": _num(head["avg_sales_cycle_days"]),
        "velocity_per_day": _num(head["velocity_per_day"]),
        "stale_deals": head["stale_deals"],
        "undated_deals": pm.undated_deals(deals),
        "trend_months": len(trends),
        "new_this_month": int(trends.loc[pd.to_datetime(trends["month"]) == this_month, "new"].sum()),
        "on_time_fulfilment": pm.on_time_fulfilment(frames.deals),
        "stage_cost_vs_budget": {
            "cost": _num(costs["cost"]),
            "budget": _num(costs["budget"]),
            "first_month": _month_text(costs["first_month"]),
            "last_month": _month_text(costs["last_month"]),
            "later_budget_left_out": _num(costs["later_budget"]),
        },
        "relationship_outlook": {
            "repeat_accounts": len(outlook),
            "at_risk": int(outlook["at_risk"].sum()),
            "tolerance": pm.OUTLOOK_TOLERANCE,
        },
        "flow": [
            {
                "key": row.key,
                "entered": int(row.entered),
                "reached": int(row.reached),
                "left": int(row.left),
                "forward": int(row.forward),
                "lost": int(row.to_lost),
                "back": int(row.back),
                "conversion": _num(row.conversion, 4),
                "median_days_km": _num(row.km_median),
                "median_days_finished": _num(row.finished_median),
                "stays": int(row.stays),
                "still_open": int(row.still_open),
            }
            for row in flow.itertuples()
        ],
        "stages": [
            {
                "key": row.key,
                "open_deals": int(row.open_deals),
                "open_accounts": int(row.open_accounts),
                "value": _num(row.value),
                "weighted_value": _num(row.weighted_value),
                "share": _num(row.share, 4),
            }
            for row in share.itertuples()
        ],
    }


def _month_text(month: Any) -> str | None:
    return None if month is None or pd.isna(month) else pd.Timestamp(month).strftime("%Y-%m")


def pipeline_report(*, session: Session, actor: Actor, today: date | None = None) -> dict[str, Any]:
    require(actor, "pipeline.read")
    return report_from_frames(pipeline_data.load(session), today)


def forecast_from_frames(
    frames: PipelineFrames, today: date | None = None, horizon: int = 6
) -> dict[str, Any]:
    day, _now_ = _now(today)
    deals = pm.enrich(frames.deals, frames.stages)
    weighted = fc.weighted_by_close_month(deals, frames.stages, day)
    series = fc.monthly_won_value(deals, frames.stages, day)
    test = fc.backtest(series)
    outlook = fc.forecast_won_value(series, horizon)
    future = outlook[outlook["series"] != "actual"].pivot(index="month", columns="series", values="value")
    return {
        "as_of": day.isoformat(),
        "weighted_by_close_month": [
            {
                "month": r.month.strftime("%Y-%m"),
                "deals": int(r.deals),
                "value": _num(r.value),
                "weighted_value": _num(r.weighted_value),
                "slipped": int(r.slipped),
            }
            for r in weighted.itertuples()
        ],
        "won_value_history": [{"month": m.strftime("%Y-%m"), "value": _num(v)} for m, v in series.items()],
        "forecast": [
            {"month": m.strftime("%Y-%m"), "model": _num(r.get("model")), "baseline": _num(r.get("baseline"))}
            for m, r in future.iterrows()
        ],
        "backtest": {
            "months": test["months"],
            "baseline": test["baseline_kind"],
            "mae_model": _num(test["mae_model"]),
            "mae_baseline": _num(test["mae_baseline"]),
            "smape_model": _num(test["smape_model"], 4),
            "smape_baseline": _num(test["smape_baseline"], 4),
            "rows": [
                {
                    "month": r.month.strftime("%Y-%m"),
                    "actual": _num(r.actual),
                    "model": _num(r.model),
                    "baseline": _num(r.baseline),
                }
                for r in test["table"].itertuples()  # type: ignore[attr-defined]
            ],
        },
    }


def forecast_report(
    *, session: Session, actor: Actor, today: date | None = None, horizon: int = 6
) -> dict[str, Any]:
    require(actor, "pipeline.read")
    return forecast_from_frames(pipeline_data.load(session), today, horizon)


def dashboard_from_frames(frames: PipelineFrames, today: date | None = None) -> dict[str, Any]:
    """Everything the pipeline dashboard draws, computed once per data version."""
    day, now = _now(today)
    s, c = frames.stages, frames.changes
    d = pm.enrich(frames.deals, s)  # once, not in every metric
    pairs = pm.entered(c, d)
    by_month = pm.cost_vs_budget(c, d, s, frames.budget, pairs)
    return {
        "summary": pm.summary(d, s, now),
        "share": pm.stage_share(d, s),
        "funnel": pm.funnel(c, d, s, pairs),
        "time_in_stage": pm.time_in_stage(c, s, deals=d, now=now),
        "trends": pm.monthly_trends(d, s),
        "undated": pm.undated_deals(d),
        "stage_cost": pm.stage_cost(c, d, s, pairs),
        "cost_vs_budget": by_month,
        "cost_totals": pm.cost_budget_totals(by_month, day),
        "stale_by_owner": pm.stale_by_owner(d, s, now),
        "on_time": pm.on_time_fulfilment(d),
        "outlook": pm.relationship_outlook(d, s, day),
        "currency": values.base_currency(),
        "other_currencies": frames.other_currencies,
    }
