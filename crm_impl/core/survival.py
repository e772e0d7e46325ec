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
    """`summary` for each non-negative integer `group` (a stage id), the same figures
    (tests/core/test_survival.py), from one radix sort by group and, within each group, a sort
    of its finished and of its censored durations apart (a plain sort, no argsort: the
    flag is known for each part). At a distinct finished time t, the group's at-risk count is
    everything with a duration ≥ t in either part, found by bisection; S(t) is the product over
    the finished times only, as a censored-only time multiplies it by exactly 1."""
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
    small = g.max() <= np.iinfo(np.uint16).max  # stage ids: numpy's stable sort is a radix sort
    by_group = np.argsort(g.astype(np.uint16) if small else g, kind="stable")
    gs, ds, es = g[by_group], d[by_group], e[by_group]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    ends = np.r_[starts[1:], len(gs)]
    out: dict[int, Summary] = {}
    for sid, a, b in zip(gs[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        flag = es[a:b]
        finished, running = np.sort(ds[a:b][flag]), np.sort(ds[a:b][~flag])
        k, m = len(finished), len(running)
        first = np.flatnonzero(np.r_[True, finished[1:] != finished[:-1]]) if k else np.empty(0, np.int64)
        times = finished[first]
        events = np.diff(np.r_[first, k])
        at_risk = (k - first) + (m - np.searchsorted(running, times, side="left"))
        surv = np.cumprod(1.0 - events / at_risk)
        out[int(sid)] = {
            "n": b - a,
            "events": k,
            "censored": m,
            "median": _quantile(times, surv, 0.5),
            "p90": _quantile(times, surv, 0.9),
            "median_finished": float((finished[(k - 1) // 2] + finished[k // 2]) / 2) if k else None,
        }
    return out
