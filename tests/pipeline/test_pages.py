"""Every pipeline page for every role: renders without exception, forbidden pages refuse and
show no data, charts are drawn where the page promises them."""

import pytest

from crm_impl.core.permissions import can
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS

MINE = ("board", "deal", "client", "dashboard", "forecast", "stale", "settings")
PIPELINE = [p for p in PAGES if p.path in {f"pages/pipeline/{n}.py" for n in MINE}]
CHARTS = {"pages/pipeline/dashboard.py": 7, "pages/pipeline/forecast.py": 2, "pages/pipeline/stale.py": 1}


def test_every_pipeline_page_is_registered():
    assert len(PIPELINE) == len(MINE)
    assert {p.section_key for p in PIPELINE} == {"section.pipeline", "section.admin"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", PIPELINE, ids=lambda s: s.path)
def test_pipeline_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not can((role,), spec.action))
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
        return
    assert len(at.get("vega_lite_chart")) >= CHARTS.get(spec.path, 0)
