"""Forecasts (DESIGN.md): weighted value by expected-close month, the statistical forecast of
monthly won value (backtested methods: `statistical`), and the per-account relationship
outlook. Pure pandas/numpy (and statsmodels in `statistical`).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from crm_impl.pipeline.metrics import DAY, _month, _ts, enrich
from crm_impl.pipeline.metrics.forecast.statistical import LEVELS, METHODS, MIN_MONTHS, backtest, forecast

POINT_FIELDS = ("value", *(f"{side}{lv}" for lv in LEVELS for side in ("lo", "hi")))

__all__ = [
    "LEVELS",
    "METHODS",
    "MIN_MONTHS",
    "POINT_FIELDS",
    "backtest",
    "forecast",
    "monthly_won_value",
    "relationship_outlook",
    "weighted_by_close_month",
    "won_in_progress",
]


def _month_start(day: date | datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(day)
    stamp = stamp.tz_convert(None) if stamp.tzinfo else stamp
    return stamp.to_period("M").to_timestamp()


def weighted_by_close_month(deals: pd.DataFrame, stages: pd.DataFrame, today: date) -> pd.DataFrame:
    """Open deals per expected-close month: count, value, weighted value. A close date already in
    the past has slipped and counts in the current month; deals without one are left out."""
    d = enrich(deals, stages)
    d = d[(d["kind"] == "open") & d["expected_close"].notna()]
    this_month = _month_start(today)
    month = _month(d["expected_close"]).clip(lower=this_month)
    out = d.groupby(month).agg(
        deals=("id", "size"), value=("value", "sum"), weighted_value=("weighted", "sum")
    )
    out["slipped"] = d["expected_close"].lt(this_month).groupby(month).sum().astype(int)
    out.index.name = "month"
    return out.reset_index()


def monthly_won_value(deals: pd.DataFrame, stages: pd.DataFrame, today: date) -> pd.Series:
    """Won value per complete calendar month (the current, unfinished month is left out)."""
    d = enrich(deals, stages)
    won = d[(d["kind"] == "won") & d["closed_at"].notna()]
    end = _month_start(today)
    if won.empty:
        return pd.Series(dtype=float, name="won_value")
    series = won.groupby(_month(won["closed_at"]))["value"].sum()
    series = series[series.index < end]
    if series.empty:
        return pd.Series(dtype=float, name="won_value")
    full = pd.date_range(series.index.min(), end - pd.offsets.MonthBegin(1), freq="MS")
    return series.reindex(full, fill_value=0.0).rename("won_value")


def won_in_progress(deals: pd.DataFrame, stages: pd.DataFrame, today: date) -> tuple[pd.Timestamp, float]:
    """The month in progress and the value won in it so far (never part of the fitted history)."""
    d = enrich(deals, stages)
    won = d[(d["kind"] == "won") & d["closed_at"].notna()]
    month = _month_start(today)
    return month, float(won.loc[_month(won["closed_at"]) == month, "value"].sum())


def relationship_outlook(deals: pd.DataFrame, stages: pd.DataFrame, today: date) -> pd.DataFrame:
    """Per account with at least two won deals: median days between wins, next expected order
    (last win + median gap), and at risk when that date has passed."""
    d = enrich(deals, stages)
    won = d[(d["kind"] == "won") & d["closed_at"].notna() & d["account_id"].notna()]
    won = won[["id", "account_id", "closed_at", "value"]].sort_values(["account_id", "closed_at"])
    gap = won["closed_at"].diff() / DAY
    gap = gap.where(won["account_id"].eq(won["account_id"].shift()))
    grouped = won.assign(gap=gap).groupby("account_id")
    out = grouped.agg(won_deals=("id", "size"), won_value=("value", "sum"), last_won=("closed_at", "max"))
    out["median_gap_days"] = grouped["gap"].median()
    out = out[out["won_deals"] >= 2].copy()
    out["next_expected"] = out["last_won"] + pd.to_timedelta(out["median_gap_days"], unit="D")
    now = _ts(pd.Timestamp(today))
    out["days_overdue"] = ((now - out["next_expected"]) / DAY).clip(lower=0)
    out["at_risk"] = out["next_expected"] < now
    return out.reset_index().sort_values(["at_risk", "days_overdue"], ascending=False).reset_index(drop=True)
