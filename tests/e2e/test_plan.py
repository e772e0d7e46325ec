"""Idea intake and change approval in Chromium: a sales rep (client side) submits an idea and is
told it looks like an existing one; the client PM triages it as a duplicate of the suggestion;
management approves a change request and scope creep rises on the plan pages."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import go_to, sign_in_as
from tests.e2e.server import wait_ready

IDEA = "Exporting the customer list to Excel"


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    wait_ready(page)


def _metric(page, label: str):
    return (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text=label)
        .locator('[data-testid="stMetricValue"]')
    )


def _choose(page, label: str, text: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    wait_ready(page)


def test_submit_triage_and_approve(page):
    sign_in_as(page, "Sales rep")
    go_to(page, "rollout_ideas")
    expect(page.get_by_role("button", name="Triage")).to_have_count(0)
    page.get_by_role("textbox", name="Title").fill(IDEA)
    page.get_by_role("button", name="Submit an idea").click()
    wait_ready(page)
    expect(page.get_by_text("your idea was submitted")).to_be_visible()
    expect(page.get_by_text("Similar ideas or requirements already exist")).to_be_visible()
    expect(page.get_by_text("Export customer list to Excel").first).to_be_visible()
    _sign_out(page)

    sign_in_as(page, "Project manager (client)")
    go_to(page, "rollout_ideas")
    _choose(page, "Idea to triage", IDEA)
    expect(page.get_by_text("Likely duplicates")).to_be_visible()
    suggestion = page.locator('[data-testid="stMarkdown"]').filter(
        has_text=re.compile(r"Export customer list to Excel · Similarity")
    )
    expect(suggestion.first).to_be_visible()
    dup_of = page.locator('[data-testid="stSelectbox"]').filter(has_text="Duplicate of")
    expect(dup_of.locator("input")).to_have_value(re.compile("Export customer list to Excel"))
    page.get_by_role("button", name="Triage", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Idea triaged.")).to_be_visible()
    _sign_out(page)

    sign_in_as(page, "Management")
    go_to(page, "rollout_changes")
    creep = _metric(page, "Approved effort ÷ baseline effort")
    before = creep.inner_text()
    _choose(page, "Change request", "SMS reminders")
    page.get_by_role("button", name="Approve").click()
    wait_ready(page)
    expect(page.get_by_text("Decision saved.")).to_be_visible()
    expect(creep).not_to_have_text(before)
    expect(creep).to_have_text(re.compile(r"8\.7"))
    go_to(page, "rollout_schedule")
    expect(_metric(page, "Scope creep")).to_have_text(re.compile(r"8\.7"))
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
