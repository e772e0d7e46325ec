"""Defect metrics on hand-made histories (docs/defects.md): a defect reopened twice, one fixed and
closed without a retest, one open and censored, a verification with no fix, one waiting for its
retest, one rejected; and an empty project. Plus the shared Kaplan–Meier estimator."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crm_impl.core import survival
from crm_impl.defects import metrics as m

NOW = pd.Timestamp("2026-03-13 12:00", tz="UTC")  # a Friday: the week of 9 March is in progress
DEV_A, DEV_B, PM, TESTER, CLIENT_TESTER = 20, 21, 10, 30, 31

DEFECT_COLUMNS = [
    "id",
    "status",
    "severity",
    "priority",
    "module",
    "environment",
    "found_in_release_id",
    "target_release_id",
    "fixed_in_release_id",
    "reporter_id",
    "assignee_id",
    "created_at",
    "closed_at",
    "client_signoff_at",
]
CHANGE_COLUMNS = ["defect_id", "from_status", "to_status", "at", "by_id", "release_id"]


def _at(day: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-{day}", tz="UTC")


def _path(defect: int, steps: list[tuple[str, str, int | None]]) -> list[tuple]:  # type: ignore[type-arg]
    """(day hh:mm, to_status, by) steps from filing on; from_status follows."""
    rows, previous = [], None
    for when, to, by in steps:
        rows.append((defect, previous, to, _at(when), by, 1 if to in ("fixed", "verified") else None))
        previous = to
    return rows


def _frames() -> dict[str, pd.DataFrame]:
    changes = [
        # 1: reopened twice, then fixed by the other programmer, verified and closed
        *_path(
            1,
            [
                ("03-02 09:00", "new", TESTER),
                ("03-02 10:00", "confirmed", PM),
                ("03-03 09:00", "assigned", PM),
                ("03-03 10:00", "in_progress", DEV_A),
                ("03-04 09:00", "fixed", DEV_A),
                ("03-05 09:00", "in_retest", TESTER),
                ("03-05 10:00", "reopened", TESTER),
                ("03-06 09:00", "fixed", DEV_A),
                ("03-07 09:00", "in_retest", TESTER),
                ("03-07 10:00", "reopened", TESTER),
                ("03-08 09:00", "fixed", DEV_B),
                ("03-09 09:00", "in_retest", TESTER),
                ("03-10 09:00", "verified", TESTER),
                ("03-10 10:00", "closed", PM),
            ],
        ),
        # 2: fixed, then closed without any retest
        *_path(
            2,
            [
                ("03-02 09:00", "new", TESTER),
                ("03-02 11:00", "assigned", PM),
                ("03-05 09:00", "fixed", DEV_B),
                ("03-06 09:00", "closed", PM),
            ],
        ),
        # 3: open since 23 February, never fixed: censored
        *_path(3, [("02-23 09:00", "new", TESTER), ("02-24 09:00", "assigned", PM)]),
        # 4: verified although nothing was ever fixed
        *_path(
            4,
            [
                ("03-02 09:00", "new", TESTER),
                ("03-02 12:00", "confirmed", PM),
                ("03-03 09:00", "verified", TESTER),
            ],
        ),
        # 5: fixed and waiting for its retest: censored for time to verify
        *_path(
            5,
            [
                ("03-09 09:00", "new", TESTER),
                ("03-09 12:00", "assigned", PM),
                ("03-10 09:00", "fixed", DEV_A),
            ],
        ),
        # 6: found on real data by the client tester, rejected
        *_path(6, [("03-09 09:00", "new", CLIENT_TESTER), ("03-10 09:00", "rejected", PM)]),
    ]
    changes.append((3, "assigned", "in_progress", _at("02-25 09:00"), DEV_A, None))
    defects = [
        (
            1,
            "closed",
            "critical",
            "P1",
            "Sales",
            "test_data",
            1,
            2,
            1,
            TESTER,
            DEV_A,
            "03-02 09:00",
            "03-10 10:00",
        ),
        (
            2,
            "closed",
            "minor",
            "P3",
            "Sales",
            "test_data",
            1,
            None,
            1,
            TESTER,
            DEV_B,
            "03-02 09:00",
            "03-06 09:00",
        ),
        (
            3,
            "in_progress",
            "major",
            "P2",
            "Invoices",
            "test_data",
            1,
            2,
            None,
            TESTER,
            DEV_A,
            "02-23 09:00",
            None,
        ),
        (4, "verified", "trivial", "P5", "", "real_data", 1, None, None, TESTER, None, "03-02 09:00", None),
        (5, "fixed", "critical", "P1", "Invoices", "test_data", 2, 2, 1, TESTER, DEV_A, "03-09 09:00", None),
        (
            6,
            "rejected",
            "major",
            "P3",
            "Sales",
            "real_data",
            None,
            None,
            None,
            CLIENT_TESTER,
            None,
            "03-09 09:00",
            "03-10 09:00",
        ),
    ]
    d = pd.DataFrame([(*row, None) for row in defects], columns=DEFECT_COLUMNS)
    for c in ("created_at", "closed_at", "client_signoff_at"):
        d[c] = pd.to_datetime(d[c].map(lambda v: f"2026-{v}" if isinstance(v, str) else None), utc=True)
    for c in (
        "found_in_release_id",
        "target_release_id",
        "fixed_in_release_id",
        "reporter_id",
        "assignee_id",
    ):
        d[c] = d[c].astype("Int64")
    c = pd.DataFrame(changes, columns=CHANGE_COLUMNS).sample(frac=1.0, random_state=3)  # any order
    c["by_id"], c["release_id"] = c["by_id"].astype("Int64"), c["release_id"].astype("Int64")
    releases = pd.DataFrame({"id": [1, 2], "name": ["1.0", "1.1"], "status": ["released", "in_test"]})
    runs = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "release_id": [1, 1, 2],
            "tester_id": [TESTER] * 3,
            "side": ["vendor"] * 3,
            "environment": ["test_data"] * 3,
            "passed": [8, 9, 0],
            "failed": [1, 1, 0],
            "blocked": [1, 0, 0],
        }
    )
    users = pd.DataFrame(
        {
            "id": [PM, DEV_A, DEV_B, TESTER, CLIENT_TESTER],
            "name": ["Pat PM", "Ada Dev", "Bob Dev", "Tess Tester", "Cli Tester"],
            "side": ["vendor", "vendor", "vendor", "vendor", "client"],
        }
    )
    return {"defects": d, "changes": c, "releases": releases, "test_runs": runs, "users": users}


@pytest.fixture
def f() -> dict[str, pd.DataFrame]:
    return _frames()


def test_reopened_twice_counts_once_in_the_rate_and_twice_in_the_reopens(f):
    # ever fixed: 1, 2, 5; reopened after a fix: 1
    assert m.reopen_rate(f["changes"]) == {
        "fixed": 3,
        "reopened": 1,
        "rate": pytest.approx(1 / 3),
        "reopens": 2,
    }


def test_time_to_fix_counts_the_open_defect_as_censored(f):
    d = m.fix_durations(f["defects"], f["changes"], NOW).set_index("defect_id")
    # 4 (verified, never fixed) and 6 (rejected) never entered the fix process
    assert sorted(d.index) == [1, 2, 3, 5]
    assert d.loc[[1, 2, 5], "days"].tolist() == [2.0, 3.0, 1.0] and d.loc[[1, 2, 5], "observed"].all()
    assert not d.loc[3, "observed"] and d.loc[3, "days"] == pytest.approx(18.125)
    s = m.duration_summary(d)
    # KM: S(1) = 3/4, S(2) = 2/4 -> median 2; the open one keeps S above 0.1 -> no 90th percentile
    assert s == {"n": 4, "events": 3, "censored": 1, "median": 2.0, "p90": None, "median_finished": 2.0}


def test_time_to_verify_counts_each_fix_and_the_waiting_one_as_censored(f):
    d = m.verify_durations(f["defects"], f["changes"], NOW)
    # defect 1: two fixes were reopened (never verified), the third verified 2 days later;
    # defect 2 was closed without a retest (left out); defect 5 waits since 10 March 09:00
    assert d["defect_id"].tolist() == [1, 5]
    assert d["days"].tolist() == [2.0, pytest.approx(3.125)] and d["observed"].tolist() == [True, False]
    assert m.duration_summary(d)["median"] == 2.0


def test_a_verify_with_no_fix_and_a_fix_closed_without_retest_are_flagged(f):
    assert m.verified_without_fix(f["changes"]) == 1  # defect 4
    assert m.closed_without_retest(f["defects"], f["changes"]) == 1  # defect 2


def test_weekly_flow_marks_the_week_in_progress_and_ends_at_the_open_count(f):
    w = m.weekly_flow(f["defects"], f["changes"], NOW)
    assert w["week"].dt.strftime("%m-%d").tolist() == ["02-23", "03-02", "03-09"]
    assert w["arrived"].tolist() == [1, 3, 2]
    # closures: 4 verified and 2 closed (week of 2 March); 1 verified and 6 rejected (9 March).
    # A reopen from "in retest" never left the open statuses, so it is no re-arrival.
    assert w["closed"].tolist() == [0, 2, 2] and w["reopened"].tolist() == [0, 0, 0]
    assert w["backlog"].tolist() == [1, 2, 2] == [1, 2, m.totals(f["defects"])["open"]]
    assert w["partial"].tolist() == [False, False, True]


def test_weekly_flow_counts_a_reopen_of_a_closed_defect_and_fills_empty_weeks(f):
    changes = pd.concat(
        [
            f["changes"],
            pd.DataFrame(
                [(2, "closed", "reopened", _at("03-12 09:00"), TESTER, None)], columns=CHANGE_COLUMNS
            ).astype({"by_id": "Int64", "release_id": "Int64"}),
        ]
    )
    defects = f["defects"].copy()
    defects.loc[defects["id"] == 2, "status"] = "reopened"
    w = m.weekly_flow(defects, changes, pd.Timestamp("2026-03-25 08:00", tz="UTC"))
    assert w["reopened"].tolist() == [0, 0, 1, 0, 0] and w["backlog"].tolist() == [1, 2, 3, 3, 3]
    assert w["arrived"].tolist()[3:] == [0, 0]  # the empty weeks of 16 and 23 March are there
    assert w["partial"].tolist() == [False, False, False, False, True]


def test_a_defect_without_history_still_ends_the_backlog_right(f):
    defects = f["defects"]
    changes = f["changes"][f["changes"]["defect_id"] != 2]  # imported closed, no history
    assert m.weekly_flow(defects, changes, NOW)["backlog"].iloc[-1] == m.totals(defects)["open"]


def test_open_counts_modules_releases_real_data_and_pass_rate(f):
    grid = m.open_by_severity_status(f["defects"])
    assert len(grid) == 5 * 7 and grid["count"].sum() == 2
    got = grid[grid["count"] > 0].set_index(["severity", "status"])["count"].to_dict()
    assert got == {("critical", "fixed"): 1, ("major", "in_progress"): 1}
    mod = m.by_module(f["defects"])
    assert mod.to_dict("list") == {
        "module": ["Sales", "Invoices", ""],
        "defects": [3, 2, 1],
        "open": [0, 2, 0],
        "resolved": [3, 0, 1],
    }
    rel = m.by_found_release(f["defects"], f["releases"])
    assert rel["name"].tolist() == ["1.0", "1.1", ""] and rel["defects"].tolist() == [4, 1, 1]
    assert m.real_data_share(f["defects"], f["users"]) == {
        "defects": 6,
        "real_data": 2,
        "by_client": 1,
        "real_data_by_client": 1,
        "share": pytest.approx(1 / 6),
    }
    rate = m.pass_rate(f["test_runs"], f["releases"])
    assert rate["runs"].tolist() == [2, 1] and rate["passed"].tolist() == [17, 0]
    assert rate["pass_rate"].iloc[0] == pytest.approx(0.85) and np.isnan(rate["pass_rate"].iloc[1])


def test_per_programmer_gives_the_reopen_to_whoever_made_the_fix(f):
    p = m.per_programmer(f["defects"], f["changes"], f["users"]).set_index("name")
    assert p.loc["Ada Dev", ["assigned", "open", "fixed", "reopened"]].tolist() == [3, 2, 2, 1]
    assert p.loc["Bob Dev", ["assigned", "open", "fixed", "reopened"]].tolist() == [1, 0, 2, 0]
    assert list(p.index) == ["Ada Dev", "Bob Dev"]


def test_report_is_plain_json(f):
    r = m.report(f["defects"], f["changes"], f["releases"], f["test_runs"], f["users"], NOW)
    assert json.loads(json.dumps(r)) == r
    assert r["totals"] == {"defects": 6, "open": 2, "resolved": 4}
    assert r["weekly_flow"][-1] == {
        "week": "2026-03-09",
        "arrived": 2,
        "closed": 2,
        "reopened": 0,
        "backlog": 2,
        "partial": True,
    }
    assert r["pass_rate"][1]["pass_rate"] is None
    assert r["anomalies"] == {"verified_without_fix": 1, "closed_without_retest": 1}


def test_an_empty_project_gives_zeros_and_no_rates():
    empty = {
        "defects": pd.DataFrame(columns=DEFECT_COLUMNS),
        "changes": pd.DataFrame(columns=CHANGE_COLUMNS),
        "releases": pd.DataFrame(columns=["id", "name", "status"]),
        "test_runs": pd.DataFrame(columns=["id", "release_id", "passed", "failed", "blocked"]),
        "users": pd.DataFrame(columns=["id", "name", "side"]),
    }
    r = m.report(
        empty["defects"], empty["changes"], empty["releases"], empty["test_runs"], empty["users"], NOW
    )
    assert json.loads(json.dumps(r)) == r
    assert r["totals"] == {"defects": 0, "open": 0, "resolved": 0}
    assert (
        r["weekly_flow"] == [] and r["by_module"] == [] and r["pass_rate"] == [] and r["per_programmer"] == []
    )
    assert r["reopen"] == {"fixed": 0, "reopened": 0, "rate": None, "reopens": 0}
    assert r["time_to_fix_days"]["median"] is None and r["time_to_verify_days"]["n"] == 0
    assert r["real_data"]["share"] is None
    assert sum(row["count"] for row in r["open_by_severity_status"]) == 0


def test_kaplan_meier_median_is_not_fooled_by_the_ones_still_running():
    # one finished after a day, three still running after ten: at most a quarter is known done
    durations, observed = np.array([1.0, 10.0, 10.0, 10.0]), np.array([True, False, False, False])
    s = survival.summary(durations, observed)
    assert s["median_finished"] == 1.0 and s["median"] is None and s["p90"] is None
    times, surv = survival.kaplan_meier(np.array([2.0, 1.0, 3.0, 3.0, 5.0]), np.array([1, 1, 0, 1, 1], bool))
    # at risk 5, 4, 3 (the censored 3 counts at its tie), 1
    assert times.tolist() == [1.0, 2.0, 3.0, 5.0]
    assert surv.tolist() == pytest.approx([0.8, 0.6, 0.4, 0.0])
    assert survival.quantile(np.array([]), np.array([], bool), 0.5) is None
