"""Every foundation page for every role: renders without exception; forbidden pages refuse and
show nothing; allowed pages draw exactly their charts; the figures match the database."""

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number
from crm_impl.core.models import UserAccount
from crm_impl.core.ui.nav import PAGES
from crm_impl.pipeline.models import Deal, StageDefinition
from tests.apptest import ROLE_LOGINS
from tests.core.test_permissions import EXPECTED

CORE = [
    p
    for p in PAGES
    if p.path
    in {"pages/home/overview.py", "pages/home/profile.py", "pages/admin/users.py", "pages/admin/audit.py"}
]
CHARTS = {"pages/home/overview.py": 1}  # every other core page draws none


def open_deals(url: str) -> int:
    """Deals in an open stage, counted in the database."""
    with Session(get_engine(url)) as session:
        query = (
            select(func.count())
            .select_from(Deal)
            .join(StageDefinition, col(StageDefinition.id) == col(Deal.stage_id))
            .where(StageDefinition.kind == "open")
        )
        return int(session.exec(query).one())


def metric(at, label: str) -> str:  # type: ignore[no-untyped-def]
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, (label, [m.label for m in at.metric])
    return values[0]


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", CORE, ids=lambda s: s.path)
def test_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)


def test_overview_figures_come_from_the_data(app_as, demo_url):
    at = app_as("admin", "pages/home/overview.py")
    with Session(get_engine(demo_url)) as session:
        active = session.exec(
            select(func.count()).select_from(UserAccount).where(col(UserAccount.is_active))
        ).one()
    assert active > 0
    assert metric(at, "Active users") == fmt_number(active)
    assert metric(at, "Open deals") == fmt_number(open_deals(demo_url))


def test_users_page_lists_every_account(app_as, demo_url):
    at = app_as("admin", "pages/admin/users.py")
    with Session(get_engine(demo_url)) as session:
        names = set(session.exec(select(UserAccount.username)).all())
    assert len(names) > 5
    shown = at.dataframe[0].value
    assert sorted(shown["username"]) == sorted(names)
