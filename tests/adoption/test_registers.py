"""The legacy tools and benefits metrics on hand-made frames: retired / overdue / in use, the share
retired and who still uses a live tool; a benefit's current value, gain (whichever way its unit
should move), gain share, meetings — figures computed by hand in each test."""

from datetime import date

import pandas as pd
import pytest

from crm_impl.adoption.metrics import registers as m

TODAY = date(2026, 6, 15)


def _tools() -> tuple[pd.DataFrame, pd.DataFrame]:
    tools = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["Offers sheet", "Paper book", "Old WMS", "Calendar"],
            "kind": ["spreadsheet", "paper", "program", "program"],
            "retire_by": pd.to_datetime(["2026-05-01", "2026-06-05", "2026-07-01", None]),
            "retired_on": pd.to_datetime(["2026-05-10", None, None, None]),
        }
    )
    users = pd.DataFrame({"tool_id": [2, 2, 3, 1], "person_id": [7, 8, 8, 9]})
    return tools, users


def test_tool_status_share_retired_and_overdue():
    table = m.tool_table(*_tools(), TODAY)
    assert table.set_index("name")["status"].to_dict() == {
        "Offers sheet": "retired",  # retired late, but retired
        "Paper book": "overdue",  # 5 June passed, not retired
        "Old WMS": "in_use",  # due in July
        "Calendar": "in_use",  # no retire-by date yet
    }
    s = m.tool_summary(table)
    assert (s["tools"], s["retired"], s["overdue"], s["in_use"]) == (4, 1, 1, 2)
    assert s["share_retired"] == pytest.approx(1 / 4)
    assert s["still_used_by"] == 2  # persons 7 and 8 (9 uses the retired sheet only)
    late = m.overdue(table)
    assert late["name"].tolist() == ["Paper book"] and late["days_overdue"].tolist() == [10]
    assert late["user_ids"].tolist() == [[7, 8]]


def test_tools_by_kind_counts_each_status():
    per = m.tools_by_kind(m.tool_table(*_tools(), TODAY))
    assert per.values.tolist() == [
        ["paper", "overdue", 1],
        ["program", "in_use", 2],
        ["spreadsheet", "retired", 1],
    ]


def test_an_empty_register():
    tools, users = _tools()
    s = m.tool_summary(m.tool_table(tools.iloc[0:0], users.iloc[0:0], TODAY))
    assert s["tools"] == 0 and s["share_retired"] is None


def _benefits() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    benefits = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["Hours per offer", "Complaints on time", "Paper cost", "Zero based"],
            "unit": ["hours", "percent", "pln", "count"],
            "direction": ["decrease", "increase", "decrease", "increase"],
            "baseline": [2.0, 60.0, 4000.0, 0.0],
            "baseline_on": pd.to_datetime(["2026-01-01", None, "2026-01-01", None]),
        }
    )
    measurements = pd.DataFrame(
        {
            "benefit_id": [1, 1, 2, 4],
            "measured_on": pd.to_datetime(["2026-04-01", "2026-03-01", "2026-04-01", "2026-04-01"]),
            "value": [0.5, 1.0, 75.0, 3.0],
        }
    )
    links = pd.DataFrame({"meeting_id": [10, 11, 11], "benefit_id": [1, 1, 2]})
    return benefits, measurements, links


def test_benefit_current_gain_and_meetings():
    table = m.benefit_table(*_benefits()).set_index("name")
    hours = table.loc["Hours per offer"]
    # the latest measurement (1 April: 0.5) is current, though listed first; lower is better
    assert hours["current"] == 0.5 and hours["measured_on"] == pd.Timestamp("2026-04-01")
    assert hours["gain"] == pytest.approx(2.0 - 0.5) and hours["gain_share"] == pytest.approx(1.5 / 2.0)
    assert hours["measurements"] == 2 and hours["meetings"] == 2
    complaints = table.loc["Complaints on time"]
    assert complaints["gain"] == pytest.approx(15.0) and complaints["gain_share"] == pytest.approx(15 / 60)
    paper = table.loc["Paper cost"]
    assert pd.isna(paper["current"]) and pd.isna(paper["gain"]) and paper["measurements"] == 0
    zero = table.loc["Zero based"]
    assert zero["gain"] == 3.0 and pd.isna(zero["gain_share"])  # no share of a zero baseline
    s = m.benefit_summary(table.reset_index())
    assert (s["benefits"], s["measured"], s["improved"], s["shown"]) == (4, 3, 3, 2)
    assert s["mean_gain_share"] == pytest.approx((0.75 + 0.25) / 2)


def test_gains_over_time_start_at_the_baseline():
    benefits, measurements, _ = _benefits()
    points = m.gains_over_time(benefits, measurements)
    hours = points.loc[points["benefit_id"] == 1]
    assert hours["measured_on"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-03-01", "2026-04-01"]
    assert hours["gain_share"].tolist() == pytest.approx([0.0, 0.5, 0.75])
    paper = points.loc[points["benefit_id"] == 3]
    assert paper["gain"].tolist() == [0.0]  # only the baseline point so far
