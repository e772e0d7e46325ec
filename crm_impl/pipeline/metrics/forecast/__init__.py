"""Forecasts (DESIGN.md): weighted value by expected-close month, the statistical forecast of
monthly won value (backtested methods: `statistical`), and the per-account relationship
outlook. Pure pandas/numpy (and statsmodels in `statistical`).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from crm_impl.pipeline.metrics import _month, enrich
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
