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


_FEW_GROUPS = 64  # up to this many groups, a median per group by selection beats one sort


def _group_order(group: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts by `group` (non-negative ints), then by `values`, and the groups in
    that order. Groups in 0..65535 (stage ids): one float sort and one stable radix sort of the
    16-bit groups (numpy's stable sort of ≤16-bit ints), instead of one sort per group; larger
    ids (accounts): a lexsort."""
    if len(group) and group.max() > np.iinfo(np.uint16).max:
        order = np.lexsort((values, group))
        return order, group[order]
    by_value = np.argsort(values)
    small = group.astype(np.uint16)[by_value]
    then = np.argsort(small, kind="stable")
    return by_value[then], small[then]


def grouped_median(group: np.ndarray, values: np.ndarray) -> dict[int, float]:
    """The median of `values` per non-negative integer `group` (no NaN): by selection within each
    of a few groups, else from one sort of everything."""
    g = np.asarray(group, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    if not len(v):
        return {}
    if g.min() < 0:
        raise ValueError("groups are non-negative integers")
    if g.max() <= np.iinfo(np.uint16).max and np.count_nonzero(np.bincount(g)) <= _FEW_GROUPS:
        # a few groups (stages): a radix sort by group, then each group's median by selection
        order = np.argsort(g.astype(np.uint16), kind="stable")
        gs, vs = g[order], v[order]
        starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
        ends = np.r_[starts[1:], len(gs)]
        return {int(gs[a]): float(np.median(vs[a:b])) for a, b in zip(starts, ends, strict=True)}
    # many groups (accounts): one sort of everything, each group's middle value(s)
    order, gs = _group_order(g, v)
    vs = v[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    ends = np.r_[starts[1:], len(gs)]
    lo, hi = starts + (ends - starts - 1) // 2, starts + (ends - starts) // 2
    return dict(zip(gs[starts].tolist(), ((vs[lo] + vs[hi]) / 2).tolist(), strict=True))


def summary_by_group(group: np.ndarray, durations: np.ndarray, observed: np.ndarray) -> dict[int, Summary]:
    """`summary` for each small non-negative integer `group` (a stage id), the same figures, from
    one sort of everything rather than one sort per group (tests/core/test_survival.py)."""
    g = np.asarray(group, dtype=np.int64)
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    unknown = np.isnan(d)
    if unknown.any():
        g, d, e = g[~unknown], d[~unknown], e[~unknown]
    if not len(d):
        return {}
    if g.min() < 0:
        raise ValueError("groups are non-negative integers")
    order, gs = _group_order(g, d)
    ds, es = d[order], e[order]
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:], len(gs)]
    # runs of equal (group, time): a run's first index says how many of its group ended before
    run = np.flatnonzero(new_group | np.r_[True, ds[1:] != ds[:-1]])
    events = np.add.reduceat(es.view(np.int8), run, dtype=np.int64)
    run_end = ends[np.cumsum(new_group)[run] - 1]  # the end of the run's group
    factor = 1.0 - events / (run_end - run)
    out: dict[int, Summary] = {}
    runs_at = np.searchsorted(run, starts)
    runs_to = np.r_[runs_at[1:], len(run)]
    for sid, a, b, ra, rb in zip(gs[starts].tolist(), starts, ends, runs_at, runs_to, strict=True):
        has = events[ra:rb] > 0
        times, surv = ds[run[ra:rb]][has], np.cumprod(factor[ra:rb])[has]
        finished = ds[a:b][es[a:b]]  # already sorted
        k = len(finished)
        out[int(sid)] = {
            "n": int(b - a),
            "events": k,
            "censored": int(b - a - k),
            "median": _quantile(times, surv, 0.5),
            "p90": _quantile(times, surv, 0.9),
            "median_finished": float((finished[(k - 1) // 2] + finished[k // 2]) / 2) if k else None,
        }
    return out
