"""The defect read side on both backends: the hand-made histories of test_metrics inserted
directly (test setup), read back as typed frames that give the same report as the hand-made
frames; the list filters and sorts, "my work" and the timeline."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlmodel import Session

from crm_impl.core import arrow
from crm_impl.core.models import Person, Project, UserAccount
from crm_impl.defects import metrics, queries
from crm_impl.defects.models import Defect, DefectChange, DefectComment, Release, TestRun
from tests.defects.test_metrics import CLIENT_TESTER, DEV_A, DEV_B, NOW, TESTER, _frames


def _naive(value: object) -> datetime | None:
    return None if pd.isna(value) else pd.Timestamp(value).tz_convert("UTC").to_pydatetime()  # type: ignore[arg-type]


def _opt(value: object) -> int | None:
    return None if pd.isna(value) else int(value)  # type: ignore[call-overload]


def seed(session: Session) -> int:
    """The hand-made company of test_metrics as rows; returns the project id."""
    f = _frames()
    project = Project(name="Defects test")
    session.add(project)
    session.flush()
    for row in f["users"].itertuples():
        person = Person(full_name=row.name, side=row.side)
        session.add(person)
        session.flush()
        session.add(
            UserAccount(
                id=row.id, username=f"u{row.id}", display_name=row.name, person_id=person.id, roles=[]
            )
        )
    session.add(UserAccount(id=99, username="nobody", display_name="", roles=[]))
    for row in f["releases"].itertuples():
        session.add(Release(id=row.id, project_id=project.id, name=row.name, status=row.status))
    session.flush()
    titles = {1: "Invoice total wrong", 2: "Login slow", 3: "Export empty", 4: "Typo", 5: "Crash on save"}
    for row in f["defects"].itertuples():
        session.add(
            Defect(
                id=row.id,
                project_id=project.id,
                title=titles.get(row.id, f"Defect {row.id}"),
                status=row.status,
                severity=row.severity,
                priority=row.priority,
                module=row.module,
                environment=row.environment,
                found_in_release_id=_opt(row.found_in_release_id),
                target_release_id=_opt(row.target_release_id),
                fixed_in_release_id=_opt(row.fixed_in_release_id),
                reporter_id=_opt(row.reporter_id),
                assignee_id=_opt(row.assignee_id),
                created_at=_naive(row.created_at),
                updated_at=_naive(row.closed_at) or _naive(row.created_at),
                closed_at=_naive(row.closed_at),
            )
        )
    session.flush()
    for row in f["changes"].itertuples():
        session.add(
            DefectChange(
                defect_id=row.defect_id,
                from_status=None if pd.isna(row.from_status) else row.from_status,
                to_status=row.to_status,
                at=_naive(row.at),
                by_id=_opt(row.by_id),
                release_id=_opt(row.release_id),
            )
        )
    for row in f["test_runs"].itertuples():
        session.add(
            TestRun(
                project_id=project.id,
                release_id=row.release_id,
                tester_id=row.tester_id,
                passed=row.passed,
                failed=row.failed,
                blocked=row.blocked,
            )
        )
    session.add(
        DefectComment(
            defect_id=1,
            at=_naive(pd.Timestamp("2026-03-05 09:30", tz="UTC")),
            by_id=TESTER,
            body="Still <b>wrong</b>",
        )
    )
    session.commit()
    return int(project.id or 0)


def test_frames_read_back_give_the_hand_made_report(session):
    pid = seed(session)
    frames = queries.load(session, pid)
    d = frames.defects
    assert d["id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert d["status"].astype(str).tolist() == [
        "closed",
        "closed",
        "in_progress",
        "verified",
        "fixed",
        "rejected",
    ]
    assert str(d["assignee_id"].dtype) == "Int64" and d["assignee_id"].isna().tolist() == [False] * 3 + [
        True,
        False,
        True,
    ]
    assert str(d["created_at"].dt.tz) == "UTC"
    c = frames.changes
    assert len(c) == len(_frames()["changes"])
    assert c["from_status"].isna().sum() == 6  # one filing per defect
    assert (c.groupby("defect_id")["at"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert c.loc[c["to_status"] == "fixed", "release_id"].eq(1).all() and c["by_id"].notna().all()
    f = _frames()
    expected = metrics.report(f["defects"], f["changes"], f["releases"], f["test_runs"], f["users"], NOW)
    got = queries.report(session, pid, now=NOW.to_pydatetime())
    assert got.pop("project_id") == pid
    assert got["time_to_fix_days"]["median"] == pytest.approx(expected["time_to_fix_days"]["median"])
    for key in ("totals", "by_status", "weekly_flow", "reopen", "by_module", "by_found_release", "real_data"):
        assert got[key] == expected[key], key
    assert got["per_programmer"] == expected["per_programmer"] and got["anomalies"] == expected["anomalies"]
    assert got["pass_rate"][0]["pass_rate"] == pytest.approx(0.85)


def test_an_empty_project_reads_empty_frames_and_a_zero_report(session):
    project = Project(name="Empty")
    session.add(project)
    session.commit()
    frames = queries.load(session, int(project.id or 0))
    assert frames.defects.empty and frames.changes.empty and frames.test_runs.empty
    r = queries.report(session, int(project.id or 0), now=NOW.to_pydatetime())
    assert r["totals"]["defects"] == 0 and r["reopen"]["rate"] is None


def test_defect_list_filters_and_sorts(session):
    pid = seed(session)

    def ids(**kw):  # type: ignore[no-untyped-def]
        return queries.defect_list(session=session, project_id=pid, **kw)["id"].tolist()

    assert ids() == [1, 2, 3, 4, 5, 6]
    assert ids(status=["closed", "fixed"]) == [1, 2, 5] and ids(status="fixed") == [5]
    assert ids(severity="critical") == [1, 5] and ids(module=["Invoices"]) == [3, 5]
    assert ids(release_id=2) == [1, 3, 5]  # found in, target or fixed in 1.1
    assert ids(assignee_id=DEV_A) == [1, 3, 5] and ids(assignee_id=[DEV_B]) == [2]
    assert ids(mine=CLIENT_TESTER) == [6] and ids(mine=DEV_B) == [2]
    assert ids(open_only=True) == [3, 5]
    assert ids(sort="severity") == [1, 5, 3, 6, 2, 4]  # blocker first, not alphabetical
    assert ids(sort="priority", descending=True)[0] == 4
    rows = queries.defect_list(session=session, project_id=pid, status="fixed")
    assert rows.iloc[0][["assignee", "reporter", "found_in", "target", "fixed_in"]].tolist() == [
        "Ada Dev",
        "Tess Tester",
        "1.1",
        "1.1",
        "1.0",
    ]
    assert list(rows.columns) == queries.LIST_COLUMNS
    with pytest.raises(ValueError):
        ids(sort="version; DROP TABLE defect")


def test_my_work_puts_reopened_first_and_gives_the_tester_the_release(session):
    pid = seed(session)
    d1 = session.get(Defect, 1)
    d1.status = "reopened"
    session.add(
        Defect(id=7, project_id=pid, title="Later", status="assigned", severity="blocker", assignee_id=DEV_A)
    )
    session.commit()
    work = queries.my_work(session=session, project_id=pid, user_id=DEV_A, role="programmer")
    assert work["status"].tolist() == ["reopened", "assigned", "in_progress"]  # 5 is fixed: not theirs now
    retest = queries.my_work(session=session, project_id=pid, user_id=TESTER, role="tester")
    assert retest["id"].tolist() == [5] and retest["fixed_in"].tolist() == ["1.0"]
    assert queries.my_work(session=session, project_id=pid, user_id=CLIENT_TESTER, role="tester").empty


def test_timeline_interleaves_history_and_comments_in_time_order(session):
    seed(session)
    line = queries.timeline(session=session, defect_id=1)
    assert list(line.columns) == queries.TIMELINE_COLUMNS
    assert line["at"].is_monotonic_increasing and len(line) == 15
    assert line["kind"].tolist()[5:8] == ["change", "comment", "change"]
    comment = line[line["kind"] == "comment"].iloc[0]
    assert comment["text"] == "Still <b>wrong</b>" and comment["by"] == "Tess Tester"
    assert pd.isna(comment["from_status"])
    fixed = line[line["to_status"] == "fixed"]
    assert fixed["release"].tolist() == ["1.0"] * 3 and fixed["by"].tolist() == [
        "Ada Dev",
        "Ada Dev",
        "Bob Dev",
    ]
    assert pd.isna(line.iloc[0]["from_status"]) and line.iloc[0]["to_status"] == "new"


def test_the_arrow_read_and_the_cursor_read_give_the_same_frames(session):
    pid = seed(session)
    target = arrow.target(session, sqlite=True)  # committed, no transaction: Arrow reads
    assert target is not None
    dialect = session.get_bind().dialect.name
    assert arrow.columns(target, [queries.change_sql(dialect, pid)]) is not None  # no fallback
    fast, slow = queries.load(session, pid), queries.load(session, pid, arrow=False)
    for name in ("defects", "changes", "releases", "test_runs", "users"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_dtype=False)


def test_a_session_with_uncommitted_writes_reads_them_through_its_own_cursor(session):
    pid = seed(session)
    session.add(Defect(id=7, project_id=pid, title="Not committed yet", status="new"))
    session.flush()
    assert arrow.target(session) is None
    assert 7 in queries.load(session, pid).defects["id"].tolist()
    session.rollback()
