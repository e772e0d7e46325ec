"""A PM posts a cost in Chromium and sees CPI move: the client PM opens Budget lines and costs,
reads CPI, posts an invoice of 200 000,00 PLN (typed the Polish way) on the testing line, and
the CPI tile drops (EV is unchanged, AC grows); the earned-value page shows the same CPI."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import go_to
from tests.e2e.server import wait_ready


def _sign_in(page, login: str) -> None:
    page.locator(f".st-key-demo_{login} button").first.click()
    wait_ready(page)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30000)


def _metric(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{label}$"))
    )
    return tile.locator('[data-testid="stMetricValue"]').first.inner_text()


def test_a_pm_posts_a_cost_and_sees_cpi_move(page):
    _sign_in(page, "pm_client")
    go_to(page, "budget_lines")
    before = float(_metric(page, "CPI"))
    page.get_by_role("tab", name="Cost postings").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Post the cost")
    form.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Testy (dostawca i klient)").click()
    form.get_by_label("Amount").fill("200 000,00")
    form.get_by_label("Document number").fill("FV/E2E/1")
    form.get_by_role("button", name="Post the cost").click()
    wait_ready(page)
    expect(page.get_by_text("Cost posted.").first).to_be_visible(timeout=20000)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="CPI")).not_to_contain_text(
        f"{before:.2f}", timeout=20000
    )
    after = float(_metric(page, "CPI"))
    assert after < before
    go_to(page, "budget_earned_value")
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="CPI").first).to_contain_text(
        f"{after:.2f}"
    )
