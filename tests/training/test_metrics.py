"""Training coverage, effect and meeting figures on small hand-made frames, every value worked out
by hand in the comments."""

from datetime import date

import pandas as pd
import pytest

from crm_impl.training import metrics as m

GO_LIVE = date(2026, 3, 1)
TODAY = date(2026, 3, 20)


def people() -> pd.DataFrame:
    # 1-4 Sales (licensed), 5-6 Logistics (licensed), 7 Sales unlicensed, 8 licensed but inactive,
    # 9 vendor trainer. Users: 1->11, 2->12, 3->13, 5->15; 4 and 6 have no account.
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "name": ["Ala", "Bartek", "Celina", "Darek", "Ewa", "Filip", "Gosia", "Henryk", "Igor"],
            "department": ["Sales"] * 4 + ["Logistics"] * 2 + ["Sales", "Sales", "Delivery"],
            "side": ["client"] * 8 + ["vendor"],
            "licensed_user": [True] * 6 + [False, True, False],
            "active": [True] * 7 + [False, True],
            "user_id": pd.array([11, 12, 13, None, 15, None, None, None, None], dtype="Int64"),
        }
    )


def sessions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [100, 101, 102, 103],
            "title": ["Basics", "Offers", "Reports", "Refresher"],
            "module": ["Basics", "Offers", "Reports", "Basics"],
            "session_date": pd.to_datetime(["2026-02-10", "2026-02-20", "2026-03-05", "2026-03-25"]),
            "duration_minutes": [120, 90, 60, 60],
            "trainer_id": pd.array([9, 9, 9, 9], dtype="Int64"),
            "status": ["held", "held", "held", "planned"],
        }
    )


