"""Sign in, wrong password, lockout, every section, Polish and back, sign out — in Chromium."""

from playwright.sync_api import expect

from tests.e2e.conftest import go_to, sign_in_as
from tests.e2e.server import wait_ready


def _login(page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
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
    for path, title in [("account", "My account"), ("admin_users", "Users"), ("admin_audit", "Audit log")]:
        go_to(page, path)
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Language").click()
    page.get_by_role("option", name="Polski").click()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Dziennik zmian")).to_be_visible()
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Język").click()
    page.get_by_role("option", name="English").click()
    wait_ready(page)
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
