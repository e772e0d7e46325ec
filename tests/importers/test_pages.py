"""Import and export pages for every role: render, or refuse showing no data; a dry run and an
import through the page."""

import pytest

from crm_impl.core.i18n import fmt_number
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import open_deals
from tests.core.test_permissions import EXPECTED

IMPORT_PAGES = [p for p in PAGES if p.path in {"pages/pipeline/imports.py", "pages/pipeline/export.py"}]


def test_pages_are_registered():
    assert {p.path for p in IMPORT_PAGES} == {"pages/pipeline/imports.py", "pages/pipeline/export.py"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", IMPORT_PAGES, ids=lambda s: s.path)
def test_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    assert not at.get("vega_lite_chart")  # neither page draws a chart
    if refused:
        assert not at.dataframe and not at.metric and not at.get("file_uploader")
    elif spec.path.endswith("export.py"):
        assert len(at.dataframe) == 2  # report summary and stages
    else:
        assert at.selectbox[0].label == "What to import"


def test_export_preview_shows_the_open_deals_of_the_database(app_as, demo_url):
    at = app_as("sales_manager", "pages/pipeline/export.py")
    summary = at.dataframe[0].value
    shown = dict(zip(summary.iloc[:, 0], summary.iloc[:, 1], strict=True))
    assert shown["Open deals"] == fmt_number(open_deals(demo_url))
