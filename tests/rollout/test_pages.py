"""Every rollout-plan page for every role: renders without exception; forbidden pages refuse and
show no data; the write controls appear only for the roles allowed to use them."""

import pytest

from crm_impl.core.permissions import can
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS

PLAN = [p for p in PAGES if p.path.startswith("pages/rollout/")]


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
    assert refused == (not can((role,), spec.action))
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
    else:
        assert at.metric or at.dataframe or at.get("vega_lite_chart")


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


def test_schedule_shows_gantt_and_slippage(app_as):
    at = app_as("pm_vendor", "pages/rollout/schedule.py")
    assert len(at.get("vega_lite_chart")) >= 2
    slipped = [m for m in at.metric if m.label == "Phases slipped"]
    assert slipped and int(slipped[0].value) >= 1


def test_team_page_shows_the_demo_role_violation(app_as):
    at = app_as("tester", "pages/rollout/team.py")
    assert any("Role rules violated" in w.value for w in at.warning)
    assert any("programmer is a contact for the client" in m.value for m in at.markdown)
