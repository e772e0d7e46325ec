"""The statistical forecast of monthly won value (DESIGN.md, *forecast*): several methods, each
backtested on rolling origins, the best one (lowest MAE, ties to the simpler) used for the
forecast with 80 % and 95 % prediction intervals. Pure numpy/pandas + statsmodels.

Methods, simplest first (the order breaks ties):
- ``mean``: the historic mean; ``naive``: the last month; ``seasonal_naive``: the same month a
  year earlier; ``drift``: the line from the first to the last month, extended — the baselines.
- ``holt``: ETS(A,Ad,N), additive error and damped additive trend; ``holt_winters``:
  ETS(A,Ad,A), the same with additive yearly seasonality — statsmodels' ``ETSModel``.
Seasonal methods are offered only with 24 months behind every backtest origin.

Backtest (docs/pipeline.md gives the same procedure in words): origins are the last
``ORIGINS`` months (fewer when the history is short), never earlier than the longest minimum
training length among the offered methods, so every method is scored on the same origins. At
origin o each method is fitted on months [0, o) only and forecasts months o … o+h−1 (cut at the
end of the history); MAE is the mean absolute error over every (origin, step) pair. The
method used is the simplest one within one standard error of the lowest MAE (`_choose`).

Won value cannot be negative: point forecasts and interval bounds are clipped at 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

SEASON = 12
HORIZON = 3  # months ahead scored from every backtest origin
ORIGINS = 12  # at most this many backtest origins: the last 12 months
MIN_ORIGINS = 2  # a method is offered only when it can be scored on at least this many origins
LEVELS = (80, 95)
_Z = {level: NormalDist().inv_cdf(0.5 + level / 200) for level in LEVELS}


@dataclass(frozen=True)
class Prediction:
    mean: np.ndarray
    bands: dict[int, tuple[np.ndarray, np.ndarray]]  # level -> (lower, upper)


# (history, months ahead, with intervals, memo) -> prediction; the memo lets a model start its
# fit at the optimum found for the previous origin (the same model on one month less)
Predictor = Callable[[pd.Series, int, bool, dict[str, Any]], Prediction]


def _normal(mean: np.ndarray, sd: np.ndarray, intervals: bool) -> Prediction:
    bands = {lv: (mean - _Z[lv] * sd, mean + _Z[lv] * sd) for lv in LEVELS} if intervals else {}
    return Prediction(mean, bands)


def _rms(resid: np.ndarray, ddof: int = 0) -> float:
    resid = resid[np.isfinite(resid)]
    if len(resid) <= ddof:
        return 0.0
    return float(np.sqrt(np.sum(resid**2) / (len(resid) - ddof)))


def _mean(y: pd.Series, h: int, intervals: bool, memo: dict[str, Any]) -> Prediction:
    """The historic mean; sd of the forecast σ·√(1 + 1/T) (the same at every horizon)."""
    v = y.to_numpy(dtype=float)
    sigma = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
    return _normal(np.full(h, v.mean()), np.full(h, sigma * np.sqrt(1 + 1 / len(v))), intervals)


def _naive(y: pd.Series, h: int, intervals: bool, memo: dict[str, Any]) -> Prediction:
    """The last month's value; a random walk: sd σ·√h, σ from the month-to-month changes."""
    v = y.to_numpy(dtype=float)
    sigma = _rms(np.diff(v))
    return _normal(np.full(h, v[-1]), sigma * np.sqrt(np.arange(1, h + 1)), intervals)


