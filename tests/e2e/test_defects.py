"""A defect's way through the team in Chromium (slide 9): the vendor tester files it (and
confirms it), the vendor PM assigns it to the programmer, the programmer starts it and marks it
fixed in release 1.1, the tester takes it into retest and verifies it on 1.1 — and the quality
dashboard's counts follow: one defect more, open again as before once it is verified."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import go_to
from tests.e2e.server import wait_ready

TITLE = "Credit note keeps the old VAT rate after a rate change"


def _sign_in(page, login: str) -> None:
    page.locator(f".st-key-demo_{login} button").first.click()
    wait_ready(page)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30000)


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    wait_ready(page)


def _metric(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$"))
    )
    return tile.locator('[data-testid="stMetricValue"]').first.inner_text()


def _count(page, label: str) -> int:
    return int(re.sub(r"\D", "", _metric(page, label)))


def _move(page, status: str, release: str | None = None) -> None:
    """On the defect page: the Next step tab, pick the status, (the release), confirm."""
    page.get_by_role("tab", name="Next step").click()
    page.locator('[data-testid="stRadio"]').get_by_text(status, exact=True).click()
    wait_ready(page)
    if release is not None:
        page.locator('[data-testid="stSelectbox"]:visible').filter(has_text=re.compile("^Release")).click()
        page.get_by_role("option", name=release, exact=True).click()
        wait_ready(page)
    page.get_by_role("button", name=f"Move to “{status}”").click()
    wait_ready(page)
    expect(page.get_by_text("Defect moved.")).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Status")).to_contain_text(status)


def _open_newest(page) -> None:
    go_to(page, "defects_defect")  # the newest defect is shown first
    expect(page.get_by_text(TITLE).first).to_be_visible()


def test_file_assign_fix_verify_and_the_dashboard_follows(page):
    _sign_in(page, "tester")
    go_to(page, "defects_dashboard")
    defects, still_open = _count(page, "Defects"), _count(page, "Open")

    go_to(page, "defects_new")
    page.get_by_role("textbox", name="Title").fill(TITLE)
    page.get_by_role("textbox", name="Steps to reproduce").fill("Change the VAT rate, issue a credit note")
    page.get_by_role("button", name="Report the defect").click()
    wait_ready(page)
    expect(page.get_by_text(re.compile(r"Defect #\d+ was reported"))).to_be_visible()
    go_to(page, "defects_dashboard")
    assert (_count(page, "Defects"), _count(page, "Open")) == (defects + 1, still_open + 1)
    _open_newest(page)
    _move(page, "Confirmed")
    _sign_out(page)

    _sign_in(page, "pm_vendor")
    _open_newest(page)
    _move(page, "Assigned")
    _sign_out(page)

    _sign_in(page, "programmer")
    _open_newest(page)
    _move(page, "In progress")
    _move(page, "Fixed", release="1.1")
    _sign_out(page)

    _sign_in(page, "tester")
    _open_newest(page)
    _move(page, "In retest")
    _move(page, "Verified", release="1.1")
    page.get_by_role("tab", name="Timeline").click()
    expect(page.locator('[data-testid="stDataFrame"]').last).to_be_visible()
    go_to(page, "defects_dashboard")
    assert (_count(page, "Defects"), _count(page, "Open")) == (defects + 1, still_open)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
