"""Every training page for every role: renders without exception; forbidden pages refuse and show
no data; allowed pages draw exactly their charts; the coverage figures are the database's; the
PM's untrained list is exportable; my training shows my own record only; user text stays text."""

import pandas as pd
import pytest
from sqlmodel import Session, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number, fmt_pct
from crm_impl.core.models import Project, UserAccount
from crm_impl.core.ui.nav import PAGES
from crm_impl.training import metrics, queries
from crm_impl.training.models import Attendance, Meeting
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

TRAINING = [p for p in PAGES if p.path.startswith("pages/training/")]
CHARTS = {
    "pages/training/sessions.py": 1,
    "pages/training/coverage.py": 1,
    "pages/training/effect.py": 1,
    "pages/training/meetings.py": 2,
}


def test_every_training_page_is_registered():
    assert {p.path for p in TRAINING} == {
        f"pages/training/{n}.py" for n in ("sessions", "coverage", "effect", "meetings", "my_training")
    }
    assert {p.section_key for p in TRAINING} == {"section.training"}
    assert {p.path: p.action for p in TRAINING}["pages/training/my_training.py"] == "overview.read"


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", TRAINING, ids=lambda s: s.path)
def test_training_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)


def _pid(session: Session) -> int:
    return int(session.exec(select(Project.id)).one() or 0)


def test_coverage_figures_come_from_the_data(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        data = queries.report(session, _pid(session))
    cov = data["coverage"]
    assert 0 < cov["trained"] < cov["licensed"]  # the demo: most trained, a few still not
    at = app_as("pm_client", "pages/training/coverage.py")
    assert metric(at, "Trained before go-live") == fmt_pct(cov["share"], 1)
    assert metric(at, "Not trained yet") == fmt_number(len(data["untrained"]))
    untrained = at.dataframe[1].value
    assert sorted(untrained["name"]) == sorted(p["name"] for p in data["untrained"])
    assert any(b.label == "Export CSV" for b in at.get("download_button"))
    pl = app_as("pm_client", "pages/training/coverage.py", locale="pl")
    assert metric(pl, "Przeszkoleni przed startem") == fmt_pct(cov["share"], 1).replace(".", ",")


def test_trainer_sees_the_attendance_form_of_a_held_session(app_as, demo_url):
    at = app_as("trainer", "pages/training/sessions.py")
    assert at.checkbox, "the newest held session has invited people to tick"
    manager = app_as("sales_manager", "pages/training/sessions.py")
    assert not manager.checkbox  # reads the list, records nothing


def test_my_training_shows_only_my_sessions(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
        mine = session.exec(select(Attendance).where(Attendance.person_id == user.person_id)).all()
    assert mine
    at = app_as("sales_rep", "pages/training/my_training.py")
    assert metric(at, "Sessions invited to") == fmt_number(len(mine))
    assert len(at.dataframe[0].value) == len(mine)


def test_meeting_text_is_shown_as_text(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        meeting = session.exec(select(Meeting).where(Meeting.kind == "steering")).first()
        assert meeting is not None
        meeting.decisions = "**Go** [live](http://x.example)"
        session.add(meeting)
        session.commit()
        mid = meeting.id
    at = app_as("management", "pages/training/meetings.py")
    at.selectbox(key="meeting_pick").set_value(mid).run()
    assert "**Go** [live](http://x.example)" in [t.value for t in at.text]
    assert not any("http://x.example" in m.value for m in at.markdown)


def test_steering_share_on_the_page_is_the_metric(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        frames = queries.load(session, _pid(session))
    from datetime import date

    steer = metrics.steering_summary(frames.meetings, date.today())
    at = app_as("management", "pages/training/meetings.py")
    assert metric(at, "Steering meetings held") == fmt_number(steer["held"])
    assert metric(at, "With management present") == fmt_pct(steer["share"], 1)


def test_sessions_show_where_they_take_place(app_as, demo_url):
    from crm_impl.training.models import TrainingSession

    with Session(get_engine(demo_url)) as session:
        rows = session.exec(select(TrainingSession)).all()
    assert len(rows) >= 20  # the demo: 20+ sessions
    at = app_as("trainer", "pages/training/sessions.py")
    table = at.dataframe[0].value.set_index("id")
    for row in rows:
        expected = f"Online · {row.venue}" if row.online else row.venue
        assert table.loc[row.id, "where"] == expected, row.title
    assert any(r.online for r in rows) and any(not r.online for r in rows)


def test_coverage_shares_and_scores_per_department_in_the_readers_language(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        frames = queries.load(session, _pid(session))
    status = metrics.training_status(frames.people, frames.sessions, frames.attendance, frames.go_live)
    cov = metrics.coverage(status)
    by_department = metrics.scores(frames.sessions, frames.attendance, frames.people)["by_department"]
    pl = app_as("pm_client", "pages/training/coverage.py", locale="pl")
    shown = pl.dataframe[0].value
    assert shown["share"].tolist() == [fmt_pct(v, 1).replace(".", ",") for v in cov["share"]]
    scores = pl.dataframe[-1].value  # the last table: scores per department
    assert scores["department"].tolist() == by_department["department"].replace("", "–").tolist()
    assert scores["mean"].tolist() == [fmt_number(v, 1).replace(".", ",") for v in by_department["mean"]]


def test_effect_compares_the_actions_of_trained_and_untrained_users(app_as, demo_url):
    with Session(get_engine(demo_url)) as session:
        frames = queries.load(session, _pid(session))
    from datetime import date

    status = metrics.training_status(frames.people, frames.sessions, frames.attendance, frames.go_live)
    eff = metrics.effect(status, frames.usage, date.today())
    at = app_as("pm_client", "pages/training/effect.py")
    tile = next(m for m in at.metric if m.label == "Actions per trained user")
    assert tile.value == fmt_number(eff["trained"]["actions_per_user"], 1)
    assert tile.proto.delta == f"untrained: {fmt_number(eff['untrained']['actions_per_user'], 1)} per user"
    # and within each department, where the kind of work is alike
    by = metrics.effect_by_department(status, frames.usage, date.today())
    table = next(d.value for d in at.dataframe if "trained_actions_per_user" in d.value.columns)
    assert table["department"].tolist() == by["department"].replace("", "–").tolist()
    assert table["trained_actions_per_user"].tolist() == by["trained_actions_per_user"].tolist()
    assert [None if pd.isna(v) else v for v in table["untrained_active_share"]] == [
        fmt_pct(v, 1) if v == v else None for v in by["untrained_active_share"]
    ]


def test_the_demo_has_20_plus_sessions_with_attendance_and_scores_and_a_year_of_meetings(demo_url):
    from crm_impl.training.models import TrainingSession

    with Session(get_engine(demo_url)) as session:
        sessions = session.exec(select(TrainingSession)).all()
        attendance = session.exec(select(Attendance)).all()
        meetings = session.exec(select(Meeting)).all()
    held = {s.id for s in sessions if s.status == "held"}
    recorded = {a.session_id for a in attendance if a.attended is not None}
    scored = [a.score for a in attendance if a.score is not None]
    assert len(sessions) >= 20 and len(held) >= 10
    assert len(recorded & held) >= 10 and scored and all(0 <= s <= 100 for s in scored)
    days = sorted(m.meeting_date for m in meetings)
    assert {m.kind for m in meetings} == {"steering", "benefit_demo", "motivation", "workshop"}
    months = {(d.year, d.month) for d in days}
    assert len(months) >= 12  # a year of meetings: those held since the project began and those planned
