"""The loader's own conversion of epoch seconds to UTC datetimes (`frames._utc`) gives what
`pd.to_datetime(seconds, unit="s", utc=True)` gives, to the nanosecond: fractions, NaN, dates
before 1970, and values past the nanosecond range (left to pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_impl.pipeline.queries import frames


@pytest.mark.parametrize("seed", range(5))
def test_seconds_become_the_datetimes_pandas_makes(seed):
    rng = np.random.default_rng(seed)
    seconds = rng.uniform(-2e9, 4e9, 5_000)  # 1906 .. 2096
    seconds[::7] = np.round(seconds[::7], 6)  # microseconds, as julianday gives
    seconds[::11] = np.round(seconds[::11])  # whole seconds
    seconds[::13] = np.nan
    seconds[:3] = [0.0, -0.5, 1e-9]
    got = frames._utc(seconds)
    want = pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True))
    assert got.dtype == want.dtype
    assert got.asi8.tolist() == want.asi8.tolist()


def test_nothing_and_only_missing():
    assert len(frames._utc(np.empty(0))) == 0
    assert frames._utc(np.array([np.nan, np.nan])).isna().all()


def test_a_date_past_the_nanosecond_range_is_left_to_pandas():
    seconds = np.array([1.7e9, 1e10, np.nan])  # the second one is in the year 2286
    got, want = frames._utc(seconds), pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True))
    assert got.dtype == want.dtype  # pandas picks a coarser unit then, and so does the loader
    assert got.equals(want)
