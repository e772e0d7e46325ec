"""Every pipeline page for every role: renders without exception, forbidden pages refuse and
show no data, each allowed page draws exactly its charts, and the figures a user reads match
the database."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, text
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


# -- search and My day ---------------------------------------------------------------------------


def _rows(url: str, sql: str, **params: object) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def _search(at, query: str, button: str = "Search"):  # type: ignore[no-untyped-def]
    at.sidebar.text_input(key="sidebar_search_text").input(query)
    next(b for b in at.sidebar.button if b.label == button).click()
    return at.run()


@pytest.mark.parametrize(
    ("locale", "button", "clients"), [("en", "Search", "Clients"), ("pl", "Szukaj", "Klienci")]
)
def test_the_search_box_finds_lodz_from_any_page(app_as, demo_url, locale, button, clients):
    at = _search(app_as("sales_rep", "pages/pipeline/board.py", locale=locale), "ŁÓDŹ", button)
    assert not at.exception, at.exception
    assert at.title[0].value == ("Search" if locale == "en" else "Wyszukiwanie")
    assert at.query_params["q"] == "ŁÓDŹ"  # a link to the results works
    in_lodz = _rows(demo_url, "SELECT id FROM account WHERE city = 'Łódź'")
    assert in_lodz
    assert metric(at, clients) == fmt_number(len(in_lodz))
    links = [p.proto for p in at.get("page_link") if p.proto.page == "pipeline_client"]
    assert {link.query_string for link in links} == {f"account={i}" for (i,) in in_lodz}


def test_search_results_link_deals_and_their_clients(app_as, demo_url):
    (deal_id, title, account_id, account), *_ = _rows(
        demo_url,
        "SELECT d.id, d.title, a.id, a.name FROM deal d JOIN account a ON a.id = d.account_id ORDER BY d.id",
    )
    at = app_as("sales_rep", "pages/pipeline/board.py")
    at = _search(at, account.upper())
    links = [(p.proto.page, p.proto.query_string) for p in at.get("page_link")]
    assert links[0] == ("pipeline_client", f"account={account_id}")  # the client itself first
    assert ("pipeline_deal", f"deal={deal_id}") in links
    deals = _rows(demo_url, "SELECT count(*) FROM deal WHERE account_id = :a", a=account_id)[0][0]
    assert int(metric(at, "Deals").replace(",", "")) >= deals


def test_a_search_with_no_query_or_no_hit_says_so(app_as):
    at = app_as("sales_rep", "pages/pipeline/search.py")
    assert not at.exception and "search box" in at.info[0].value
    at = _search(at, "qqqqqqqqq")
    assert "Nothing found" in at.info[0].value and not at.get("page_link")


def _overdue(url: str, login: str) -> list[int]:
    return [
        i
        for (i,) in _rows(
            url,
            "SELECT a.id FROM activity a LEFT JOIN deal d ON d.id = a.deal_id "
            "JOIN user_account u ON u.username = :login "
            "WHERE a.done_at IS NULL AND a.due_at < :today AND (a.owner_id = u.id OR d.owner_id = u.id)",
            login=login,
            today=datetime.combine(date.today(), time(0)).isoformat(sep=" "),
        )
    ]


def test_a_sales_rep_lands_on_my_day_and_ticks_off_an_overdue_call(app_as, demo_url):
    at = app_as("sales_rep")  # no page asked for: the landing page
    assert not at.exception, at.exception
    assert at.title[0].value == "My day"
    overdue = _overdue(demo_url, "sales_rep")
    assert overdue, "the demo gives the rep overdue activities"
    assert metric(at, "Overdue") == fmt_number(len(overdue))
    open_mine = _rows(
        demo_url,
        "SELECT count(*) FROM deal d JOIN stage_definition s ON s.id = d.stage_id "
        "JOIN user_account u ON u.id = d.owner_id WHERE u.username = 'sales_rep' AND s.kind = 'open'",
    )[0][0]
    assert metric(at, "My open deals") == fmt_number(open_mine)
    first = next(b for b in at.button if (b.key or "").startswith("my_day_done_"))
    activity_id = int(first.key.removeprefix("my_day_done_"))
    assert activity_id in overdue  # overdue first
    at = first.click().run()
    assert not at.exception, at.exception
    assert _overdue(demo_url, "sales_rep") == [i for i in overdue if i != activity_id]
    assert metric(at, "Overdue") == fmt_number(len(overdue) - 1)
    assert f"my_day_done_{activity_id}" not in [b.key for b in at.button]


def test_my_day_in_polish_and_stale_by_the_one_rule(app_as):
    at = app_as("sales_rep", locale="pl")
    assert at.title[0].value == "Mój dzień"
    assert [s.value for s in at.subheader] == [
        "Działania na dziś i zaległe",
        "Moje otwarte szanse",
        "Moje zastałe szanse",
    ]
    stale = app_as("sales_rep", "pages/pipeline/stale.py", locale="pl")  # starts on the rep's own
    shown = stale.dataframe[0].value
    assert metric(at, "Moje zastałe szanse") == fmt_number(len(shown))


@pytest.mark.parametrize("role", [r for r in ROLE_LOGINS if r != "sales_rep"])
def test_other_roles_keep_their_landing_page(app_as, role):
    at = app_as(ROLE_LOGINS[role])
    assert at.title[0].value == "Overview"
