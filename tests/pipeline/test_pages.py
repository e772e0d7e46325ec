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
from crm_impl.core.i18n import fmt_money, fmt_money_short, fmt_number
from crm_impl.core.models import UserAccount
from crm_impl.core.saved_filters import SavedFilter
from crm_impl.core.ui.nav import PAGES
from crm_impl.pipeline.models import Contact, Deal, StageDefinition
from tests.apptest import ROLE_LOGINS
from tests.core.test_pages import metric, open_deals
from tests.core.test_permissions import EXPECTED

MINE = ("board", "deals", "deal", "client", "dashboard", "forecast", "stale", "settings", "search", "my_day")
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
    value = _open_value(demo_url)
    assert metric(at, "Pipeline value") == fmt_money_short(value)  # 10.2m PLN in the tile
    assert next(m for m in at.metric if m.label == "Pipeline value").proto.help == fmt_money(value)
    stale = app_as("sales_manager", "pages/pipeline/stale.py")
    assert metric(stale, "Stale deals") == metric(at, "Stale deals")  # one rule, two pages


# ---- the deal list and a deal's contact person ---------------------------------------------------


def _user_id(url: str, login: str) -> int:
    with Session(get_engine(url)) as session:
        return int(session.exec(select(UserAccount.id).where(UserAccount.username == login)).one())


def _deals(url: str, owner_id: int | None = None) -> int:
    with Session(get_engine(url)) as session:
        query = select(func.count()).select_from(Deal)
        if owner_id is not None:
            query = query.where(Deal.owner_id == owner_id)
        return int(session.exec(query).one())


def test_deal_list_starts_a_rep_on_their_own_deals_and_a_manager_on_all(app_as, demo_url):
    rep = app_as("sales_rep", "pages/pipeline/deals.py")
    assert not rep.exception, rep.exception
    rep_id = _user_id(demo_url, "sales_rep")
    assert rep.multiselect(key="deals_f_owner_ids").value == [rep_id]
    assert metric(rep, "Deals listed") == fmt_number(_deals(demo_url, rep_id))
    assert not [h for h in rep.subheader if h.value == "Change the selected deals"]
    table = rep.dataframe[0].value
    assert len(table) == _deals(demo_url, rep_id) and "contact" in table.columns
    assert table["link"].str.fullmatch(r"/pipeline_deal\?deal=\d+").all()  # the deal page reads ?deal=
    boss = app_as("sales_manager", "pages/pipeline/deals.py")
    assert boss.multiselect(key="deals_f_owner_ids").value == []
    assert metric(boss, "Deals listed") == fmt_number(_deals(demo_url))
    boss.toggle(key="deals_f_overdue").set_value(True).run()
    overdue = boss.dataframe[0].value
    assert 0 < len(overdue) < _deals(demo_url)
    assert pl_title(app_as, "pages/pipeline/deals.py") == "Lista szans"


def pl_title(app_as, path: str) -> str:  # type: ignore[no-untyped-def]
    at = app_as("sales_manager", path, locale="pl")
    assert not at.exception, at.exception
    return at.title[0].value


def test_deal_list_saves_and_applies_a_filter_even_when_it_went_stale(app_as, demo_url):
    at = app_as("sales_manager", "pages/pipeline/deals.py")
    stages = at.multiselect(key="deals_f_stage_ids")
    offer = next(o for o in stages.options if o == "Offer")
    stages.select(offer).run()
    at.text_input(key="deals_saved_new_name").input("Offers").run()
    at.button(key="deals_saved_create").click().run()
    assert not at.exception, at.exception
    with Session(get_engine(demo_url)) as session:
        row = session.exec(select(SavedFilter).where(SavedFilter.name == "Offers")).one()
        offer_id = session.exec(select(StageDefinition.id).where(StageDefinition.key == "offer")).one()
        assert row.page_key == "pipeline.deals" and row.criteria == {"stage_ids": [offer_id]}
        # a filter whose owner has gone since (and a value somebody edited by hand)
        stale = SavedFilter(
            user_id=_user_id(demo_url, "sales_manager"),
            page_key="pipeline.deals",
            name="Old team",
            criteria={"owner_ids": [987654], "stage_ids": [offer_id], "value_min": "lots"},
        )
        session.add(stale)
        session.commit()
        stale_id = stale.id
    at.multiselect(key="deals_f_stage_ids").set_value([]).run()  # a fresh page run lists the new one
    at.selectbox(key="deals_saved_pick").set_value(stale_id).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="deals_f_stage_ids").value == [offer_id]
    assert at.multiselect(key="deals_f_owner_ids").value == []
    assert at.number_input(key="deals_f_value_min").value is None
    assert set(at.dataframe[0].value["stage"]) == {"Offer"}
    # another user does not see the manager's own filters
    rep = app_as("sales_rep", "pages/pipeline/deals.py")
    assert rep.selectbox(key="deals_saved_pick").options == ["No saved filter"]


def test_deal_page_shows_the_contact_person_as_text_and_offers_the_clients_contacts(app_as, demo_url):
    rep_id = _user_id(demo_url, "sales_rep")
    with Session(get_engine(demo_url)) as session:
        deal = session.exec(
            select(Deal)
            .where(Deal.owner_id == rep_id, col(Deal.account_id).is_not(None))
            .order_by(col(Deal.id))
        ).first()
        contact = session.exec(select(Contact).where(Contact.account_id == deal.account_id)).first()
        contact.full_name = "**Ewa** [x](http://evil)"
        deal.contact_id = contact.id
        session.add_all([contact, deal])
        session.commit()
        deal_id, contact_id, position = deal.id, contact.id, contact.position
    at = AppTest_with_deal(app_as, "sales_rep", deal_id)
    assert not at.exception, at.exception
    assert any(
        el.value.startswith("Contact person: **Ewa** [x](http://evil) · " + position) for el in at.text
    )
    pick = at.selectbox(key=f"contact_pick_{deal_id}")
    assert pick.value == contact_id and not pick.disabled
    other = app_as("programmer", None)  # reads the pipeline, may not edit the deal
    other.switch_page("pages/pipeline/deal.py")
    other.query_params["deal"] = str(deal_id)
    other.run()
    assert other.selectbox(key=f"contact_pick_{deal_id}").disabled


def AppTest_with_deal(app_as, login: str, deal_id: int):  # type: ignore[no-untyped-def]  # noqa: N802
    at = app_as(login, None)
    at.switch_page("pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal_id)
    at.run()
    return at


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
