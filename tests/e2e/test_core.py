"""Sign in, wrong password, lockout, every section, Polish and back, sign out — in Chromium."""

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import choose, go_to, sign_in_as
from tests.e2e.server import wait_ready


def _login(page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_ready(page)


def _choose_language(page, label: str, language: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=label)
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    page.keyboard.type(language)
    page.keyboard.press("Enter")
    wait_ready(page)


def test_wrong_password_then_lockout(page):
    for _ in range(4):
        _login(page, "tester", "wrong-password")
        expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    _login(page, "tester", "wrong-password")
    expect(page.get_by_text("locked for 15 minutes")).to_be_visible()
    _login(page, "tester", "demo-pass-2026")  # the right password no longer helps
    expect(page.get_by_text("locked for 15 minutes")).to_be_visible()


def test_password_sign_in_every_section_language_sign_out(page):
    _login(page, "admin", "demo-pass-2026")
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Overview")).to_be_visible()
    for path, title in [
        ("home_profile", "My profile"),
        ("admin_users", "Users"),
        ("admin_audit", "Audit log"),
    ]:
        go_to(page, path)
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    _choose_language(page, "Language", "Polski")
    expect(page.get_by_role("heading", name="Dziennik zmian")).to_be_visible()
    _choose_language(page, "Język", "English")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def test_sales_rep_sees_only_allowed_sections(page):
    sign_in_as(page, "Sales rep")
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Overview")).to_be_visible()
    expect(nav.get_by_text("Users")).to_have_count(0)
    expect(page.get_by_text("Open deals").first).to_be_visible()


def test_admin_creates_a_user_and_finds_the_audit_entry(page):
    sign_in_as(page, "Administrator")
    go_to(page, "admin_users")
    # the new-user form (the sidebar's search box is a form too)
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("textbox", name="Username"))
    form.get_by_role("textbox", name="Username").fill("jan.kowalski")
    form.get_by_role("textbox", name="Full name").fill("Jan Kowalski")
    form.get_by_role("textbox", name="Password").fill("long-enough-1")
    choose(page, form.locator('[data-testid="stMultiSelect"]'), "Trainer")
    form.get_by_role("button", name="New user").click()
    # the success toast lasts about four seconds: look for it before waiting for the run to end
    expect(page.locator('[data-testid="stToast"]', has_text="User created.")).to_be_visible(timeout=20_000)
    wait_ready(page)
    go_to(page, "admin_audit")
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # the log, then the role grants
    button = page.get_by_role("button", name="Export CSV")
    with page.expect_download() as download:
        button.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    created = [
        r for r in rows if r["username"] == "admin" and r["entity"] == "User" and r["action"] == "Created"
    ]
    assert any("jan.kowalski" in r["changes"] for r in created), rows[:3]
