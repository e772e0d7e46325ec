"""Sessions as a browser meets them: a link opened signed out leads to its page after sign-in, a
reload and a new tab stay signed in, sign-out ends it everywhere, and a live board left open
stops showing data once the user is deactivated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from crm_impl.core.db import dispose_engines, get_engine
from crm_impl.core.models import UserAccount
from crm_impl.pipeline.models import Deal
from tests.e2e.conftest import sign_in_as
from tests.e2e.server import prepare_database, running_app, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    path: Path = tmp_path_factory.mktemp("sessions") / "sessions.db"
    db = f"sqlite:///{path}"
    prepare_database(db)
    # a short refresh so the deactivation test does not wait long
    with running_app(db, env={"CRM_IMPL_LIVE_REFRESH_SECONDS": "2"}) as url:
        yield url, db
    dispose_engines()


def _title(page) -> str:  # type: ignore[no-untyped-def]
    page.wait_for_selector("h1", timeout=30000)
    return str(page.locator("h1").first.inner_text())


def test_a_link_survives_sign_in_reload_and_a_new_tab(browser, served):
    url, db = served
    with Session(get_engine(db)) as s:
        deal_id = s.exec(select(Deal.id).order_by(Deal.id)).first()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/pipeline_deal?deal={deal_id}")
        wait_ready(page)
        assert _title(page) == "Sign in"
        assert page.get_by_text("Page not found").count() == 0
        sign_in_as(page, "Sales manager")
        assert _title(page) == "Deal"
        assert f"deal={deal_id}" in page.url and "/pipeline_deal" in page.url
        cookies: dict = {}
        for _ in range(50):  # the page trades its ticket for the cookie right after sign-in
            cookies = {c["name"]: c for c in context.cookies()}
            if "crm_impl_session" in cookies:
                break
            page.wait_for_timeout(200)
        cookie = cookies["crm_impl_session"]
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("crm_impl_session") == -1  # scripts can't read it

        page.reload()
        wait_ready(page)
        assert _title(page) == "Deal"
        assert f"deal={deal_id}" in page.url

        other = context.new_page()
        other.goto(f"{url}/pipeline_board")
        wait_ready(other)
        assert _title(other) == "Pipeline board"

        other.get_by_role("button", name="Sign out").click()
        wait_ready(other)
        assert _title(other) == "Sign in"
        page.reload()  # the other tab's sign-out ended this tab's session too
        wait_ready(page)
        assert _title(page) == "Sign in"
    finally:
        context.close()


def test_a_live_board_signs_out_a_deactivated_user(browser, served):
    url, db = served
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/pipeline_board")
        wait_ready(page)
        sign_in_as(page, "Sales rep")
        assert _title(page) == "Pipeline board"
        with Session(get_engine(db)) as s:
            rep = s.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
            rep.is_active = False
            s.add(rep)
            s.commit()
        try:
            # nobody clicks: the board's own refresh notices and shows the sign-in page
            page.wait_for_selector("h1:has-text('Sign in')", timeout=30000)
            assert page.get_by_text("no longer active").count() == 1
        finally:
            with Session(get_engine(db)) as s:
                rep = s.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
                rep.is_active = True
                s.add(rep)
                s.commit()
    finally:
        context.close()