def _seasonal_naive(y: pd.Series, h: int, intervals: bool, memo: dict[str, Any]) -> Prediction:
    """The same calendar month of the last year, repeated year after year for a long horizon;
    sd σ·√(k+1) with k the number of whole years ahead, σ from the year-on-year changes."""
    v = y.to_numpy(dtype=float)
    steps = np.arange(h)
    mean = v[len(v) - SEASON + steps % SEASON]
    sigma = _rms(v[SEASON:] - v[:-SEASON])
    return _normal(mean, sigma * np.sqrt(steps // SEASON + 1), intervals)


def _drift(y: pd.Series, h: int, intervals: bool, memo: dict[str, Any]) -> Prediction:
    """The last month plus h times the average monthly change; sd σ·√(h(1 + h/(T−1)))."""
    v = y.to_numpy(dtype=float)
    slope = (v[-1] - v[0]) / (len(v) - 1)
    steps = np.arange(1, h + 1)
    sigma = _rms(np.diff(v) - slope, ddof=1)
    return _normal(v[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (len(v) - 1))), intervals)


def _ets(seasonal: bool) -> Predictor:
    def predict(y: pd.Series, h: int, intervals: bool, memo: dict[str, Any]) -> Prediction:
        # imported here: statsmodels takes seconds to import and only this page needs it
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        # the heuristic start (Hyndman et al.) needs 10 months, or two years with a season;
        # below that the initial level and trend are estimated with the smoothing constants
        heuristic = seasonal or len(y) >= 10
        model = ETSModel(
            y.astype(float),
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=SEASON if seasonal else None,
            initialization_method="heuristic" if heuristic else "estimated",
        )
        init = "heuristic" if heuristic else "estimated"
        try:  # warm start: far fewer optimiser steps than from statsmodels' default start
            fit = model.fit(disp=False, start_params=memo.get(init))
        except Exception:  # a start that does not suit this history: start afresh
            fit = model.fit(disp=False)
        memo[init] = fit.params
        start = len(y)
        if not intervals:
            return Prediction(np.asarray(fit.forecast(h), dtype=float), {})
        pred = fit.get_prediction(start=start, end=start + h - 1)
        bands = {}
        for lv in LEVELS:
            frame = pred.summary_frame(alpha=1 - lv / 100)
            bands[lv] = (frame["pi_lower"].to_numpy(float), frame["pi_upper"].to_numpy(float))
        return Prediction(np.asarray(pred.predicted_mean, dtype=float), bands)

    return predict


@dataclass(frozen=True)
class Method:
    key: str
    kind: Literal["baseline", "model"]
    min_train: int  # months of history the method needs behind an origin
    predict: Predictor


METHODS: tuple[Method, ...] = (
    Method("mean", "baseline", 2, _mean),
    Method("naive", "baseline", 2, _naive),
    Method("seasonal_naive", "baseline", 2 * SEASON, _seasonal_naive),
    Method("drift", "baseline", 3, _drift),
    Method("holt", "model", 6, _ets(seasonal=False)),
    Method("holt_winters", "model", 2 * SEASON, _ets(seasonal=True)),
)
BY_KEY = {m.key: m for m in METHODS}
MIN_MONTHS = min(m.min_train for m in METHODS) + MIN_ORIGINS  # below: no statistical forecast


def offered_from(method: Method) -> int:
    """Complete months from which `method` is offered (scored on at least MIN_ORIGINS origins)."""
    return method.min_train + MIN_ORIGINS


def _quiet(
    method: Method, y: pd.Series, h: int, intervals: bool, memo: dict[str, Any] | None = None
) -> Prediction | None:
    """`method`'s prediction with statsmodels' and numpy's warnings kept local; None when the
    fit fails or gives a non-finite forecast (the method is then "could not be fitted")."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            p = method.predict(y, h, intervals, {} if memo is None else memo)
        except Exception:  # any failure of a fit is reported as such, never raised
            return None
    values = [p.mean, *(b for pair in p.bands.values() for b in pair)]
    if any(len(v) != h or not np.isfinite(v).all() for v in values):
        return None
    mean = np.maximum(p.mean, 0.0)
    bands = {
        lv: (np.minimum(np.maximum(lo, 0.0), mean), np.maximum(hi, mean)) for lv, (lo, hi) in p.bands.items()
    }
    return Prediction(mean, bands)


def backtest(series: pd.Series, horizon: int = HORIZON) -> dict[str, Any]:
    """Every method's rolling-origin errors on `series` (complete months, oldest first).

    Returns ``origins`` (the months forecast from), ``horizon``, ``methods`` (one row per method:
    key, kind, status ok / failed / not_offered, offered_from, mae, se (standard error of the MAE
    over the origins), mase, smape, best (lowest MAE), chosen) and
    ``chosen`` (the key used, None when nothing could be fitted or the history is too short),
    ``memos`` (per method, its fitted parameters at the last origin)."""
    y = series.astype(float)
    n = len(y)
    offered = [m for m in METHODS if n >= offered_from(m)]
    first = max([n - ORIGINS, *(m.min_train for m in offered)]) if offered else n
    origins = list(range(first, n)) if n >= MIN_MONTHS else []
    actual = np.full((len(origins), horizon), np.nan)
    for i, o in enumerate(origins):
        k = min(horizon, n - o)
        actual[i, :k] = y.iloc[o : o + k]
    train = y.iloc[:first].to_numpy()
    scale = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0  # naive in-sample MAE
    rows: list[dict[str, Any]] = []
    memos: dict[str, dict[str, Any]] = {}
    for m in METHODS:
        row: dict[str, Any] = {
            "key": m.key,
            "kind": m.kind,
            "offered_from": offered_from(m),
            "status": "not_offered",
            "mae": None,
            "se": None,
            "mase": None,
            "smape": None,
        }
        if m in offered and origins:
            forecast = np.full_like(actual, np.nan)
            memo = memos[m.key] = {}
            for i, o in enumerate(origins):
                k = min(horizon, n - o)
                p = _quiet(m, y.iloc[:o], k, intervals=False, memo=memo)
                if p is None:
                    break
                forecast[i, :k] = p.mean
            else:
                err = np.abs(forecast - actual)
                mae = float(np.nanmean(err))
                per_origin = np.nanmean(err, axis=1)
                se = float(np.std(per_origin, ddof=1) / np.sqrt(len(per_origin))) if len(origins) > 1 else 0.0
                denom = np.abs(forecast) + np.abs(actual)
                ratio = np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), np.nan)
                ratio = np.where((denom == 0) & np.isfinite(actual), 0.0, ratio)  # 0 forecast for 0
                row.update(
                    status="ok",
                    mae=mae,
                    se=se,
                    mase=mae / scale if scale > 0 else None,
                    smape=float(np.nanmean(ratio)),
                )
            if row["status"] != "ok":
                row["status"] = "failed"
        rows.append(row)
    return {
        "origins": [series.index[o] for o in origins],
        "horizon": horizon,
        "methods": rows,
        "chosen": _choose(rows),
        "memos": memos,  # each model's last fitted parameters: the start of the final fit
    }


def best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The scored method with the lowest MAE (the simpler one on an exact tie)."""
    scored = [r for r in rows if r["status"] == "ok"]
    return min(scored, key=lambda r: r["mae"]) if scored else None


def _choose(rows: list[dict[str, Any]]) -> str | None:
    """The one-standard-error rule: the simplest method (rows are in METHODS order) whose MAE is
    within one standard error of the lowest MAE ties with it and is used. The standard error is
    that of the best method's mean over the origins of its per-origin MAE: a more complex method
    must beat a simpler one by more than the backtest's own noise to be used."""
    top = best(rows)
    if top is None:
        return None
    limit = top["mae"] + top["se"] + 1e-9 * max(top["mae"], 1.0)
    return next(r["key"] for r in rows if r["status"] == "ok" and r["mae"] <= limit)


def forecast(series: pd.Series, horizon: int = 6, test: dict[str, Any] | None = None) -> dict[str, Any]:
    """The backtest and the chosen method's forecast of the next `horizon` months.

    ``status``: ``ok``, ``too_short`` (fewer than MIN_MONTHS complete months) or ``failed``
    (no method could be fitted). ``points``: month, value, lo80, hi80, lo95, hi95.
    ``best``: the lowest MAE; ``baseline_won``: a simple baseline is used and had the lowest
    error although a model was scored; ``baseline_tied``: a baseline is used because no model
    beat it by more than one standard error."""
    test = test if test is not None else backtest(series)
    rows = {r["key"]: r for r in test["methods"]}
    out: dict[str, Any] = {
        "backtest": test,
        "method": None,
        "best": None,
        "baseline_won": False,
        "baseline_tied": False,
        "points": [],
    }
    if len(series) < MIN_MONTHS:
        return {**out, "status": "too_short"}
    chosen = test["chosen"]
    prediction = None
    while chosen is not None:
        memo = test.get("memos", {}).get(chosen)
        prediction = _quiet(BY_KEY[chosen], series.astype(float), horizon, intervals=True, memo=memo)
        if prediction is not None:
            break
        rows[chosen]["status"] = "failed"  # fitted on every origin, not on the whole history
        rows[chosen]["chosen"] = False
        chosen = _choose(list(rows.values()))
    top = best(list(rows.values()))
    for r in rows.values():
        r["chosen"] = r["key"] == chosen
        r["best"] = top is not None and r["key"] == top["key"]
    test["chosen"] = chosen
    if chosen is None or prediction is None:
        return {**out, "status": "failed"}
    months = pd.date_range(series.index[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    points = pd.DataFrame({"month": months, "value": prediction.mean})
    for lv, (lo, hi) in prediction.bands.items():
        points[f"lo{lv}"], points[f"hi{lv}"] = lo, hi
    model_scored = any(r["kind"] == "model" and r["status"] == "ok" for r in rows.values())
    baseline = BY_KEY[chosen].kind == "baseline" and model_scored
    return {
        **out,
        "status": "ok",
        "method": chosen,
        "best": top["key"] if top else None,
        # a baseline is used: with the lowest error of all ("won"), or tied with a model (within
        # one standard error of it: the models were not clearly better)
        "baseline_won": baseline and rows[chosen]["best"],
        "baseline_tied": baseline and not rows[chosen]["best"],
        "points": points,
    }
