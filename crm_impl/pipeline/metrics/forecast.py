"""Forecasts (DESIGN.md): weighted value by expected-close month, a backtested statistical
forecast of monthly won value, and the per-account relationship outlook. Pure pandas/numpy.

The statistical model is Holt's linear exponential smoothing (level + trend), its two
smoothing constants chosen by one-step-ahead squared error on the training months. It is
judged against the seasonal-naive baseline (same month last year; the previous month while
less than 13 months of history exist) over the last months of history, one step ahead,
always refitted on the months before the one predicted.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import product

import numpy as np
import pandas as pd

from crm_impl.pipeline.metrics import DAY, _month, _ts, enrich

SEASON = 12
ALPHAS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
BETAS = (0.0, 0.05, 0.1, 0.2, 0.3)  # 0 is plain exponential smoothing (no trend)


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


def _holt(y: np.ndarray, alpha: float, beta: float) -> tuple[float, float, float]:
    """Run Holt's smoothing over y; returns (level, trend, sum of squared one-step errors)."""
    level, trend, sse = y[0], (y[1] - y[0]) if len(y) > 1 else 0.0, 0.0
    for value in y[1:]:
        pred = level + trend
        sse += (value - pred) ** 2
        new_level = alpha * value + (1 - alpha) * pred
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
    return level, trend, sse


def holt_forecast(y: np.ndarray, horizon: int) -> np.ndarray:
    """Forecast `horizon` steps; never negative (won value cannot be)."""
    if len(y) == 0:
        return np.zeros(horizon)
    if len(y) < 3:
        return np.full(horizon, float(np.mean(y)))
    best = min(product(ALPHAS, BETAS), key=lambda ab: _holt(y, *ab)[2])
    level, trend, _ = _holt(y, *best)
    return np.maximum(level + trend * np.arange(1, horizon + 1), 0.0)


def seasonal_naive(y: np.ndarray, horizon: int) -> tuple[np.ndarray, str]:
    if len(y) == 0:
        return np.zeros(horizon), "naive"
    if len(y) >= SEASON:
        idx = len(y) - SEASON + (np.arange(horizon) % SEASON)
        return y[idx].astype(float), "seasonal_naive"
    return np.full(horizon, float(y[-1])), "naive"


def backtest(series: pd.Series, months: int = 6) -> dict[str, object]:
    """One-step-ahead errors of the model and of the baseline over the last `months` months."""
    y = series.to_numpy(dtype=float)
    months = min(months, max(len(y) - 3, 0))
    rows = []
    kind = "naive"
    for i in range(len(y) - months, len(y)):
        model = float(holt_forecast(y[:i], 1)[0])
        base, kind = seasonal_naive(y[:i], 1)
        rows.append({"month": series.index[i], "actual": y[i], "model": model, "baseline": float(base[0])})
    table = pd.DataFrame(rows, columns=["month", "actual", "model", "baseline"])
    result: dict[str, object] = {"months": len(table), "baseline_kind": kind, "table": table}
    for name in ("model", "baseline"):
        err = table[name] - table["actual"]
        result[f"mae_{name}"] = float(err.abs().mean()) if len(table) else None
        denom = (table[name].abs() + table["actual"].abs()).replace(0, np.nan)
        result[f"smape_{name}"] = float((2 * err.abs() / denom).mean()) if len(table) else None
    return result


def forecast_won_value(series: pd.Series, horizon: int = 6) -> pd.DataFrame:
    """History and the next `horizon` months of won value from the model and the baseline."""
    y = series.to_numpy(dtype=float)
    start = (series.index.max() + pd.offsets.MonthBegin(1)) if len(series) else None
    future = pd.date_range(start, periods=horizon, freq="MS") if start is not None else pd.DatetimeIndex([])
    hist = pd.DataFrame({"month": series.index, "value": y, "series": "actual"})
    model = pd.DataFrame(
        {"month": future, "value": holt_forecast(y, horizon)[: len(future)], "series": "model"}
    )
    base = pd.DataFrame(
        {"month": future, "value": seasonal_naive(y, horizon)[0][: len(future)], "series": "baseline"}
    )
    return pd.concat([hist, model, base], ignore_index=True)


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
