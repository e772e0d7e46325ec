"""Kaplan–Meier (core/survival) against the textbook product-limit estimate written out as a
loop: at each distinct event time t, S *= 1 - d_t / n_t (n_t: durations >= t), on random data
with many ties and censored values."""

import numpy as np
import pytest

from crm_impl.core import survival


def _by_hand(d: np.ndarray, e: np.ndarray) -> tuple[list[float], list[float]]:
    times, surv, s = [], [], 1.0
    for t in sorted(set(d[e].tolist())):
        at_risk = int((d >= t).sum())
        events = int(((d == t) & e).sum())
        s *= 1 - events / at_risk
        times.append(t)
        surv.append(s)
    return times, surv


@pytest.mark.parametrize("seed", range(20))
def test_the_curve_is_the_product_limit_estimate(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    d = rng.integers(0, 12, n).astype(float)  # few distinct values: ties everywhere
    e = rng.random(n) < 0.7
    d[rng.random(n) < 0.1] = np.nan  # unknown durations are left out
    times, surv = survival.kaplan_meier(d, e)
    keep = ~np.isnan(d)
    want_times, want_surv = _by_hand(d[keep], e[keep])
    assert times.tolist() == want_times
    assert np.allclose(surv, want_surv)
    median = next((t for t, s in zip(want_times, want_surv, strict=True) if s <= 0.5 + 1e-12), None)
    assert survival.summary(d, e)["median"] == median


@pytest.mark.parametrize("seed", range(20))
def test_one_sort_per_group_gives_each_groups_own_summary(seed):
    """summary_by_group (one sort of every stay, used per stage) == summary of each group alone."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    # stage ids; a hundred small account ids; account ids past 16 bits
    ids = ([0, 3, 4, 9, 17], list(range(0, 300, 3)), [0, 5, 70_000, 1_000_000])[seed % 3]
    group = rng.choice(ids, n)  # gaps between the ids
    d = rng.integers(0, 15, n).astype(float) + (rng.random(n) < 0.3) * rng.random(n)
    e = rng.random(n) < rng.random()  # some groups never reach half finished
    d[rng.random(n) < 0.05] = np.nan
    got = survival.summary_by_group(group, d, e)
    keep = ~np.isnan(d)
    assert sorted(got) == sorted(set(group[keep].tolist()))
    for g, s in got.items():
        assert s == survival.summary(d[group == g], e[group == g]), g
    medians = survival.grouped_median(group[keep], d[keep])
    assert medians == {g: float(np.median(d[keep][group[keep] == g])) for g in got}


def test_grouped_figures_of_nothing_are_empty():
    assert survival.summary_by_group(np.empty(0, int), np.empty(0), np.empty(0, bool)) == {}
    assert survival.grouped_median(np.empty(0, int), np.empty(0)) == {}
