"""The statistical forecast of won value (DESIGN.md, *forecast*): every method backtested on
rolling origins, the best used, a baseline's win said plainly, prediction intervals, complete
months only. Errors are recomputed here by hand for the simple methods."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_money
from crm_impl.pipeline.metrics import forecast as fc
from crm_impl.pipeline.metrics.forecast import statistical as stat
from crm_impl.pipeline.models import Deal, StageChange, StageDefinition
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report as pipeline_report
from tests.apptest import ROLE_LOGINS
from tests.core.test_permissions import EXPECTED
from tests.pipeline.test_metrics import frames, stages

MONTHS_36 = pd.date_range("2023-01-01", periods=36, freq="MS")


def seasonal_series(seed: int = 12) -> pd.Series:
    """3 years, a clear yearly pattern (±40 % around 100,000) plus 5 % noise."""
    rng = np.random.default_rng(seed)
    month = np.arange(36)
    return pd.Series(100_000 + 40_000 * np.sin(2 * np.pi * month / 12) + rng.normal(0, 5_000, 36), MONTHS_36)


def flat_series(seed: int = 0) -> pd.Series:
    """3 years around one level: white noise of 20 % and nothing else."""
    rng = np.random.default_rng(seed)
    return pd.Series(100_000 + rng.normal(0, 20_000, 36), MONTHS_36)


def rows(result: dict) -> dict[str, dict]:
    return {r["key"]: r for r in result["backtest"]["methods"]}


def hand_mae(y: np.ndarray, origins: range, predict) -> float:  # type: ignore[no-untyped-def]
    """MAE over every (origin, step ≤ 3) pair inside the history; predict(train, step) -> value."""
    errors = [
        abs(predict(y[:o], s) - y[o + s - 1]) for o in origins for s in range(1, 4) if o + s - 1 < len(y)
    ]
    return float(np.mean(errors))


def test_seasonal_series_a_seasonal_method_wins_and_is_used():
    y = seasonal_series()
    result = fc.forecast(y, 6)
    by = rows(result)
    # 12 origins, the first with 24 months behind it; seasonal methods are offered and scored
    assert result["backtest"]["origins"] == list(MONTHS_36[24:])
    assert by["seasonal_naive"]["status"] == by["holt_winters"]["status"] == "ok"
    assert result["method"] in {"seasonal_naive", "holt_winters"}
    best_plain = min(by[k]["mae"] for k in ("mean", "naive", "drift", "holt"))
    assert max(by["seasonal_naive"]["mae"], by["holt_winters"]["mae"]) < best_plain / 3
    v = y.to_numpy()
    origins = range(24, 36)
    assert by["seasonal_naive"]["mae"] == pytest.approx(
        hand_mae(v, origins, lambda tr, s: tr[len(tr) - 12 + s - 1])
    )
    assert by["mean"]["mae"] == pytest.approx(hand_mae(v, origins, lambda tr, s: tr.mean()))
    assert by["naive"]["mae"] == pytest.approx(hand_mae(v, origins, lambda tr, s: tr[-1]))
    assert [r["key"] for r in result["backtest"]["methods"] if r["chosen"]] == [result["method"]]
    baseline_used = result["baseline_won"] or result["baseline_tied"]
    assert baseline_used == (result["method"] == "seasonal_naive")
    # the forecast follows the season: next January–June is shaped like last year's
    points = result["points"]
    assert list(points["month"]) == list(pd.date_range("2026-01-01", periods=6, freq="MS"))
    assert np.corrcoef(points["value"], v[-12:-6])[0, 1] > 0.9


def test_flat_noisy_series_the_historic_mean_wins_and_a_baseline_is_said_to_win():
    result = fc.forecast(flat_series(), 6)
    by = rows(result)
    assert result["method"] == result["best"] == "mean" and result["baseline_won"]
    assert not result["baseline_tied"] and by["mean"]["best"] and by["mean"]["chosen"]
    assert all(by[k]["mae"] > by["mean"]["mae"] * 1.1 for k in by if k != "mean")
    assert by["mean"]["mae"] == pytest.approx(
        hand_mae(flat_series().to_numpy(), range(24, 36), lambda tr, s: tr.mean())
    )
    # the mean's forecast is the historic mean, flat
    assert np.allclose(result["points"]["value"], flat_series().mean())


def test_on_flat_noise_the_mean_is_used_whatever_the_noise():
    """Ten noise draws: a model may look a little better on 33 backtest errors by chance, and
    the one-standard-error rule keeps the mean unless a method is clearly better."""
    chosen = [fc.forecast(flat_series(seed), 6)["method"] for seed in range(10)]
    assert chosen.count("mean") >= 9, chosen


def test_one_standard_error_rule():
    def row(key, mae, se, status="ok"):  # type: ignore[no-untyped-def]
        return {"key": key, "status": status, "mae": mae, "se": se}

    # holt is best by 50 but its MAE's standard error is 80: the simpler mean is used
    assert stat._choose([row("mean", 1050, 90), row("naive", 1300, 90), row("holt", 1000, 80)]) == "mean"
    # by more than one standard error: holt is used
    assert stat._choose([row("mean", 1100, 90), row("naive", 1300, 90), row("holt", 1000, 80)]) == "holt"
    # a failed method never is
    assert stat._choose([row("mean", None, None, "failed"), row("holt", 1000, 0)]) == "holt"
    assert stat._choose([row("mean", None, None, "not_offered")]) is None


def test_short_history_offers_no_seasonal_method():
    y = seasonal_series()
    for n, offered in ((20, False), (25, False), (26, True)):
        by = rows(fc.forecast(y.iloc[:n], 6))
        assert (by["seasonal_naive"]["status"] == "ok") == offered, n
        assert (by["holt_winters"]["status"] == "ok") == offered, n
        if not offered:
            assert by["seasonal_naive"]["status"] == by["holt_winters"]["status"] == "not_offered"
            assert by["seasonal_naive"]["offered_from"] == 26 and by["seasonal_naive"]["mae"] is None
    # 20 months: the last 12 months are the origins (every simple method needs ≤ 6 months behind)
    assert fc.forecast(y.iloc[:20], 6)["backtest"]["origins"] == list(MONTHS_36[8:20])


def test_fewer_than_four_months_no_statistical_forecast():
    y = flat_series()
    assert fc.MIN_MONTHS == 4
    for n in (0, 1, 3):
        result = fc.forecast(y.iloc[:n], 6)
        assert result["status"] == "too_short" and result["method"] is None
        assert len(result["points"]) == 0 and result["backtest"]["origins"] == []
        assert all(r["status"] == "not_offered" for r in result["backtest"]["methods"])
    four = fc.forecast(y.iloc[:4], 6)
    assert four["status"] == "ok" and four["method"] in {"mean", "naive"}
    assert len(four["backtest"]["origins"]) == 2  # two origins, each with 2 months behind


@pytest.mark.parametrize("method", [m.key for m in stat.METHODS])
def test_intervals_contain_the_point_forecast_and_widen_with_the_horizon(method):
    y = seasonal_series() + 50_000  # far from 0: no bound is clipped
    p = stat._quiet(stat.BY_KEY[method], y, 18, intervals=True)
    assert p is not None
    (lo80, hi80), (lo95, hi95) = p.bands[80], p.bands[95]
    assert (lo95 <= lo80).all() and (lo80 <= p.mean).all() and (p.mean <= hi80).all() and (hi80 <= hi95).all()
    assert (lo95 < p.mean).all() and (p.mean < hi95).all()  # real bands, not a line
    width = hi95 - lo95
    assert (np.diff(width) >= -1e-6 * width[:-1]).all()  # never narrower further ahead
    if method != "mean":  # the mean's uncertainty is the same at every horizon
        assert width[-1] > width[0] * 1.05
    # won value cannot be negative
    low = stat._quiet(stat.BY_KEY[method], flat_series() - 90_000, 6, intervals=True)
    assert low is not None and (low.mean >= 0).all() and (low.bands[95][0] >= 0).all()


def test_baselines_future_is_last_year_repeated_and_never_drops_to_zero():
    y = seasonal_series()
    future = stat._quiet(stat.BY_KEY["seasonal_naive"], y, 18, intervals=False)
    assert future is not None
    assert np.allclose(future.mean[:12], y.iloc[-12:]) and np.allclose(future.mean[12:], y.iloc[-12:-6])
    assert (future.mean > 40_000).all()
    naive = stat._quiet(stat.BY_KEY["naive"], y, 18, intervals=False)
    assert naive is not None and np.allclose(naive.mean, y.iloc[-1])
    # and when it is chosen, the forecast is it
    snaive_only = fc.forecast(y.iloc[:30], 3)
    if snaive_only["method"] == "seasonal_naive":
        assert np.allclose(snaive_only["points"]["value"], y.iloc[18:21])


def test_ties_go_to_the_simpler_method_and_a_trend_is_not_the_mean():
    constant = pd.Series(500.0, MONTHS_36[:18])
    result = fc.forecast(constant, 3)
    assert result["method"] == "mean"  # every method is exact; the simplest is used
    assert rows(result)["naive"]["mae"] == pytest.approx(0)
    trend = pd.Series(np.arange(18) * 10.0 + 100, MONTHS_36[:18])
    by = rows(fc.forecast(trend, 3))
    assert by["drift"]["mae"] == pytest.approx(0, abs=1e-6) and by["mean"]["mae"] > 40
    assert fc.forecast(trend, 3)["method"] == "drift"


def test_a_method_that_fails_is_reported_not_raised(monkeypatch):
    def boom(y, h, intervals, memo):  # type: ignore[no-untyped-def]
        raise np.linalg.LinAlgError("singular")

    def final_fails(y, h, intervals, memo):  # type: ignore[no-untyped-def]
        if intervals:
            raise ValueError("no")
        return stat._mean(y, h, intervals, memo)

    methods = tuple(
        replace(m, predict=boom)
        if m.key == "holt_winters"
        else replace(m, predict=final_fails)
        if m.key == "mean"
        else m
        for m in stat.METHODS
    )
    monkeypatch.setattr(stat, "METHODS", methods)
    monkeypatch.setattr(stat, "BY_KEY", {m.key: m for m in methods})
    result = fc.forecast(flat_series(), 6)
    by = rows(result)
    assert by["holt_winters"]["status"] == "failed" and by["holt_winters"]["mae"] is None
    # the mean was best on every origin but could not be fitted on the whole history: the next best
    assert by["mean"]["status"] == "failed" and result["method"] not in {"mean", "holt_winters"}
    assert result["status"] == "ok" and len(result["points"]) == 6


def test_no_fitting_warning_escapes():
    zeros = pd.Series(0.0, pd.date_range("2020-01-01", periods=40, freq="MS"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fc.forecast(zeros, 6)
        fc.forecast(seasonal_series().iloc[:9], 6)
    assert caught == []
    assert result["status"] == "ok" and (result["points"]["value"] == 0).all()


def test_the_month_in_progress_is_not_fitted():
    # won deals in Jan–Jun 2026 (one a month) and two in July, the month in progress
    paths = {i: [("prospect", 30 * i), ("contract", 30 * i + 5)] for i in range(7)}
    paths[7] = [("prospect", 186), ("contract", 190)]
    deals, _ = frames(paths)
    st_ = stages()
    today = date(2026, 7, 20)
    series = fc.monthly_won_value(deals, st_, today)
    assert series.index.max() == pd.Timestamp("2026-06-01") and len(series) == 6
    month, value = fc.won_in_progress(deals, st_, today)
    assert month == pd.Timestamp("2026-07-01") and value == 200
    more = pd.concat([deals, deals.iloc[[7]].assign(id=99, value=1e6)], ignore_index=True)
    assert fc.monthly_won_value(more, st_, today).equals(series)  # July's wins change nothing fitted
    assert fc.won_in_progress(more, st_, today)[1] == 200 + 1e6


def _won_history(url: str, values: list[float], first: date) -> None:
    """Test setup, not under test: one won deal per month, written directly."""
    with Session(get_engine(url)) as s:
        won = s.exec(select(StageDefinition).where(StageDefinition.key == "contract")).one()
        for i, v in enumerate(values):
            month = pd.Timestamp(first) + pd.DateOffset(months=i)
            at = datetime(month.year, month.month, 10, tzinfo=UTC)
            deal = Deal(
                title=f"W{i}",
                value=Decimal(str(round(v, 2))),
                stage_id=won.id,
                created_at=at,
                stage_entered_at=at,
                last_touch_at=at,
                closed_at=at,
            )
            s.add(deal)
            s.flush()
            s.add(StageChange(deal_id=deal.id, to_stage_id=won.id, at=at))
        s.commit()


def test_cli_json_has_every_methods_error_and_the_chosen_method(db_url, make_user):
    make_user("ada", "sales_manager")
    values = list(flat_series().round(2))
    _won_history(db_url, values, date(2023, 1, 1))
    out = CliRunner().invoke(
        app,
        ["--database-url", db_url, "--as", "ada", "--json", "report", "forecast", "--today", "2026-01-15"],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [r["value"] for r in data["won_value_history"]] == pytest.approx(values)
    assert data["month_in_progress"] == {"month": "2026-01", "value": 0.0}
    methods = {m["key"]: m for m in data["backtest"]["methods"]}
    assert set(methods) == {m.key for m in stat.METHODS}
    assert all(m["status"] == "ok" and m["mae"] is not None for m in methods.values())
    assert data["method"] == data["backtest"]["chosen"] == "mean" and data["baseline_won"] is True
    assert [m["key"] for m in methods.values() if m["chosen"]] == ["mean"]
    assert methods["mean"]["mae"] == pytest.approx(
        hand_mae(np.array(values), range(24, 36), lambda tr, s: tr.mean()), abs=0.01
    )
    assert len(data["forecast"]) == 6 and data["forecast"][0]["month"] == "2026-01"
    assert all(r["lo95"] <= r["lo80"] <= r["value"] <= r["hi80"] <= r["hi95"] for r in data["forecast"])
    # the same figures through the query layer
    with Session(get_engine(db_url)) as s:
        direct = pipeline_report.forecast_from_frames(pipeline_data.load(s, changes=False), date(2026, 1, 15))
    assert direct["backtest"] == data["backtest"]


def test_cli_text_names_the_method_used(db_url, make_user):
    make_user("ada", "sales_manager")
    _won_history(db_url, [100.0, 200.0], date(2025, 10, 1))
    out = CliRunner().invoke(
        app, ["--database-url", db_url, "--as", "ada", "report", "forecast", "--today", "2026-01-15"]
    )
    assert out.exit_code == 0, out.output
    assert "status: too_short" in out.output and "method: None" in out.output


READERS = [r for r in ROLE_LOGINS if EXPECTED[r, "pipeline.read"]]


@pytest.mark.parametrize("role", READERS)
def test_forecast_page_shows_every_method_the_winner_and_the_bands(app_as, demo_url, role):
    at = app_as(ROLE_LOGINS[role], "pages/pipeline/forecast.py")
    assert not at.exception, at.exception
    with Session(get_engine(demo_url)) as s:
        expected = pipeline_report.forecast_from_frames(pipeline_data.load(s, changes=False), date.today())
    assert expected["status"] == "ok"
    table = next(d.value for d in at.dataframe if "mae" in d.value.columns)
    assert len(table) == len(stat.METHODS) and table["used"].sum() == 1
    methods = expected["backtest"]["methods"]
    assert list(table["mae"]) == [fmt_money(m["mae"]) for m in methods]
    used = table[table["used"]].iloc[0]
    chosen = next(m for m in methods if m["chosen"])
    assert used["mae"] == fmt_money(chosen["mae"])
    sentence = "forecast better than the models on this history — it is used."
    shown = [e.value for e in [*at.info, *at.success]]
    assert any(sentence in s for s in shown) == expected["baseline_won"], shown
    # the forecast chart: history, the chosen method, both bands, the month in progress apart
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    spec = next(c for c in charts if any(layer["mark"].get("type") == "area" for layer in c.get("layer", [])))
    filters = [str(layer.get("transform", "")) for layer in spec["layer"]]
    assert any("pi80" in f for f in filters) and any("pi95" in f for f in filters)
    assert any("'actual' && !datum.partial" in f for f in filters)
    element = next(c for c in at.get("vega_lite_chart") if json.loads(c.proto.spec) == spec)
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    data = pd.concat(
        [convert_arrow_bytes_to_pandas_df(d.data.data) for d in element.proto.datasets], ignore_index=True
    )
    assert set(data["series"].dropna()) == {"actual", "forecast"} and set(data["band"].dropna()) == {
        "pi80",
        "pi95",
    }
    partial = data[data["partial"]]
    assert len(partial) == 1 and partial["month"].iloc[0] == pd.Timestamp(date.today().replace(day=1))
    assert len(data[data["series"] == "forecast"]) == 6
    assert (data.loc[data["series"] == "actual", "value"].notna()).all()
    captions = " ".join(c.value for c in at.caption)
    assert "Complete months only" in captions and "complete months only" in captions
