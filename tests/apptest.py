"""AppTest harness: the real app.py against a copy of a demo database, signed in as a role."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from crm_impl import demo
from crm_impl.core import sessions
from crm_impl.core.db import dispose_engines, get_engine, upgrade
from crm_impl.core.models import UserAccount

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
# demo login per app role (see crm_impl.demo.TEAM)
ROLE_LOGINS = {
    "admin": "admin",
    "management": "management",
    "pm_vendor": "pm_vendor",
    "pm_client": "pm_client",
    "analyst": "analyst",
    "consultant": "consultant",
    "tester": "tester",
    "programmer": "programmer",
    "trainer": "trainer",
    "sales_manager": "sales_manager",
    "sales_rep": "sales_rep",
}


def sign_in_state(at: AppTest, url: str, login: str) -> int:
    """Sign `at` in as `login` the way the sign-in form does: a server-side session (its id in
    the tab's state); returns the session id."""
    with Session(get_engine(url)) as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == login)).one()
        user_id = user.id
        session_id, _ticket = sessions.start(session=session, user=user)
        session.commit()
    at.session_state["session_id"] = session_id
    at.session_state["user_id"] = user_id
    return session_id


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    with Session(get_engine(url)) as session:
        demo.load(session=session, seed=7, accounts=120, deals=600, today=date.today())
    dispose_engines()
    # the forecast page imports statsmodels on its first run (seconds; more on a busy machine):
    # import it here, once per test process, as serve.py does at the app's start, so no page run
    # spends AppTest's timeout on it
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401

    return path


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "app.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CRM_IMPL_DATABASE_URL", url)
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "true")
    yield url
    get_engine(url).dispose()


@pytest.fixture
def app_as(demo_url: str) -> Callable[..., AppTest]:
    """app_as("sales_rep", "pages/home/overview.py", locale="pl") -> an AppTest that has run."""

    def _open(login: str | None, page: str | None = None, *, locale: str = "en") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        at.session_state["locale"] = locale
        if login is not None:
            sign_in_state(at, demo_url, login)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        return at

    return _open
