"""Pipeline metrics against small hand-computed cases: a skipped stage (A skips Negotiation),
a re-entered stage (C goes back from Needs analysis to Contact made and returns), lost from
every stage, and an empty pipeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.metrics import forecast as fc
from crm_impl.pipeline.services.stages import DEFAULT_STAGES

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = [s[0] for s in DEFAULT_STAGES]
ID = {k: i + 1 for i, k in enumerate(KEYS)}


def day(n: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + timedelta(days=n))


def stages() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": i + 1,
                "key": k,
                "position": i + 1,
                "name_en": en,
                "name_pl": pl,
                "kind": kind,
                "probability": p,
                "stage_cost": float(cost),
                "rot_days": rot,
            }
            for i, (k, en, pl, kind, p, cost, rot) in enumerate(DEFAULT_STAGES)
        ]
    )


def frames(
    paths: dict[int, list[tuple[str, float]]], **extra: dict[int, dict]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals from their stage paths [(stage key, day)], created at the first entry."""
    kinds = stages().set_index("key")["kind"]
    deals, changes = [], []
    for deal_id, path in paths.items():
        closed = next((day(d) for k, d in path if kinds[k] != "open"), pd.NaT)
        row = {
            "id": deal_id,
            "account_id": deal_id,
            "owner_id": 1,
            "stage_id": ID[path[-1][0]],
            "value": 100.0,
            "probability": np.nan,
            "expected_close": pd.NaT,
            "created_at": day(path[0][1]),
            "closed_at": closed,
            "last_touch_at": day(path[-1][1]),
            "stage_entered_at": day(path[-1][1]),
            "promised_delivery": pd.NaT,
            "actual_delivery": pd.NaT,
        }
        row.update(extra.get("deal", {}).get(deal_id, {}))
        deals.append(row)
        prev = None
        for key, d in path:
            changes.append({"deal_id": deal_id, "from_stage_id": prev, "to_stage_id": ID[key], "at": day(d)})
            prev = ID[key]
    d = pd.DataFrame(deals)
    for col in ("created_at", "closed_at", "last_touch_at", "stage_entered_at"):
        d[col] = pd.to_datetime(d[col], utc=True)
    for col in ("expected_close", "promised_delivery", "actual_delivery"):
        d[col] = pd.to_datetime(d[col])
    c = pd.DataFrame(changes)
    c["at"] = pd.to_datetime(c["at"], utc=True)
    return d, c


PATHS = {
    1: [
        ("prospect", 0),
        ("contact_made", 3),
        ("needs_analysis", 10),
        ("offer", 20),
        ("contract", 40),
    ],  # skips negotiation
    2: [("prospect", 0), ("contact_made", 4), ("lost", 10)],
    3: [
        ("prospect", 0),
        ("contact_made", 2),
        ("needs_analysis", 5),
        ("contact_made", 9),
        ("needs_analysis", 10),
        ("offer", 16),
    ],
    4: [("prospect", 0)],
}
EXTRA = {
    1: {
        "value": 1000.0,
        "promised_delivery": pd.Timestamp("2026-03-01"),
        "actual_delivery": pd.Timestamp("2026-03-03"),
    },
    2: {"value": 500.0},
    3: {"value": 2000.0, "probability": 0.5, "last_touch_at": day(55)},
    4: {"value": 100.0},
}


@pytest.fixture
def case():
    deals, changes = frames(PATHS, deal=EXTRA)
    return deals, changes, stages()


def test_stage_share_counts_open_deals_accounts_and_value(case):
    deals, _, st = case
    share = pm.stage_share(deals, st).set_index("key")
    assert share.loc["prospect", "open_deals"] == 1 and share.loc["offer", "open_deals"] == 1
    assert share.loc["offer", "share"] == 0.5 and share.loc["negotiation", "share"] == 0
    assert (
        share.loc["offer", "value"] == 2000 and share.loc["offer", "weighted_value"] == 1000
    )  # override 0.5
    assert share.loc["prospect", "weighted_value"] == pytest.approx(5)  # stage default 5 %
    assert share.loc["offer", "value_share"] == pytest.approx(2000 / 2100)
    assert "contract" not in share.index  # only open stages


