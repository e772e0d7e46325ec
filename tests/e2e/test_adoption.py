"""The administrator imports a usage log in Chromium and adoption rises: the management user,
licensed but never active in the demo, has one update in the log of another system, so the
usage dashboard's MAU grows by one; importing the same log again adds nothing."""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import go_to, sign_in_as
from tests.e2e.server import wait_ready

AT = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
LOG = f"user,timestamp,action,entity\nmanagement,{AT},update,deal\nmanagement,{AT},login,\n".encode()


def _mau(page) -> int:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(r"^Adoption rate"))
    )
    delta = tile.locator('[data-testid="stMetricDelta"]').first.inner_text()  # "MAU 10 of 23 licensed users"
    return int(re.search(r"MAU (\d+)", delta).group(1))


def _import(page) -> None:
    go_to(page, "pipeline_imports")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="What to import").click()
    page.get_by_role("option", name="Usage log (another CRM, web server)").click()
    wait_ready(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="File (CSV or XLSX)")
    uploader.locator('input[type="file"]').set_input_files(
        {"name": "usage.csv", "mimeType": "text/csv", "buffer": LOG}
    )
    wait_ready(page)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_ready(page)


def test_admin_imports_a_usage_log_and_mau_rises(page):
    sign_in_as(page, "Administrator")
    go_to(page, "adoption_usage")
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=30000)
    before = _mau(page)

    _import(page)
    expect(page.get_by_text("Import finished: 1 new, 0 updated, 0 rejected.")).to_be_visible(timeout=30000)
    go_to(page, "adoption_usage")
    expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=30000)
    assert _mau(page) == before + 1
    page.screenshot(path="/tmp/adoption_usage.png", full_page=True)

    _import(page)  # the same log again: skipped, nothing new
    expect(page.get_by_text("Import finished: 0 new, 0 updated, 0 rejected.")).to_be_visible(timeout=30000)
