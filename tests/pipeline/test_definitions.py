"""The corrected pipeline definitions of DESIGN.md ("Metric definitions", issue 12), each on a
hand-made history where the old definition gives a wrong figure: the old figure is worked out
in a comment (and asserted to differ), the new one by hand in the test."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from crm_impl.core.db import UnitOfWork
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.models import Deal, DealCreate
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services.stages import DEFAULT_STAGES
from tests.pipeline.test_metrics import T0, day, frames, stages
from tests.pipeline.test_services import account, people, run  # noqa: F401  (fixtures)

COST = {s[0]: float(s[5]) for s in DEFAULT_STAGES}


# 1. Funnel: entered and reached -------------------------------------------------------------
def test_funnel_entered_is_not_reached_when_a_stage_is_skipped():
    # deal 1 is created in Contact made (never in Prospect) and skips Needs analysis
    paths = {
        1: [("contact_made", 0), ("offer", 5)],
        2: [("prospect", 0), ("contact_made", 2)],
        3: [("prospect", 0)],
    }
    deals, changes = frames(paths)
    f = pm.funnel(changes, deals, stages()).set_index("key")
    # old: only "reached" (the furthest stage or later) existed, 3 for Prospect, read as entries
    assert f.loc["prospect", "reached"] == 3
    assert f.loc["prospect", "entered"] == 2  # deals 2 and 3
    assert f.loc["needs_analysis", "entered"] == 0 and f.loc["needs_analysis", "reached"] == 1
    assert (f.loc["contact_made", "entered"], f.loc["offer", "entered"]) == (2, 1)


@pytest.mark.parametrize("seed", range(10))
def test_funnel_on_random_paths_matches_counting_deal_by_deal(seed):
    """Random paths with skips, moves back and losses: entered = deals with a stay in the stage,
    reached = deals whose furthest non-lost stage is that one or later, counted per deal."""
    st = stages()
    path = st[st["kind"] != "lost"].sort_values("position")
    keys = st["key"].tolist()
    rng = np.random.default_rng(seed)
    paths = {
        deal: [(str(rng.choice(keys)), step * 2) for step in range(int(rng.integers(1, 6)))]
        for deal in range(1, 60)
    }
    deals, changes = frames(paths)
    f = pm.funnel(changes, deals, st).set_index("key")
    pos = dict(zip(path["key"], path["position"], strict=True))
    for key in path["key"]:
        been = [{k for k, _ in p} for p in paths.values()]
        assert f.loc[key, "entered"] == sum(key in b for b in been), key
        furthest = [max((pos[k] for k in b if k in pos), default=None) for b in been]
        assert f.loc[key, "reached"] == sum(p is not None and p >= pos[key] for p in furthest), key


# 2. Stage conversion among the deals that LEFT the stage -------------------------------------
def test_conversion_does_not_count_deals_still_in_the_stage_as_failures():
    paths = {
        1: [("prospect", 0), ("contact_made", 3)],  # left forward
        2: [("prospect", 0), ("lost", 4)],  # left to Lost
        3: [("prospect", 0)],  # still sitting in Prospect
        4: [("prospect", 1)],
        5: [("prospect", 2)],
    }
    deals, changes = frames(paths)
    f = pm.funnel(changes, deals, stages()).set_index("key")
    old = f.loc["contact_made", "reached"] / f.loc["prospect", "reached"]  # 1 / 5: three "failures"
    assert old == pytest.approx(0.2)
    row = f.loc["prospect"]
    assert (row["left"], row["forward"], row["to_lost"], row["back"]) == (2, 1, 1, 0)
    assert row["conversion"] == pytest.approx(1 / 2)
    assert np.isnan(f.loc["contact_made", "conversion"])  # nobody has left it yet


def test_conversion_uses_each_deals_last_way_out_and_counts_a_move_back():
    paths = {
        1: [("prospect", 0), ("contact_made", 1), ("prospect", 2), ("contact_made", 3), ("offer", 4)],
        2: [("prospect", 0), ("contact_made", 1), ("prospect", 5)],  # back, and still there
    }
    deals, changes = frames(paths)
    row = pm.funnel(changes, deals, stages()).set_index("key").loc["contact_made"]
    # deal 1 left Contact made twice, finally forward; deal 2 went back
    assert (row["left"], row["forward"], row["back"]) == (2, 1, 1)
    assert row["conversion"] == pytest.approx(0.5)


# 3. Time in stage: open stays censored (Kaplan–Meier) -----------------------------------------
def test_stuck_deals_make_the_kaplan_meier_median_longer():
    paths = {
        1: [("needs_analysis", 0), ("offer", 2)],
        2: [("needs_analysis", 0), ("offer", 4)],
        3: [("needs_analysis", 0), ("offer", 6)],
        4: [("needs_analysis", 10)],  # stuck: 30 days so far on day 40
        5: [("needs_analysis", 0)],  # stuck: 40 days so far
    }
    deals, changes = frames(paths)
    tis = pm.time_in_stage(changes, stages(), deals=deals, now=day(40)).set_index("key")
    row = tis.loc["needs_analysis"]
    # old: finished stays only, 2, 4, 6 -> median 4 (the stuck deals vanish)
    assert row["finished_median"] == pytest.approx(4) == row["latest_median"]
    # KM by hand over 2, 4, 6 (finished) and 30+, 40+ (censored):
    # S(2) = 4/5 = 0.8, S(4) = 0.8 × 3/4 = 0.6, S(6) = 0.6 × 2/3 = 0.4 ≤ 0.5 -> median 6
    assert row["km_median"] == pytest.approx(6)
    assert (row["stays"], row["finished"], row["still_open"]) == (5, 3, 2)
    # a stage where most deals are still stuck has no KM median yet (not "fast")
    offer = tis.loc["offer"]
    assert offer["still_open"] == 3 and np.isnan(offer["km_median"]) and np.isnan(offer["finished_median"])


def test_a_lost_deal_sitting_in_lost_is_no_open_stay():
    deals, changes = frames({1: [("prospect", 0), ("lost", 3)]})
    tis = pm.time_in_stage(changes, stages(), deals=deals, now=day(50)).set_index("key")
    assert tis.loc["lost", "still_open"] == 0
    assert tis.loc["prospect", "km_median"] == pytest.approx(3)


# 4. A loss after Contract is dated by the loss ----------------------------------------------
LOST_AFTER_CONTRACT = {
    1: [("prospect", 0), ("contract", 20), ("lost", 64)],  # contract 21 Jan, lost 6 Mar
    2: [("prospect", 0), ("contract", 10)],  # won 11 Jan
}


def test_a_loss_after_contract_lands_in_the_month_it_happened():
    deals, _ = frames(LOST_AFTER_CONTRACT)
    st = stages()
    # the stored close is the first one (the contract), as the service keeps it
    assert deals.loc[deals["id"] == 1, "closed_at"].iloc[0] == day(20)
    tr = pm.monthly_trends(deals, st).set_index("month")
    # old: lost counted in January (its contract month), none in March
    assert tr.loc["2026-01-01", "lost"] == 0 and tr.loc["2026-03-01", "lost"] == 1
    assert tr.loc["2026-01-01", "won"] == 1 and tr["won"].sum() == 1
    # win rate per period: old January 1 ÷ 2 = 0.5 and March none; new January 1.0, March 0.0
    jan = pm.win_rate(deals, st, since=T0, until=T0 + timedelta(days=31))
    mar = pm.win_rate(deals, st, since=day(59), until=day(90))
    assert (jan, mar) == (1.0, 0.0)


def test_the_services_date_a_loss_after_contract_by_the_loss(engine, people, account):  # noqa: F811
    rep = people["rep"]
    deal = run(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="Contract then lost", account_id=account, value=Decimal("100")),
    )
    run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=1, to_stage_key="contract")
    run(
        engine,
        pipeline.move_deal,
        rep,
        deal_id=deal.id,
        expected_version=2,
        to_stage_key="lost",
        lost_reason="price",
    )
    contract_day = pd.Timestamp("2026-01-21 10:00", tz="UTC")
    lost_day = pd.Timestamp("2026-03-06 10:00", tz="UTC")
    with UnitOfWork(engine) as uow:
        row = uow.session.get(Deal, deal.id)
        assert row is not None and row.closed_at is not None
        # what the service keeps: the first close (the contract); the loss is its stage entry
        row.closed_at, row.stage_entered_at = contract_day.to_pydatetime(), lost_day.to_pydatetime()
        uow.commit()
    with UnitOfWork(engine) as uow:
        dash = pipeline_report.dashboard_from_frames(pipeline_data.load(uow.session))
    trends = dash["trends"].set_index("month")
    assert trends.loc["2026-03-01", "lost"] == 1
    assert "2026-01-01" not in trends.index or trends.loc["2026-01-01", "lost"] == 0


# 5. Σ sales budget for the same months only ---------------------------------------------------
def test_cost_is_compared_with_the_budget_of_the_same_months():
    paths = {1: [("prospect", 5)], 2: [("prospect", 40)], 3: [("prospect", 70)]}  # Jan, Feb, Mar
    deals, changes = frames(paths)
    budget = pd.DataFrame(
        {"month": pd.date_range("2026-01-01", periods=6, freq="MS"), "amount": [1000.0] * 6}
    )
    by_month = pm.cost_vs_budget(changes, deals, stages(), budget)
    totals = pm.cost_budget_totals(by_month, pd.Timestamp("2026-03-15").date())
    # old: Σ budget over every row, 6 × 1000 = 6000, against costs that run only to March
    assert by_month["budget"].sum() == 6000
    assert totals["budget"] == 3000 and totals["cost"] == 3 * COST["prospect"]
    assert totals["later_budget"] == 3000
    assert (totals["first_month"], totals["last_month"]) == (
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-03-01"),
    )


# 6. Imported deals without a date --------------------------------------------------------------
def test_an_undated_deal_is_left_out_of_dated_figures_and_counted():
    paths = {1: [("prospect", 0), ("contact_made", 3), ("contract", 40)], 2: [("prospect", 10)]}
    deals, changes = frames(paths)
    # deal 3: imported in Prospect with no date at all (no history row, times unknown)
    deals = pd.concat([deals, deals.iloc[[1]].assign(id=3)], ignore_index=True)
    deals.loc[2, ["created_at", "stage_entered_at", "closed_at"]] = pd.NaT
    deals.loc[2, "last_touch_at"] = day(400)  # the import
    st = stages()
    assert pm.undated_deals(deals) == 1
    tr = pm.monthly_trends(deals, st)
    # old: placed at the import (day 400, Feb 2027) -> 1 "new" deal then, 14 months of trend
    assert len(tr) == 2 and tr["new"].sum() == 2  # January and February 2026 only
    no_budget = pd.DataFrame({"month": pd.to_datetime([]), "amount": pd.Series([], dtype=float)})
    by_month = pm.cost_vs_budget(changes, deals, st, no_budget)
    assert by_month["month"].max() == pd.Timestamp("2026-02-01")
    assert by_month["cost"].sum() == 2 * COST["prospect"] + COST["contact_made"] + COST["contract"]
    # still a deal: in the shares and the funnel's entries (created in Prospect)
    assert pm.stage_share(deals, st).set_index("key").loc["prospect", "open_deals"] == 2
    assert pm.funnel(changes, deals, st).set_index("key").loc["prospect", "entered"] == 3
    assert pm.sales_cycle_days(deals, st) == pytest.approx(40)


# 7. At risk with a tolerance; mean delay among late deliveries ---------------------------------
def _outlook(today_days: float) -> pd.Series:
    paths = {i: [("prospect", d0), ("contract", d0)] for i, d0 in ((1, 0), (2, 30), (3, 60))}
    deals, _ = frames(paths, deal={i: {"account_id": 7} for i in paths})
    return pm.relationship_outlook(deals, stages(), (T0 + timedelta(days=today_days)).date()).iloc[0]


def test_at_risk_only_beyond_half_the_median_interval():
    # wins on days 0, 30, 60: median gap 30, next order expected on day 90, tolerance 15 days
    ten_late = _outlook(100)
    assert ten_late["next_expected"] == day(90) and ten_late["tolerance_days"] == 15
    # old: at risk as soon as day 90 has passed (10 days late here)
    assert ten_late["days_overdue"] == pytest.approx(10) and not ten_late["at_risk"]
    assert _outlook(106)["at_risk"]  # 16 days late > 15
    assert not _outlook(105)["at_risk"]  # 15 days: not more than the tolerance


def test_mean_delay_is_over_late_deliveries_only():
    paths = {i: [("prospect", 0), ("completed", 10)] for i in range(1, 5)}
    promised = pd.Timestamp("2026-03-10")
    actual = {1: "2026-03-08", 2: "2026-03-10", 3: "2026-03-10", 4: "2026-03-14"}
    extra = {
        i: {"promised_delivery": promised, "actual_delivery": pd.Timestamp(a)} for i, a in actual.items()
    }
    deals, _ = frames(paths, deal=extra)
    ot = pm.on_time_fulfilment(deals)
    # old: (0 + 0 + 0 + 4) / 4 = 1.0 day; new: among the one late delivery, 4 days
    assert (ot["delivered"], ot["on_time"], ot["late"]) == (4, 3, 1)
    assert ot["on_time_rate"] == 0.75 and ot["mean_delay_days"] == pytest.approx(4.0)
    on_time_only = pm.on_time_fulfilment(deals[deals["id"] != 4])
    assert on_time_only["late"] == 0 and on_time_only["mean_delay_days"] is None
