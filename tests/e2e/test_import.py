"""Upload a small CSV in the browser, see the dry-run report with a bad row, then import."""

from playwright.sync_api import expect

from tests.e2e.conftest import go_to, sign_in_as
from tests.e2e.server import wait_ready

CSV = "name;series;price\nE2E Cement;E2E;1 234,50\n=cmd();X;1\nE2E Tiles;E2E;99,9\n".encode("cp1250")


def test_upload_dry_run_then_import(page):
    sign_in_as(page, "Sales manager")
    go_to(page, "pipeline_imports")
    expect(page.get_by_role("heading", name="Import")).to_be_visible()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="What to import").click()
    page.get_by_role("option", name="Products").click()
    wait_ready(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="File (CSV or XLSX)")
    uploader.locator('input[type="file"]').set_input_files(
        {"name": "products.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    wait_ready(page)
    expect(page.get_by_text("semicolon (;)")).to_be_visible()
    page.get_by_role("button", name="Dry run").click()
    wait_ready(page)
    expect(page.get_by_text("Dry run finished: nothing was written.")).to_be_visible()
    expect(page.get_by_text("Rows that will not be imported")).to_be_visible()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Import finished: 2 new, 0 updated, 1 rejected.")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
