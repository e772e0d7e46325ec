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
