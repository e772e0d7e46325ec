"""Every rollout-plan page for every role: renders without exception; forbidden pages refuse and
show no data; the write controls appear only for the roles allowed to use them."""

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_number
from crm_impl.core.models import Project
from crm_impl.core.permissions import SYSTEM
from crm_impl.core.ui.nav import PAGES
from crm_impl.rollout.models import Idea, IntegrationInterface, Phase, Requirement, Risk
from crm_impl.rollout.queries import plan_report
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

PLAN = [p for p in PAGES if p.path.startswith("pages/rollout/")]
# charts per page; every other rollout page draws none
CHARTS = {
    "pages/rollout/schedule.py": 2,
    "pages/rollout/goals.py": 1,
    "pages/rollout/requirements.py": 1,
    "pages/rollout/changes.py": 1,
    "pages/rollout/risks.py": 1,
}


def test_every_plan_page_is_registered_under_rollout():
    assert {p.path for p in PLAN} == {
        f"pages/rollout/{n}.py"
        for n in ("schedule", "team", "goals", "requirements", "ideas", "changes", "integrations", "risks")
    }
    assert {p.section_key for p in PLAN} == {"section.rollout"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", PLAN, ids=lambda s: s.path)
def test_plan_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert len(at.get("vega_lite_chart")) == CHARTS.get(spec.path, 0)
        assert at.metric or at.dataframe


def _buttons(at):
    return {b.label for b in at.button}


def test_only_the_client_pm_sees_triage(app_as):
    assert "Triage" in _buttons(app_as("pm_client", "pages/rollout/ideas.py"))
    for login in ("pm_vendor", "management", "analyst", "sales_rep"):
        assert "Triage" not in _buttons(app_as(login, "pages/rollout/ideas.py")), login


def test_only_management_sees_approve(app_as):
    assert "Approve" in _buttons(app_as("management", "pages/rollout/changes.py"))
    for login in ("pm_client", "pm_vendor", "analyst"):
        assert "Approve" not in _buttons(app_as(login, "pages/rollout/changes.py")), login


def _count(url: str, model: Any, *where: Any) -> int:
    """Rows of `model` in the demo's (only) project, counted in the database."""
    with Session(get_engine(url)) as session:
        project_id = session.exec(select(Project.id)).one()
        query = select(func.count()).select_from(model).where(col(model.project_id) == project_id, *where)
        return int(session.exec(query).one())


def test_schedule_shows_gantt_and_slippage(app_as, demo_url):
    at = app_as("pm_vendor", "pages/rollout/schedule.py")
    assert len(at.get("vega_lite_chart")) == 2  # the Gantt chart and the variance bars
    phases = _count(demo_url, Phase)
    done = _count(demo_url, Phase, col(Phase.status) == "done")
    assert phases == 7 and 0 < done < phases
    assert metric(at, "Phases done") == f"{done} / {phases}"
    with Session(get_engine(demo_url)) as session:
        report = plan_report(session=session, actor=SYSTEM)
    slipped = sum(1 for p in report["phases"] if p["slipped"])
    assert slipped > 0
    assert metric(at, "Phases slipped") == fmt_number(slipped)  # the same as `crm-impl report plan`


def test_register_pages_count_what_the_database_holds(app_as, demo_url):
    ideas = app_as("pm_client", "pages/rollout/ideas.py")
    assert metric(ideas, "Ideas") == fmt_number(_count(demo_url, Idea))
    waiting = _count(demo_url, Idea, col(Idea.status) == "new")
    assert waiting > 0
    assert metric(ideas, "Waiting for triage") == fmt_number(waiting)
    requirements = app_as("analyst", "pages/rollout/requirements.py")
    assert metric(requirements, "Requirements") == fmt_number(_count(demo_url, Requirement))
    risks = app_as("pm_vendor", "pages/rollout/risks.py")
    live = _count(demo_url, Risk, col(Risk.status).in_(["open", "mitigating"]))
    assert live > 0
    assert metric(risks, "Open risks") == fmt_number(live)
    interfaces = app_as("consultant", "pages/rollout/integrations.py")
    active = _count(demo_url, IntegrationInterface, col(IntegrationInterface.status) != "cancelled")
    assert metric(interfaces, "Interfaces") == fmt_number(active)


def test_team_page_shows_the_demo_role_violation(app_as):
    at = app_as("tester", "pages/rollout/team.py")
    assert any("Role rules violated" in w.value for w in at.warning)
    assert any("programmer is a contact for the client" in m.value for m in at.markdown)
