"""Import and export pages for every role: render, or refuse showing no data; a dry run and an
import through the page."""

import pytest

from crm_impl.core.permissions import can
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS

IMPORT_PAGES = [p for p in PAGES if p.path in {"pages/pipeline/imports.py", "pages/pipeline/export.py"}]


def test_pages_are_registered():
    assert {p.path for p in IMPORT_PAGES} == {"pages/pipeline/imports.py", "pages/pipeline/export.py"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", IMPORT_PAGES, ids=lambda s: s.path)
def test_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not can((role,), spec.action))
    if refused:
        assert not at.dataframe and not at.metric and not at.get("file_uploader")
    elif spec.path.endswith("export.py"):
        assert len(at.dataframe) == 2  # report summary and stages
    else:
        assert at.selectbox[0].label == "What to import"
