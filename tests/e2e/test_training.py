"""A trainer records yesterday's attendance in Chromium and the coverage rises: Barbara Mazur
(Finance, not trained yet) attended the catch-up session with a score of 82, so one licensed
user more is trained before go-live and she leaves the untrained list."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import go_to
from tests.e2e.server import wait_ready

PERSON = "Barbara Mazur"


def _sign_in(page, login: str) -> None:
    page.locator(f".st-key-demo_{login} button").first.click()
    wait_ready(page)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30000)


def _trained(page) -> int:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile("^Trained before go-live$"))
    )
    delta = tile.locator('[data-testid="stMetricDelta"]').first.inner_text()  # "18 of 23 licensed users"
    return int(re.match(r"\s*(\d+)", delta).group(1))


def test_trainer_records_attendance_and_coverage_rises(page):
    _sign_in(page, "trainer")
    go_to(page, "training_coverage")
    before = _trained(page)
    expect(page.locator('[data-testid="stDataFrame"]').nth(1)).to_be_visible()

    go_to(page, "training_sessions")
    save = page.get_by_role("button", name="Save attendance")
    form = page.locator('[data-testid="stForm"]').filter(has=save)
    expect(form).to_be_visible(timeout=20000)
    row = form.locator('[data-testid="stHorizontalBlock"]').filter(has_text=PERSON)
    row.locator('[data-testid="stCheckbox"] label').click()
    row.locator('input[type="number"]').fill("82")
    form.get_by_role("button", name="Save attendance").click()
    wait_ready(page)
    expect(page.get_by_text("Attendance saved.").first).to_be_visible(timeout=20000)

    go_to(page, "training_coverage")
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible()
    assert _trained(page) == before + 1
    page.screenshot(path="/tmp/training_coverage.png", full_page=True)