def test_totals_win_rate_cycle_velocity(case):
    deals, _, st = case
    s = pm.summary(deals, st, day(60))
    assert (s["open"], s["won"], s["lost"]) == (2, 1, 1)
    assert s["win_rate"] == 0.5
    assert (
        s["won_value"] == 1000 and s["pipeline_value"] == 2100 and s["weighted_value"] == pytest.approx(1005)
    )
    assert s["avg_sales_cycle_days"] == pytest.approx(40)
    assert s["velocity_per_day"] == pytest.approx(2 * 1000 * 0.5 / 40)
    assert s["stale_deals"] == 1  # deal 4: 60 idle days > 30; deal 3 touched on day 55


def test_win_rate_only_counts_deals_closed_in_the_period(case):
    deals, _, st = case
    assert pm.win_rate(deals, st, since=day(20), until=day(60)) == 1.0  # only the win on day 40
    assert pm.win_rate(deals, st, since=day(100)) is None


def test_funnel_counts_skipped_stages_as_passed(case):
    deals, changes, st = case
    f = pm.funnel(changes, deals, st).set_index("key")
    assert list(f["reached"]) == [4, 3, 2, 2, 1, 1, 0, 0]
    assert list(f["entered"]) == [4, 3, 2, 2, 0, 1, 0, 0]  # A skipped negotiation
    # conversion among the deals that LEFT the stage (DESIGN.md); deal 4 still sits in prospect
    assert f.loc["prospect", "conversion"] == 1.0
    assert f.loc["contact_made", "conversion"] == pytest.approx(2 / 3)  # B went to Lost
    assert f.loc["offer", "conversion"] == 1.0  # C still sits in offer: no failure
    assert np.isnan(f.loc["negotiation", "conversion"])  # nobody left it (A skipped it)
    assert np.isnan(f.loc["fulfilment", "conversion"])
    assert "lost" not in f.index


def test_time_in_stage_latest_and_cumulative_with_re_entry(case):
    _, changes, st = case
    tis = pm.time_in_stage(changes, st).set_index("key")
    assert tis.loc["needs_analysis", "latest_median"] == pytest.approx(8)  # A 10, C 6 (its last stay)
    assert tis.loc["needs_analysis", "cumulative_mean"] == pytest.approx(10)  # A 10, C 4 + 6
    assert tis.loc["contact_made", "latest_median"] == pytest.approx(6)  # A 7, B 6, C 1
    assert tis.loc["contact_made", "latest_mean"] == pytest.approx(14 / 3)
    assert tis.loc["contact_made", "cumulative_mean"] == pytest.approx(17 / 3)  # C 3 + 1
    assert tis.loc["prospect", "deals"] == 3  # deal 4 never left prospect: no closed stay
    assert np.isnan(tis.loc["negotiation", "latest_median"])


def test_stage_cost_once_per_deal_and_stage_and_against_budget(case):
    deals, changes, st = case
    cost = pm.stage_cost(changes, deals, st).set_index("key")
    assert cost.loc["prospect", "cost"] == 4 * 50
    assert cost.loc["needs_analysis", "cost"] == 2 * 400  # C re-entered: still once
    assert cost.loc["negotiation", "cost"] == 0
    assert cost.loc["contract", "cost"] == 300
    budget = pd.DataFrame({"month": pd.to_datetime(["2026-01-01"]), "amount": [1000.0]})
    cvb = pm.cost_vs_budget(changes, deals, st, budget).set_index("month")
    assert cvb.loc["2026-01-01", "cost"] == 200 + 360 + 800 + 1200
    assert cvb.loc["2026-01-01", "ratio"] == pytest.approx(2.56)
    assert cvb.loc["2026-02-01", "cost"] == 300 and np.isnan(cvb.loc["2026-02-01", "ratio"])


