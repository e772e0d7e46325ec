"""The pipeline and forecast reports (CLI `crm-impl report …`, dashboard and forecast pages)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
from sqlmodel import Session

from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.metrics import forecast as fc
from crm_impl.pipeline.metrics import scope as sc
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


def _month_key(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m")


def weighted_from_frames(frames: PipelineFrames, today: date | None = None) -> list[dict[str, Any]]:
    """Open deals' value and weighted value by expected-close month (slipped dates: this month)."""
    day, _now_ = _now(today)
    weighted = fc.weighted_by_close_month(pm.enrich(frames.deals, frames.stages), frames.stages, day)
    return [
        {
            "month": _month_key(r.month),
            "deals": int(r.deals),
            "value": _num(r.value),
            "weighted_value": _num(r.weighted_value),
            "slipped": int(r.slipped),
        }
        for r in weighted.itertuples()
    ]


def won_forecast_from_frames(
    frames: PipelineFrames, today: date | None = None, horizon: int = 6
) -> dict[str, Any]:
    """The backtested forecast of won value: complete months only are fitted; the month in
    progress is reported beside them (see crm_impl.pipeline.metrics.forecast.statistical)."""
    day, _now_ = _now(today)
    deals = pm.enrich(frames.deals, frames.stages)
    series = fc.monthly_won_value(deals, frames.stages, day)
    progress_month, progress_value = fc.won_in_progress(deals, frames.stages, day)
    result = fc.forecast(series, horizon)
    test = result["backtest"]
    points = result["points"]
    return {
        "as_of": day.isoformat(),
        "currency": values.base_currency(),
        "won_value_history": [{"month": _month_key(m), "value": _num(v)} for m, v in series.items()],
        "month_in_progress": {"month": _month_key(progress_month), "value": _num(progress_value)},
        "status": result["status"],
        "min_months": fc.MIN_MONTHS,
        "method": result["method"],
        "best": result["best"],
        "baseline_won": result["baseline_won"],
        "baseline_tied": result["baseline_tied"],
        "forecast": [
            {"month": _month_key(r.month), **{k: _num(getattr(r, k)) for k in fc.POINT_FIELDS}}
            for r in (points.itertuples() if len(points) else ())
        ],
        "backtest": {
            "horizon": test["horizon"],
            "months": len(test["origins"]),
            "origins": [_month_key(m) for m in test["origins"]],
            "chosen": test["chosen"],
            "methods": [
                {
                    "key": m["key"],
                    "kind": m["kind"],
                    "status": m["status"],
                    "offered_from": m["offered_from"],
                    "mae": _num(m["mae"]),
                    "se": _num(m["se"]),
                    "mase": _num(m["mase"], 4),
                    "smape": _num(m["smape"], 4),
                    "best": bool(m.get("best", False)),
                    "chosen": m["key"] == test["chosen"],
                }
                for m in test["methods"]
            ],
        },
    }


def forecast_from_frames(
    frames: PipelineFrames, today: date | None = None, horizon: int = 6
) -> dict[str, Any]:
    """Everything the forecast report prints: the weighted pipeline and the won-value forecast."""
    won = won_forecast_from_frames(frames, today, horizon)
    return {**won, "weighted_by_close_month": weighted_from_frames(frames, today)}


def forecast_report(
    *, session: Session, actor: Actor, today: date | None = None, horizon: int = 6
) -> dict[str, Any]:
    require(actor, "pipeline.read")
    return forecast_from_frames(pipeline_data.load(session), today, horizon)


def _by_deal_figures(
    d: pd.DataFrame, c: pd.DataFrame, s: pd.DataFrame, now: datetime, period: dict[str, Any]
) -> dict[str, Any]:
    return {
        "time_in_stage": pm.time_in_stage(c, s, deals=d, now=now),
        "summary": pm.summary(d, s, now, **period),
        "share": pm.stage_share(d, s),
        "stale_by_owner": pm.stale_by_owner(d, s, now),
    }


def dashboard_from_frames(
    frames: PipelineFrames, today: date | None = None, scope: sc.Scope | None = None
) -> dict[str, Any]:
    """Everything the pipeline dashboard draws, computed once per data version and filter:
    the frames are masked once to the scope's deals (`metrics.scope`), then every figure is the
    unchanged metric of what is left.

    The figures are computed in two halves side by side, one in a second thread: numpy's sorts,
    reductions and arithmetic on whole columns release the GIL, so on 2 cores the page is ready
    in about two thirds of the time (0.26 -> 0.17 s at 100,000 deals). Both halves only read the
    (enriched, shared) frames; every metric builds new objects."""
    day, now = _now(today)
    scope = scope or sc.Scope()
    s = frames.stages
    d, c = sc.restrict(frames.deals, frames.changes, s, frames.owners, scope)  # enriched once
    period = {"since": scope.since, "until": scope.until}
    with ThreadPoolExecutor(max_workers=1) as pool:
        beside = pool.submit(_by_deal_figures, d, c, s, now, period)
        pairs = pm.entered(c, d)
        by_month = sc.months(pm.cost_vs_budget(c, d, s, frames.budget, sc.entries_in(pairs, scope)), scope)
        here = {
            "funnel": pm.funnel(c, d, s, pairs),
            "trends": sc.months(pm.monthly_trends(sc.events_in(d, scope), s), scope),
            "undated": pm.undated_deals(d),
            "stage_cost": pm.stage_cost(c, d, s, pairs),
            "cost_vs_budget": by_month,
            "cost_totals": pm.cost_budget_totals(by_month, day),
            "on_time": pm.on_time_fulfilment(sc.delivered_in(d, scope)),
            "outlook": pm.relationship_outlook(d, s, day),
        }
        there = beside.result()
    return {
        "summary": there["summary"],
        "share": there["share"],
        "funnel": here["funnel"],
        "time_in_stage": there["time_in_stage"],
        **{k: here[k] for k in ("trends", "undated", "stage_cost", "cost_vs_budget", "cost_totals")},
        "stale_by_owner": there["stale_by_owner"],
        "on_time": here["on_time"],
        "outlook": here["outlook"],
        "deals": len(d),
        "currency": values.base_currency(),
        "other_currencies": frames.other_currencies,
    }
