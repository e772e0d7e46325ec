"""Every pipeline page for every role: renders without exception, forbidden pages refuse and
show no data, each allowed page draws exactly its charts, and the figures a user reads match
the database."""

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.config import get_settings
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_money, fmt_number
from crm_impl.core.ui.nav import PAGES
from crm_impl.pipeline.models import Deal, StageDefinition
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric, open_deals
from tests.core.test_permissions import EXPECTED

MINE = ("board", "deal", "client", "dashboard", "forecast", "stale", "settings", "search", "my_day")
PIPELINE = [p for p in PAGES if p.path in {f"pages/pipeline/{n}.py" for n in MINE}]
# charts per page; every other pipeline page draws none
CHARTS = {"pages/pipeline/dashboard.py": 7, "pages/pipeline/forecast.py": 2, "pages/pipeline/stale.py": 1}


def test_every_pipeline_page_is_registered():
    assert len(PIPELINE) == len(MINE)
    assert {p.section_key for p in PIPELINE} == {"section.home", "section.pipeline", "section.admin"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", PIPELINE, ids=lambda s: s.path)
def test_pipeline_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
        return
    assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)


def _open_value(url: str) -> Decimal:
    """The open pipeline in the configured currency, summed in the database."""
    with Session(get_engine(url)) as session:
        query = (
            select(func.coalesce(func.sum(Deal.value), 0))
            .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
            .where(StageDefinition.kind == "open", Deal.currency == get_settings().currency)
        )
        return Decimal(session.exec(query).one())


def test_dashboard_figures_come_from_the_data(app_as, demo_url):
    at = app_as("sales_manager", "pages/pipeline/dashboard.py")
    assert not at.exception, at.exception
    count = open_deals(demo_url)
    assert count > 0
    assert metric(at, "Open deals") == fmt_number(count)
    assert metric(at, "Pipeline value") == fmt_money(_open_value(demo_url))
    stale = app_as("sales_manager", "pages/pipeline/stale.py")
    assert metric(stale, "Stale deals") == metric(at, "Stale deals")  # one rule, two pages
