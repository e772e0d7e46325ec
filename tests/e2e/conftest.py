"""Browser fixtures: Debian's Chromium driven by Playwright against a server on a free port.

Locally the tests skip when Chromium or Playwright is missing; in CI that fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import need
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, prepare_database, running_app, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    need(os.path.exists(CHROMIUM), "Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with its own demo database, shared by the tests of one module."""
    path: Path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    db = f"sqlite:///{path}"
    prepare_database(db)
    with running_app(db) as url:
        yield url


@pytest.fixture
def page(browser, app_url):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(app_url)
    wait_ready(pg)
    yield pg
    context.close()


def sign_in_as(page, role_label: str) -> None:  # type: ignore[no-untyped-def]
    """Demo one-click sign-in by the role's English button label, e.g. "Sales rep"."""
    page.locator('[data-testid="stButton"] button', has_text=role_label).first.click()
    wait_ready(page)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30000)


def go_to(page, url_path: str) -> None:  # type: ignore[no-untyped-def]
    """Open a page through the sidebar (a full reload would start a new, signed-out session)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click()
    wait_ready(page)


def choose(page, widget, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick `option` in a multiselect `widget` and make sure the pick landed.

    Under load a click can reach the dropdown while it is still opening and select nothing
    (CI once submitted a form with "Roles is required"), so the chip is checked and the pick
    retried, up to three times.
    """
    chip = widget.get_by_text(option, exact=True)
    for _ in range(3):
        if chip.count():  # landed meanwhile (a slow render): do not click it away again
            break
        widget.click()
        page.get_by_role("option", name=option, exact=True).click()
        page.keyboard.press("Escape")
        try:
            expect(chip).to_be_visible(timeout=10000)
            break
        except AssertionError:
            continue
    expect(chip).to_be_visible(timeout=10000)
    # The next click must wait until the dropdown has gone: while it closes, a click elsewhere
    # only dismisses it (CI once lost a form's submit click that came 30 ms after the Escape).
    expect(page.get_by_role("listbox")).to_have_count(0, timeout=10000)


SignIn = Callable[[object, str], None]
