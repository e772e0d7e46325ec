"""Kaplan–Meier estimates for durations where some are still running (censored).

DESIGN.md counts what is still going on as censored: a stay still open in a stage, a defect not
fixed yet. Its elapsed time is a lower bound, so leaving it out makes things look fast and
counting it as finished makes them look faster still. Kaplan–Meier uses it for exactly what it
is: "lasted at least this long". Pure numpy, vectorised; no database, no pandas needed.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np


class Summary(TypedDict):
    n: int  # every duration
    events: int  # finished ones
    censored: int  # still running
    median: float | None  # Kaplan–Meier; None when fewer than half are known to have finished
    p90: float | None  # Kaplan–Meier 90th percentile; None when not reached
    median_finished: float | None  # median of the finished ones only (biased low; shown beside)


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The survival curve: distinct event times and S(t) just after each (1 − share finished).

    `durations` ≥ 0 (NaN dropped); `observed[i]` True when duration i finished, False when it is
    still running (censored at that time). A censored duration tied with an event counts as at
    risk at that event, as usual.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    if not len(d):
        return np.empty(0), np.empty(0)
    # one sort: equal times form runs; a run's first index says how many ended before it
    order = np.argsort(d, kind="stable")
    ds, es = d[order], e[order]
    first = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1]])
    events = np.add.reduceat(es.astype(np.int64), first)
    at_risk = len(d) - first
    surv = np.cumprod(1.0 - events / at_risk)
    has = events > 0
    return ds[first][has], surv[has]


def _quantile(times: np.ndarray, surv: np.ndarray, q: float) -> float | None:
    reached = np.flatnonzero(surv <= 1.0 - q + 1e-12)
    return float(times[reached[0]]) if len(reached) else None


def quantile(durations: np.ndarray, observed: np.ndarray, q: float) -> float | None:
    """The smallest time by which a share `q` has finished (S(t) ≤ 1 − q); None if never reached."""
    return _quantile(*kaplan_meier(durations, observed), q)


def summary(durations: np.ndarray, observed: np.ndarray) -> Summary:
    """Counts, the Kaplan–Meier median and 90th percentile, and the median of finished ones."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    finished = d[e]
    curve = kaplan_meier(d, e)  # once, for both quantiles
    return {
        "n": len(d),
        "events": len(finished),
        "censored": int(len(d) - len(finished)),
        "median": _quantile(*curve, 0.5),
        "p90": _quantile(*curve, 0.9),
        "median_finished": float(np.median(finished)) if len(finished) else None,
    }
