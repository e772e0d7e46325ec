"""Every budget page for every role: renders without exception; roles without budget.read are
refused and see no data; the pages draw their charts; the numbers are the database's; a PM posts
a cost through the page (and a bad amount is refused with nothing written); only budget editors
see the forms; the earned-value page opened by a PM freezes the newest closed month once."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.budget import metrics, queries
from crm_impl.budget.models import BudgetLine, CostPosting, EvSnapshot
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import fmt_money, fmt_pct, set_locale
from crm_impl.core.models import Project, utcnow
from crm_impl.core.ui.nav import PAGES
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric
from tests.core.test_permissions import EXPECTED

BUDGET = [p for p in PAGES if p.path.startswith("pages/budget/")]
CHARTS = {"pages/budget/overview.py": 3, "pages/budget/earned_value.py": 2, "pages/budget/lines.py": 0}


def _session(url: str) -> Session:
    return Session(get_engine(url))


def test_the_budget_pages_are_registered():
    assert [p.path for p in BUDGET] == [
        "pages/budget/overview.py",
        "pages/budget/earned_value.py",
        "pages/budget/lines.py",
    ]
    assert {p.action for p in BUDGET} == {"budget.read"}


@pytest.mark.parametrize("role", list(ROLE_LOGINS))
@pytest.mark.parametrize("spec", BUDGET, ids=lambda s: s.path)
def test_budget_page_for_role(app_as, role, spec):
    at = app_as(ROLE_LOGINS[role], spec.path)
    assert not at.exception, at.exception
    refused = any("permission" in e.value for e in at.error)
    assert refused == (not EXPECTED[role, spec.action])
    if refused:
        assert not at.dataframe and not at.get("vega_lite_chart") and not at.metric
        return
    assert len(at.get("vega_lite_chart")) == CHARTS[spec.path]
    forms = [b for b in at.button if b.label in ("Post the cost", "Add the line", "Save the band")]
    assert bool(forms) == (spec.path == "pages/budget/lines.py" and EXPECTED[role, "budget.edit"])


def test_overview_shows_the_database_totals_and_the_findings(app_as, demo_url):
    with _session(demo_url) as session:
        planned = session.exec(select(func.sum(BudgetLine.planned))).one()
        actual = session.exec(select(func.sum(CostPosting.amount))).one()
    assert planned == Decimal("1490000.00") and actual is not None and actual > 0
    at = app_as("management", "pages/budget/overview.py")
    assert metric(at, "Planned") == fmt_money(planned, "PLN")
    assert metric(at, "Actual") == fmt_money(actual, "PLN")
    assert metric(at, "Training share") == fmt_pct(210_000 / 1_490_000, 1)
    warnings = " ".join(w.value for w in at.warning)
    assert "No budget for Modifications" in warnings
    assert f"below the band of {fmt_pct(0.15)}–{fmt_pct(0.20)}" in warnings
    assert "Programowanie i konfiguracja" in warnings  # the largest overrun is named
    variance = at.dataframe[-1].value
    assert variance["Line"].iloc[0] == "Programowanie i konfiguracja"  # largest overrun first
    pl = app_as("management", "pages/budget/overview.py", locale="pl")
    set_locale("pl")
    assert metric(pl, "Plan") == fmt_money(planned, "PLN")
    assert any("Brak budżetu na etap „Modyfikacje”" in w.value for w in pl.warning)


def test_a_pm_posts_a_cost_and_cpi_moves(app_as, demo_url):
    at = app_as("pm_client", "pages/budget/lines.py")
    before = metric(at, "CPI")
    with _session(demo_url) as session:
        count = int(session.exec(select(func.count()).select_from(CostPosting)).one())
    at.text_input(key="posting_amount_0").input("150 000,00")  # typed Polish style
    at.text_input(key="posting_document_0").input("FV/TEST/1")
    at.button(key="posting_submit_0").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with _session(demo_url) as session:
        assert int(session.exec(select(func.count()).select_from(CostPosting)).one()) == count + 1
        row = session.exec(select(CostPosting).where(CostPosting.document_number == "FV/TEST/1")).one()
        assert row.amount == Decimal("150000.00")
    assert float(metric(at, "CPI")) < float(before)


def test_a_zero_or_negative_amount_is_refused_with_nothing_written(app_as, demo_url):
    with _session(demo_url) as session:
        count = int(session.exec(select(func.count()).select_from(CostPosting)).one())
    at = app_as("pm_vendor", "pages/budget/lines.py")
    at.text_input(key="posting_amount_0").input("-5")
    at.button(key="posting_submit_0").click().run()
    assert at.error and "cannot be negative" in at.error[0].value and "Amount" in at.error[0].value
    at.text_input(key="posting_amount_0").input("0")
    at.button(key="posting_submit_0").click().run()
    assert "more than zero" in at.error[0].value
    with _session(demo_url) as session:
        assert int(session.exec(select(func.count()).select_from(CostPosting)).one()) == count


def test_a_pm_opening_earned_value_freezes_the_last_closed_month_once(app_as, demo_url):
    month = metrics.last_closed_month(utcnow().date())
    with _session(demo_url) as session:
        pid = int(session.exec(select(Project.id)).one() or 0)
        frozen = session.exec(select(EvSnapshot).where(col(EvSnapshot.month) == month)).one()
        session.delete(frozen)  # as if the monthly job had not run
        session.commit()
    reader = app_as("consultant", "pages/budget/earned_value.py")
    assert not reader.exception
    with _session(demo_url) as session:
        assert session.exec(select(EvSnapshot).where(col(EvSnapshot.month) == month)).first() is None
    at = app_as("pm_vendor", "pages/budget/earned_value.py")
    assert not at.exception and not at.error
    with _session(demo_url) as session:
        again = session.exec(
            select(EvSnapshot).where(col(EvSnapshot.project_id) == pid, col(EvSnapshot.month) == month)
        ).one()
        assert again.taken_by == "pm_vendor"
    history = at.dataframe[0].value
    assert history.iloc[-1, 1] == "yes (so far)"  # the month in progress is marked partial


def test_the_earned_value_page_shows_every_figure_now_and_titles_the_indices_axis(app_as, demo_url):
    with _session(demo_url) as session:
        pid = int(session.exec(select(Project.id)).one() or 0)
        ev = queries.report(session, pid)["earned_value"]
    at = app_as("management", "pages/budget/earned_value.py")
    money = {
        "Budget at completion (BAC)": ev.bac,
        "Planned value (PV)": ev.pv,
        "Earned value (EV)": ev.ev,
        "Actual cost (AC)": ev.ac,
        "Cost variance (CV)": ev.cv,
        "Schedule variance (SV)": ev.sv,
        "Estimate at completion (EAC)": ev.eac,
        "Estimate to complete (ETC)": ev.etc,
        "Variance at completion (VAC)": ev.vac,
    }
    for label, value in money.items():
        assert metric(at, label) == fmt_money(value, "PLN"), label
    assert metric(at, "CPI") == f"{ev.cpi:.2f}" and metric(at, "SPI") == f"{ev.spi:.2f}"
    specs = [json.dumps(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]
    indices = next(s for s in specs if "cpi" in s)
    assert '"title": "Index"' in indices and '"title": "Amount"' not in indices  # a ratio, not money
