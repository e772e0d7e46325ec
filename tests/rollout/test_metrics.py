"""Pure rollout-plan metrics: schedule variance, baselines, scope creep, moderation after go-live,
coverage, goal progress (direction honoured), risk scores, duplicate suggestions."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from crm_impl.rollout import metrics as m

TODAY = date(2026, 6, 1)


def _phases(**over):
    row = {
        "id": 1,
        "name": "Testing",
        "planned_start": date(2026, 4, 1),
        "planned_end": date(2026, 5, 1),
        "actual_start": date(2026, 4, 5),
        "actual_end": None,
        "percent_complete": 50,
    }
    return pd.DataFrame([{**row, **over}])


def test_unfinished_overdue_phase_slips_until_today():
    v = m.schedule_variance(_phases(), today=TODAY)
    assert v.loc[0, "variance_days"] == 31 and bool(v.loc[0, "slipped"])
    assert v.loc[0, "start_variance_days"] == 4


def test_phase_finished_early_has_negative_variance():
    v = m.schedule_variance(_phases(actual_end=date(2026, 4, 28)), today=TODAY)
    assert v.loc[0, "variance_days"] == -3 and not bool(v.loc[0, "slipped"])


def test_future_phase_on_plan_has_no_variance():
    v = m.schedule_variance(
        _phases(planned_start=date(2026, 7, 1), planned_end=date(2026, 8, 1), actual_start=None), today=TODAY
    )
    assert v.loc[0, "variance_days"] == 0


def test_variance_against_a_baseline_uses_the_baseline_dates():
    baseline = pd.DataFrame(
        [
            {
                "kind": "phase",
                "ref_id": 1,
                "name": "Testing",
                "start": date(2026, 3, 1),
                "end": date(2026, 4, 1),
            }
        ]
    )
    v = m.schedule_variance(_phases(actual_end=date(2026, 5, 1)), baseline, today=TODAY)
    assert v.loc[0, "variance_days"] == 30
    assert m.schedule_variance(_phases(actual_end=date(2026, 5, 1)), today=TODAY).loc[0, "variance_days"] == 0


def test_compare_two_baselines_shift_added_and_removed():
    a = pd.DataFrame(
        [
            {"kind": "phase", "ref_id": 1, "name": "A", "start": date(2026, 1, 1), "end": date(2026, 2, 1)},
            {"kind": "phase", "ref_id": 2, "name": "B", "start": date(2026, 2, 2), "end": date(2026, 3, 1)},
        ]
    )
    b = pd.DataFrame(
        [
            {"kind": "phase", "ref_id": 1, "name": "A", "start": date(2026, 1, 8), "end": date(2026, 2, 15)},
            {"kind": "milestone", "ref_id": 9, "name": "Go", "start": None, "end": date(2026, 4, 1)},
        ]
    )
    cmp = m.compare_baselines(a, b).set_index(["kind", "ref_id"])
    assert cmp.loc[("phase", 1), "start_shift_days"] == 7
    assert cmp.loc[("phase", 1), "end_shift_days"] == 14
    assert cmp.loc[("phase", 2), "presence"] == "removed"
    assert cmp.loc[("milestone", 9), "presence"] == "added"


def _changes(rows):
    cols = ["status", "effort_days", "cost", "schedule_impact_days", "decided_at"]
    return pd.DataFrame(rows, columns=cols)


def test_scope_creep_counts_only_approved_changes():
    df = _changes(
        [
            ("approved", 30, 60000, 5, None),
            ("approved", 20, 40000, 0, None),
            ("rejected", 100, 1, 0, None),
            ("pending", 7, 1, 0, None),
        ]
    )
    creep = m.scope_creep(df, 400, 1_000_000, limit=0.10)
    assert creep["effort_ratio"] == pytest.approx(0.125)
    assert creep["cost_ratio"] == pytest.approx(0.10)
    assert creep["over_limit"] is True
    assert creep["pending_effort_days"] == 7 and creep["schedule_impact_days"] == 5


def test_scope_creep_without_baseline_is_unknown_not_zero():
    creep = m.scope_creep(_changes([("approved", 5, 5, 0, None)]), 0, 0)
    assert creep["effort_ratio"] is None and creep["over_limit"] is False


def test_changes_per_month_after_go_live_warns_over_threshold():
    at = lambda d: datetime(2026, *d, 12, tzinfo=UTC)  # noqa: E731
    df = _changes(
        [("approved", 1, 1, 0, at((2, 20)))]  # before go-live: not counted
        + [("approved", 1, 1, 0, at((3, d))) for d in (2, 5, 9, 20)]
        + [("approved", 1, 1, 0, at((5, 3)))]
        + [("rejected", 1, 1, 0, at((5, 4)))]
    )
    monthly = m.changes_after_go_live(df, date(2026, 3, 1), limit=3)
    assert list(monthly["changes"]) == [4, 0, 1]
    assert list(monthly["over"]) == [True, False, False]
    assert m.changes_after_go_live(df, date(2026, 12, 1), limit=3).empty


def test_requirement_coverage():
    df = pd.DataFrame(
        {"business_process": ["Sales", "", "Service", None], "kind": ["core", "core", "extension", "core"]}
    )
    cov = m.requirement_coverage(df)
    assert cov["process_share"] == 0.5 and cov["core_share"] == 0.75


def test_goal_progress_honours_direction():
    goals = pd.DataFrame(
        [
            {"id": 1, "baseline_value": 48.0, "target_value": 24.0, "direction": "decrease"},
            {"id": 2, "baseline_value": 20.0, "target_value": 30.0, "direction": "increase"},
            {"id": 3, "baseline_value": 10.0, "target_value": 20.0, "direction": "increase"},
        ]
    )
    meas = pd.DataFrame(
        [
            {"goal_id": 1, "measured_on": date(2026, 1, 1), "value": 40.0},
            {"goal_id": 1, "measured_on": date(2026, 2, 1), "value": 36.0},
            {"goal_id": 2, "measured_on": date(2026, 2, 1), "value": 31.0},
        ]
    )
    p = m.goal_progress(goals, meas).set_index("id")
    assert p.loc[1, "progress"] == pytest.approx(0.5)  # fell 12 of 24 hours
    assert p.loc[2, "progress"] == pytest.approx(1.1) and bool(p.loc[2, "achieved"])
    assert pd.isna(p.loc[3, "progress"]) and not bool(p.loc[3, "achieved"])


def test_risk_score_and_level():
    df = m.risk_scores(pd.DataFrame({"probability": [1, 3, 5], "impact": [2, 4, 5]}))
    assert list(df["score"]) == [2, 12, 25]
    assert list(df["level"]) == ["low", "medium", "high"]


def test_similar_texts_finds_reworded_duplicates_only():
    pool = pd.DataFrame(
        [
            ("requirement", 1, "Export customer list to Excel"),
            ("idea", 2, "Birthday reminders for key contacts"),
            ("idea", 3, "Map of clients by region"),
        ],
        columns=["kind", "id", "title"],
    )
    hits = m.similar_texts("exporting the Customer list to excel!", pool)
    assert list(hits["id"]) == [1] and hits.loc[0, "kind"] == "requirement"
    assert m.similar_texts("Clients on a map by region", pool)["id"].tolist()[:1] == [3]
    assert m.similar_texts("Dark mode", pool).empty