def attendance() -> pd.DataFrame:
    rows = [
        # session, person, attended, score
        (100, 1, True, 80),  # Ala trained 10 Feb (before go-live)
        (101, 1, True, 90),
        (100, 2, False, None),  # Bartek missed Basics ...
        (102, 2, True, 50),  # ... and was trained after go-live (5 Mar)
        (101, 5, True, 70),  # Ewa trained 20 Feb
        (100, 3, None, None),  # Celina invited, not recorded: untrained
        (103, 3, None, None),  # and invited to the planned refresher
        (100, 7, True, 100),  # Gosia is not licensed: not in coverage, but her score counts
    ]
    return pd.DataFrame(
        {
            "id": range(1, len(rows) + 1),
            "session_id": [r[0] for r in rows],
            "person_id": [r[1] for r in rows],
            "attended": pd.array([r[2] for r in rows], dtype="boolean"),
            "score": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def usage() -> pd.DataFrame:
    rows = [
        (11, "2026-02-01", 4),  # Ala before her training: not "first use after"
        (11, "2026-02-13", 2),  # first use 3 days after 10 Feb
        (11, "2026-03-10", 5),
        (11, "2026-03-20", 1),
        (12, "2026-03-07", 3),  # Bartek: 2 days after 5 Mar
        (13, "2026-03-15", 6),  # Celina (untrained) uses it too
        (15, "2026-01-05", 1),  # Ewa only before training: no use since
    ]
    return pd.DataFrame(
        {
            "user_id": pd.array([r[0] for r in rows], dtype="Int64"),
            "day": pd.to_datetime([r[1] for r in rows]),
            "actions": [r[2] for r in rows],
        }
    )


@pytest.fixture
def status() -> pd.DataFrame:
    return m.training_status(people(), sessions(), attendance(), GO_LIVE)


def test_training_status_per_licensed_person(status):
    # licensed and active: 1-6 (7 unlicensed, 8 inactive, 9 vendor unlicensed)
    assert list(status["id"]) == [1, 2, 3, 4, 5, 6]
    by = status.set_index("id")
    assert by.loc[1, "first_trained"] == pd.Timestamp("2026-02-10")
    assert by.loc[1, "sessions_attended"] == 2 and by.loc[1, "mean_score"] == 85
    assert bool(by.loc[2, "trained"]) and not bool(by.loc[2, "trained_before_go_live"])
    assert list(status["trained"]) == [True, True, False, False, True, False]
    assert list(status["trained_before_go_live"]) == [True, False, False, False, True, False]


def test_coverage_per_department_and_total(status):
    cov = m.coverage(status).set_index("department")
    # Logistics: Ewa of Ewa, Filip -> 1/2; Sales: Ala of Ala, Bartek, Celina, Darek -> 1/4
    assert cov.loc["Logistics", ["licensed", "trained"]].tolist() == [2, 1]
    assert cov.loc["Sales", ["licensed", "trained"]].tolist() == [4, 1]
    assert cov.loc["Sales", "share"] == 0.25
    assert m.coverage_total(status) == {"licensed": 6, "trained": 2, "share": 2 / 6}


def test_coverage_while_go_live_is_ahead_counts_every_held_session():
    status = m.training_status(people(), sessions(), attendance(), None)
    assert m.coverage_total(status)["trained"] == 3  # Ala, Bartek, Ewa


def test_untrained_list_and_who_is_invited(status):
    left = m.untrained(status)
    assert list(left["name"]) == ["Filip", "Celina", "Darek"]  # Logistics first, then Sales by name
    pending = m.invited_pending(left, sessions(), attendance()).set_index("name")["next_session"]
    assert pending["Celina"] == pd.Timestamp("2026-03-25")  # only Celina has a next session
    assert pending[["Filip", "Darek"]].isna().all()


def test_scores_overall_by_module_and_department():
    s = m.scores(sessions(), attendance(), people())
    # scored attendances of held sessions: 80, 90, 50, 70, 100 -> mean 78; >= 60: 4 of 5
    assert s["mean"] == 78 and s["scored"] == 5 and s["pass_share"] == 0.8
    modules = s["by_module"].set_index("module")["mean"].to_dict()
    assert modules == {"Basics": 90.0, "Offers": 80.0, "Reports": 50.0}
    departments = s["by_department"].set_index("department")["mean"].to_dict()
    assert departments == {"Logistics": 70.0, "Sales": 80.0}  # Sales: 80, 90, 50, 100


def test_held_vs_planned():
    frame = sessions()
    frame.loc[3, "session_date"] = pd.Timestamp("2026-03-15")  # a planned one already past
    assert m.held_vs_planned(frame, TODAY) == {
        "sessions": 4,
        "held": 3,
        "planned": 1,
        "cancelled": 0,
        "overdue": 1,
    }


def test_effect_trained_vs_untrained(status):
    eff = m.effect(status, usage(), TODAY, window_days=30)
    # window 19 Feb .. 20 Mar. Users with accounts: Ala, Bartek, Ewa (trained), Celina (untrained)
    # Ala 5+1 = 6, Bartek 3, Ewa 0 -> 2 of 3 active, 9/3 = 3 actions per user
    assert eff["since"] == date(2026, 2, 19)
    assert eff["trained"] == {"users": 3, "active": 2, "active_share": 2 / 3, "actions_per_user": 3.0}
    assert eff["untrained"] == {"users": 1, "active": 1, "active_share": 1.0, "actions_per_user": 6.0}


def test_days_from_training_to_first_use(status):
    first = m.days_to_first_use(status, usage()).set_index("name")
    assert first.loc["Ala", "days"] == 3  # 10 Feb -> 13 Feb (the use on 1 Feb was before)
    assert first.loc["Bartek", "days"] == 2
    assert pd.isna(first.loc["Ewa", "days"])  # no use since her training
    assert m.first_use_summary(first.reset_index()) == {
        "trained_users": 3,
        "used_since": 2,
        "not_used_since": 1,
        "median_days": 2.5,
        "mean_days": 2.5,
    }


def meetings() -> pd.DataFrame:
    rows = [
        (1, "steering", "2025-12-03", True),
        (2, "steering", "2026-01-07", False),
        (3, "steering", "2026-01-21", True),
        (4, "steering", "2026-03-04", True),  # none in February
        (5, "steering", "2026-03-30", True),  # ahead: not held yet
        (6, "benefit_demo", "2026-02-15", True),  # before go-live
        (7, "benefit_demo", "2026-03-10", False),  # after go-live
        (8, "benefit_demo", "2026-04-10", True),  # planned
        (9, "workshop", "2026-01-12", False),
        (10, "workshop", "2026-04-01", False),  # ahead: its attendees do not count yet
    ]
    return pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "meeting_date": pd.to_datetime([r[2] for r in rows]),
            "management_present": [r[3] for r in rows],
        }
    )


