"""Every foundation page for every role: renders without exception; forbidden pages refuse."""

import pytest

from crm_impl.core.permissions import can
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS

CORE = [
    p
    for p in PAGES
    if p.path
    in {"pages/home/overview.py", "pages/home/profile.py", "pages/admin/users.py", "pages/admin/audit.py"}
]


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", CORE, ids=lambda s: s.path)
def test_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not can((role,), spec.action))
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
