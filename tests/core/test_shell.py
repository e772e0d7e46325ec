"""The app shell as a user meets it: sign-in form, demo buttons, idle sign-out, language."""

from datetime import timedelta

from sqlmodel import Session, col, update
from streamlit.testing.v1 import AppTest

from crm_impl.core.db import get_engine
from crm_impl.core.models import UserSession, utcnow
from tests.apptest import APP


def _age_session(url: str, session_id: int, *, minutes: int) -> None:
    with Session(get_engine(url)) as s:
        s.execute(
            update(UserSession)
            .where(col(UserSession.id) == session_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        s.commit()


def test_wrong_password_shows_a_message_and_stays_on_sign_in(app_as):
    at = app_as(None)
    at.text_input(key="login_username").input("admin")
    at.text_input(key="login_password").input("nope")
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert at.title[0].value == "Sign in"


def test_password_sign_in_lands_on_overview(app_as):
    at = app_as(None)
    at.text_input(key="login_username").input("management")
    at.text_input(key="login_password").input("demo-pass-2026")
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.session_state["user_id"] is not None


def test_demo_buttons_sign_in_as_the_role(app_as):
    at = app_as(None)
    at.button(key="demo_sales_rep").click().run()
    assert not at.exception
    assert at.title[0].value == "My day"  # a sales rep's home (nav.LANDING); others: Overview
    assert "Sales rep" in [c.value for c in at.sidebar.caption]


def test_demo_buttons_absent_without_demo_mode(app_as, monkeypatch):
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "false")
    at = app_as(None)
    assert not [b for b in at.button if (b.key or "").startswith("demo_")]


def test_idle_session_is_signed_out(app_as, demo_url):
    at = app_as("admin")
    assert at.title[0].value == "Overview"
    _age_session(demo_url, at.session_state["session_id"], minutes=31)
    at.session_state["_session_checked"] = None
    at.run()
    assert "user_id" not in at.session_state
    assert at.title[0].value == "Sign in"
    assert [i.value for i in at.info][0] == "You were signed out after 30 minutes without activity."
    assert not at.metric and not at.get("vega_lite_chart")  # nothing shown to a signed-out session


def test_polish_interface(app_as):
    at = app_as("management", locale="pl")
    assert not at.exception
    assert at.title[0].value == "Przegląd"
    labels = [m.label for m in at.metric]
    assert "Otwarte szanse" in labels and "Wartość lejka" in labels


def test_language_switch_in_sidebar_is_remembered(app_as, demo_url):
    from sqlmodel import Session, select

    from crm_impl.core.db import get_engine
    from crm_impl.core.models import UserAccount

    at = app_as("analyst")
    at.sidebar.selectbox(key="sidebar_language").select("pl").run()
    assert at.title[0].value == "Przegląd"
    with Session(get_engine(demo_url)) as s:
        assert s.exec(select(UserAccount.locale).where(UserAccount.username == "analyst")).one() == "pl"


def test_sign_out(app_as):
    at = app_as("tester")
    at.sidebar.button(key="sign_out").click().run()
    assert "user_id" not in at.session_state
    assert not at.metric


def test_overview_numbers_come_from_the_database(app_as, demo_url):
    from sqlalchemy import func
    from sqlmodel import Session, select

    from crm_impl.core.db import get_engine
    from crm_impl.pipeline.models import Deal, StageDefinition

    with Session(get_engine(demo_url)) as s:
        open_deals = s.exec(
            select(func.count(Deal.id)).join(StageDefinition).where(StageDefinition.kind == "open")
        ).one()
    at = app_as("management")
    metric = next(m for m in at.metric if m.label == "Open deals")
    assert metric.value == f"{open_deals:,}"
    assert at.get("vega_lite_chart")


def test_admin_creates_user_and_sees_it_in_audit_log(app_as):
    at = app_as("admin", "pages/admin/users.py")
    form_inputs = {w.label: w for w in at.text_input}
    form_inputs["Username"].input("new.person")
    form_inputs["Full name"].input("New Person")
    at.multiselect[0].select("tester")
    next(w for w in at.text_input if w.label == "Password").input("long-enough-1")
    next(b for b in at.button if b.label == "New user").click().run()
    assert not at.exception and not at.error
    assert "new.person" in at.dataframe[0].value["username"].tolist()
    at.switch_page("pages/admin/audit.py").run()
    log = at.dataframe[0].value
    row = log[log["action"] == "Created"].iloc[0]  # the log reads as words, not keys or JSON
    assert row["username"] == "admin" and row["entity"] == "User" and "Username: new.person" in row["changes"]


def test_opening_app_without_database_file_creates_it(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("CRM_IMPL_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert (tmp_path / "fresh.db").exists()


def test_language_picked_before_sign_in_is_kept_and_remembered(app_as, demo_url):
    from sqlmodel import Session, select

    from crm_impl.core.db import get_engine
    from crm_impl.core.models import UserAccount

    at = app_as(None)
    at.segmented_control(key="login_language").set_value("pl").run()
    assert at.title[0].value == "Logowanie"
    at.button(key="demo_trainer").click().run()
    assert at.title[0].value == "Przegląd"
    with Session(get_engine(demo_url)) as s:
        assert s.exec(select(UserAccount.locale).where(UserAccount.username == "trainer")).one() == "pl"


def test_signed_out_elsewhere_ends_this_tab_on_its_next_run(app_as, demo_url):
    from crm_impl.core import sessions

    at = app_as("sales_rep", "pages/pipeline/board.py")
    assert at.title[0].value == "Pipeline board"
    with Session(get_engine(demo_url)) as s:
        sessions.revoke(session=s, session_id=at.session_state["session_id"])
        s.commit()
    at.session_state["_session_checked"] = None
    at.run()
    assert at.title[0].value == "Sign in"
    assert [i.value for i in at.info][0] == (
        "You were signed out (signed out in another tab, or the password was changed)."
    )
    assert not at.get("vega_lite_chart") and not at.metric
