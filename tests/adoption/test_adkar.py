"""ADKAR readiness: the barrier point on hand-made scores (first element at or below 3 in A→R
order, even when a later one is lower; none when every mean is above 3), department means over
named and anonymous rows, the latest round per department, the trend, and the one view beside
usage and training coverage — figures computed by hand in each test."""

from datetime import date

import pandas as pd
import pytest

from crm_impl.adoption.metrics import adkar

E = ["awareness", "desire", "knowledge", "ability", "reinforcement"]


def _scores(*rows: tuple[float, ...]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=E)


def test_no_element_at_or_below_three_means_no_barrier():
    assert adkar.barrier(_scores((4, 4, 3.01, 5, 4))).tolist() == [None]


def test_the_first_low_element_in_a_to_r_order_is_the_barrier_even_if_a_later_one_is_lower():
    got = adkar.barrier(_scores((4, 4, 3, 1, 2), (3, 1, 1, 1, 1), (5, 5, 5, 5, 3), (2.99, 5, 5, 5, 5)))
    assert got.tolist() == ["knowledge", "awareness", "reinforcement", "awareness"]


def _rounds() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2],
            "title": ["Before", "After"],
            "survey_date": pd.to_datetime(["2026-03-01", "2026-06-01"]),
        }
    )


def _responses() -> pd.DataFrame:
    rows = [
        # round 1: Sales two named people; Logistics two anonymous rows
        (1, 1, "Sales", 10, 4, 4, 2, 3, 3),
        (2, 1, "Sales", 11, 4, 2, 4, 3, 3),
        (3, 1, "Logistics", None, 2, 3, 3, 3, 3),
        (4, 1, "Logistics", None, 4, 3, 3, 3, 3),
        # round 2: Sales named, one anonymous; Logistics did not answer
        (5, 2, "Sales", 10, 5, 4, 4, 4, 2),
        (6, 2, "Sales", None, 5, 4, 5, 4, 4),
    ]
    df = pd.DataFrame(rows, columns=["id", "round_id", "department", "person_id", *E])
    df["person_id"] = df["person_id"].astype("Int64")
    return df


def test_department_means_count_named_and_anonymous_rows_alike():
    per = adkar.scores_by_round(_rounds(), _responses())
    sales1 = per.loc[(per["department"] == "Sales") & (per["round_id"] == 1)].iloc[0]
    # Sales round 1: A (4+4)/2=4, D (4+2)/2=3 -> the barrier, K (2+4)/2=3, Ab 3, R 3
    assert [sales1[e] for e in E] == [4.0, 3.0, 3.0, 3.0, 3.0]
    assert sales1["barrier"] == "desire" and sales1["responses"] == 2 and sales1["anonymous"] == 0
    logistics = per.loc[per["department"] == "Logistics"].iloc[0]
    # anonymous rows: A (2+4)/2 = 3 -> awareness is the barrier
    assert logistics["awareness"] == 3.0 and logistics["barrier"] == "awareness"
    assert logistics["anonymous"] == 2
    sales2 = per.loc[(per["department"] == "Sales") & (per["round_id"] == 2)].iloc[0]
    # round 2: R (2+4)/2 = 3 -> reinforcement; the mean of the five means
    assert sales2["barrier"] == "reinforcement" and sales2["anonymous"] == 1
    assert sales2["mean"] == pytest.approx((5 + 4 + 4.5 + 4 + 3) / 5)


def test_latest_round_is_per_department():
    latest = adkar.latest_by_department(_rounds(), _responses())
    assert latest[["department", "round_id"]].values.tolist() == [["Logistics", 1], ["Sales", 2]]


def test_trend_gives_the_change_since_the_previous_round():
    trend = adkar.trend(_rounds(), _responses())
    sales = trend.loc[trend["department"] == "Sales"].sort_values("survey_date")
    first, second = (4 + 3 + 3 + 3 + 3) / 5, (5 + 4 + 4.5 + 4 + 3) / 5
    assert pd.isna(sales["change"].iloc[0])
    assert sales["change"].iloc[1] == pytest.approx(second - first)
    long = adkar.trend_long(sales)
    assert len(long) == 2 * 5 and set(long["element"]) == set(E)


def test_readiness_view_puts_usage_and_coverage_beside_the_barrier():
    latest = adkar.latest_by_department(_rounds(), _responses())
    usage = pd.DataFrame(
        {"department": ["Sales", "Finance"], "licensed": [8, 2], "mau": [6, 0], "adoption_rate": [0.75, 0.0]}
    )
    coverage = pd.DataFrame(
        {"department": ["Logistics", "Sales"], "licensed": [4, 8], "trained": [1, 8], "share": [0.25, 1.0]}
    )
    view = adkar.readiness_view(latest, usage, coverage).set_index("department")
    assert list(view.index) == ["Finance", "Logistics", "Sales"]
    assert view.loc["Sales", "barrier"] == "reinforcement"
    assert view.loc["Sales", "adoption_rate"] == 0.75 and view.loc["Sales", "coverage"] == 1.0
    assert view.loc["Logistics", "barrier"] == "awareness" and pd.isna(view.loc["Logistics", "adoption_rate"])
    assert view.loc["Finance", "barrier"] is None and pd.isna(view.loc["Finance", "responses"])
    counts = adkar.barrier_counts(view.reset_index())
    assert counts["surveyed_departments"] == 2
    assert counts["reinforcement"] == 1 and counts["awareness"] == 1 and counts["none"] == 0


def test_no_responses_give_empty_frames():
    empty = _responses().iloc[0:0]
    assert adkar.latest_by_department(_rounds(), empty).empty
    assert adkar.trend(_rounds(), empty).empty


def test_dates_are_dates():
    latest = adkar.latest_by_department(_rounds(), _responses())
    assert latest["survey_date"].max().date() == date(2026, 6, 1)