def test_steering_meetings_per_month_with_management_share():
    per = m.steering_per_month(meetings(), TODAY)
    assert [d.strftime("%Y-%m") for d in per["month"]] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert per["meetings"].tolist() == [1, 2, 0, 1]
    assert per["with_management"].tolist() == [1, 1, 0, 1]
    assert per["share"].tolist()[:2] == [1.0, 0.5] and pd.isna(per["share"][2])
    assert m.steering_summary(meetings(), TODAY) == {"held": 4, "with_management": 3, "share": 0.75}


def test_benefit_demonstrations_after_go_live():
    assert m.benefit_demos(meetings(), GO_LIVE, TODAY) == {
        "held_after_go_live": 1,
        "held_before_go_live": 1,
        "planned": 1,
        "go_live_date": GO_LIVE,
    }


def test_workshop_involvement_per_department():
    went = pd.DataFrame({"meeting_id": [9, 9, 9, 10], "person_id": [1, 5, 9, 2]})
    per = m.workshop_involvement(meetings(), went, people(), TODAY).set_index("department")
    # client and active: Sales 1,2,3,4,7 (8 inactive) and Logistics 5,6; the vendor's Igor is not
    # counted; Bartek's workshop is still ahead
    assert per.loc["Sales", ["people", "involved"]].tolist() == [5, 1]
    assert per.loc["Logistics", ["people", "involved"]].tolist() == [2, 1]
    assert per.loc["Logistics", "share"] == 0.5


def test_effect_within_departments_where_the_overall_comparison_points_the_wrong_way():
    """Simpson's paradox, by hand: sales reps (trained or not) write far more than back-office
    users, and most reps are untrained, so over everyone the untrained look busier; within each
    department the trained use it more."""
    people = pd.DataFrame(
        {
            "department": ["Sales"] * 4 + ["Office"] * 4,
            "user_id": pd.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="Int64"),
            "trained": [True, False, False, False, True, True, True, False],
        }
    )
    # Sales: trained 60; untrained 40, 30, 20. Office: trained 6, 4, 2; untrained 0.
    actions = {1: 60, 2: 40, 3: 30, 4: 20, 5: 6, 6: 4, 7: 2}
    usage = pd.DataFrame(
        {
            "user_id": pd.array(list(actions), dtype="Int64"),
            "day": pd.to_datetime(["2026-03-10"] * len(actions)),
            "actions": list(actions.values()),
        }
    )
    overall = m.effect(people, usage, TODAY)
    assert overall["trained"]["actions_per_user"] == 72 / 4 == 18.0
    assert overall["untrained"]["actions_per_user"] == 90 / 4 == 22.5  # the wrong way round
    by = m.effect_by_department(people, usage, TODAY).set_index("department")
    assert by.loc["Sales", ["trained_actions_per_user", "untrained_actions_per_user"]].tolist() == [
        60.0,
        30.0,
    ]
    assert by.loc["Office", ["trained_actions_per_user", "untrained_actions_per_user"]].tolist() == [4.0, 0.0]
    assert by.loc[
        "Office", ["trained_users", "trained_active", "untrained_users", "untrained_active"]
    ].tolist() == [
        3,
        3,
        1,
        0,
    ]
    assert by.loc["Office", "untrained_active_share"] == 0.0
    assert list(by.index) == ["Office", "Sales"]