def test_monthly_trends_and_on_time(case):
    deals, _, st = case
    tr = pm.monthly_trends(deals, st).set_index("month")
    assert tr.loc["2026-01-01", "new"] == 4 and tr.loc["2026-01-01", "lost"] == 1
    assert tr.loc["2026-02-01", "won"] == 1 and tr.loc["2026-02-01", "won_value"] == 1000
    ot = pm.on_time_fulfilment(deals)
    assert ot == {"delivered": 1, "on_time": 0, "late": 1, "on_time_rate": 0.0, "mean_delay_days": 2.0}


def test_stale_by_owner(case):
    deals, _, st = case
    by = pm.stale_by_owner(deals, st, day(60))
    assert by.iloc[0][["open_deals", "stale_deals", "stale_value"]].tolist() == [2, 1, 100.0]


@pytest.mark.parametrize("k", range(5))
def test_lost_from_each_open_stage(k):
    open_keys = KEYS[:5]
    path = [(key, i) for i, key in enumerate(open_keys[: k + 1])] + [("lost", k + 1)]
    deals, changes = frames({1: path})
    st = stages()
    s = pm.summary(deals, st, day(10))
    assert (s["open"], s["won"], s["lost"], s["win_rate"]) == (0, 0, 1, 0.0)
    f = pm.funnel(changes, deals, st).set_index("key")
    assert f.loc[open_keys[k], "reached"] == 1
    assert f["reached"].sum() == k + 1
    cost = pm.stage_cost(changes, deals, st)
    assert cost["cost"].sum() == sum(s_[5] for s_ in DEFAULT_STAGES[: k + 1])


def test_empty_pipeline():
    deals, changes = frames({1: [("prospect", 0)]})
    deals, changes = deals.iloc[0:0], changes.iloc[0:0]
    st = stages()
    s = pm.summary(deals, st, day(0))
    assert (s["open"], s["won"], s["lost"], s["win_rate"], s["velocity_per_day"]) == (0, 0, 0, None, None)
    assert s["avg_sales_cycle_days"] is None and s["stale_deals"] == 0
    assert pm.stage_share(deals, st)["open_deals"].sum() == 0
    assert pm.funnel(changes, deals, st)["reached"].sum() == 0
    assert pm.time_in_stage(changes, st)["deals"].sum() == 0
    assert pm.monthly_trends(deals, st).empty
    assert fc.monthly_won_value(deals, st, date(2026, 6, 1)).empty
    assert pm.relationship_outlook(deals, st, date(2026, 6, 1)).empty
    assert fc.backtest(fc.monthly_won_value(deals, st, date(2026, 6, 1)))["origins"] == []


def test_weighted_forecast_by_close_month_clamps_slipped_deals(case):
    deals, _, st = case
    deals.loc[deals["id"] == 3, "expected_close"] = pd.Timestamp("2026-01-20")  # in the past on 2026-03-05
    deals.loc[deals["id"] == 4, "expected_close"] = pd.Timestamp("2026-04-15")
    wf = fc.weighted_by_close_month(deals, st, date(2026, 3, 5)).set_index("month")
    assert wf.loc["2026-03-01", "weighted_value"] == 1000 and wf.loc["2026-03-01", "slipped"] == 1
    assert wf.loc["2026-04-01", "weighted_value"] == pytest.approx(5)


def test_relationship_outlook_median_gap_and_risk():
    paths = {i: [("prospect", d0), ("contract", d0 + 1)] for i, d0 in ((1, 0), (2, 30), (3, 90))}
    deals, _ = frames(paths, deal={i: {"account_id": 7} for i in paths})
    out = pm.relationship_outlook(deals, stages(), (T0 + timedelta(days=200)).date())
    row = out.iloc[0]
    assert row["account_id"] == 7 and row["won_deals"] == 3 and row["median_gap_days"] == 45
    assert row["next_expected"] == day(91 + 45) and row["at_risk"]
    assert row["days_overdue"] == pytest.approx(200 - 136)
