"""Search (folded, NIP by digits, fuzzy last) and My day's read models, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlmodel import Session

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import PermissionDenied
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor
from crm_impl.pipeline import search as ps
from crm_impl.pipeline.models import AccountCreate, Activity, ActivityCreate, ContactCreate, Deal, DealCreate
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import my_day
from crm_impl.pipeline.queries import search as search_queries
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services.stages import list_stages


def run(engine, fn, actor, **kwargs):
    with UnitOfWork(engine) as uow:
        result = fn(session=uow.session, actor=actor, **kwargs)
        uow.commit()
    return result


def _index() -> ps.SearchIndex:
    accounts = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "name": ["Żwirex sp. z o.o.", "Budex S.A.", "Łódź Kruszywa", "Zwirek Bud"],
            "nip": ["123-456-32-18", None, "593 066 68 36", "7133310016"],
            "city": ["Kraków", "Łódź", "Łódź", "Gdańsk"],
        }
    )
    contacts = pd.DataFrame(
        {
            "id": [1, 2],
            "full_name": ["Paweł Wójcik", "Anna **Nowak**"],
            "email": ["pawel@zwirex.pl", None],
            "account_id": [1, None],
        }
    )
    deals = pd.DataFrame(
        {"id": [10, 11], "title": ["Dachówki na halę", "Cement"], "account_id": [1, 2], "stage_id": [3, 4]}
    )
    return ps.build_index(accounts, contacts, deals)


def _labels(index: ps.SearchIndex, query: str) -> list[str]:
    return ps.search(index, query)["label"].tolist()


def test_folding_drops_case_and_polish_marks():
    folded = ps.fold(pd.Series(["Żwirex", "ŁÓDŹ", "Sp. z o.o.", "Gęś  Ćma", None]))
    assert folded.tolist() == ["zwirex", "lodz", "sp z o o", "ges cma", ""]
    assert ps.fold_text("  ŻÓŁĆ ") == "zolc"


@pytest.mark.parametrize("query", ["zwirex", "ŻWIREX", "Żwirex", "zwirex sp. z o.o"])
def test_zwirex_is_found_whatever_the_case_and_marks(query):
    hits = ps.search(_index(), query)
    assert hits.iloc[0]["label"] == "Żwirex sp. z o.o."
    assert hits.iloc[0]["kind"] == "client"
    assert hits.iloc[0]["page"] == "pages/pipeline/client.py" and hits.iloc[0]["param"] == "account"
    assert hits.iloc[0]["target"] == 1


def test_a_typo_is_forgiven_but_exact_matches_rank_first():
    hits = ps.search(_index(), "Zwirek")
    assert hits["label"].tolist()[:2] == ["Zwirek Bud", "Żwirex sp. z o.o."]  # prefix, then fuzzy
    assert hits.iloc[0]["tier"] == ps.PREFIX and hits.iloc[1]["tier"] == ps.FUZZY
    assert "Budex S.A." not in hits["label"].tolist()
    assert _labels(_index(), "Zwyrex") == ["Żwirex sp. z o.o."]  # one letter wrong in six
    assert _labels(_index(), "qqqqqq") == []


@pytest.mark.parametrize("query", ["Łód", "lodz", "ŁÓDŹ", "łódź"])
def test_lodz_finds_the_city_and_the_name(query):
    hits = ps.search(_index(), query)
    assert hits.iloc[0]["label"] == "Łódź Kruszywa"  # in its name: above those only in Łódź
    assert set(hits["label"]) == {"Łódź Kruszywa", "Budex S.A."}
    assert "Łódź" in hits.iloc[1]["secondary"]


@pytest.mark.parametrize("query", ["1234563218", "123-456-32-18", "123 456 32 18", "PL1234563218"])
def test_nip_is_matched_on_digits(query):
    hits = ps.search(_index(), query)
    assert hits.iloc[0]["label"] == "Żwirex sp. z o.o." and hits.iloc[0]["tier"] == ps.NIP_EXACT
    assert ps.search(_index(), "5930666836").iloc[0]["label"] == "Łódź Kruszywa"  # stored with spaces


def test_part_of_a_nip_finds_it_below_the_whole_one():
    hits = ps.search(_index(), "713331")
    assert hits["label"].tolist() == ["Zwirek Bud"] and hits.iloc[0]["tier"] == ps.CONTAINS


def test_contacts_and_deals_are_found_with_their_links():
    index = _index()
    contact = ps.search(index, "wojcik").iloc[0]
    assert (contact["kind"], contact["label"], contact["target"]) == ("contact", "Paweł Wójcik", 1)
    assert contact["secondary"] == "Żwirex sp. z o.o. · pawel@zwirex.pl"
    deal = ps.search(index, "dachówki").iloc[0]
    assert (deal["kind"], deal["page"], deal["param"], deal["target"]) == (
        "deal",
        "pages/pipeline/deal.py",
        "deal",
        10,
    )
    assert deal["stage_id"] == 3 and deal["secondary"] == "Żwirex sp. z o.o."
    orphan = ps.search(index, "nowak").iloc[0]  # a contact of no client: nothing to open
    assert orphan["label"] == "Anna **Nowak**" and pd.isna(orphan["target"])


def test_a_client_name_also_finds_its_contacts_and_deals_below_it():
    hits = ps.search(_index(), "zwirex")
    assert hits["kind"].tolist() == ["client", "contact", "deal", "client"]
    assert hits["tier"].tolist() == [ps.PREFIX, ps.SECONDARY, ps.SECONDARY, ps.FUZZY]
    assert hits.iloc[3]["label"] == "Zwirek Bud"  # one letter off: last


def test_blank_or_odd_queries_find_nothing_and_never_fail():
    index = _index()
    for query in ["", "   ", "***", "[", "(", "\\", "%", "'; DROP TABLE deal; --"]:
        assert ps.search(index, query).empty, query
    assert len(ps.search(index, "a" * 10_000)) == 0
    empty = ps.build_index(
        pd.DataFrame(columns=["id", "name", "nip", "city"]),
        pd.DataFrame(columns=["id", "full_name", "email", "account_id"]),
        pd.DataFrame(columns=["id", "title", "account_id", "stage_id"]),
    )
    assert len(empty) == 0 and ps.search(empty, "zwirex").empty


def test_the_limit_keeps_the_best():
    hits = ps.search(_index(), "z", limit=2)
    assert len(hits) == 2 and hits.iloc[0]["tier"] == ps.PREFIX
    assert len(ps.search(_index(), "z", limit=None)) > 2


# -- from the database -----------------------------------------------------------------------


@pytest.fixture
def people(make_user):
    return {
        "rep": make_user("rep", "sales_rep"),
        "rep2": make_user("rep2", "sales_rep"),
        "boss": make_user("boss", "sales_manager"),
    }


@pytest.fixture
def crm(engine, people):
    rep, rep2 = people["rep"], people["rep2"]
    zwirex = run(
        engine,
        pipeline.create_account,
        rep,
        data=AccountCreate(name="Żwirex sp. z o.o.", nip="123-456-32-18", city="Łódź"),
    )
    other = run(engine, pipeline.create_account, rep2, data=AccountCreate(name="Budmax", city="Kraków"))
    run(
        engine,
        pipeline.create_contact,
        rep,
        data=ContactCreate(account_id=zwirex.id, full_name="Małgorzata Łęcka", email="m@zwirex.pl"),
    )
    mine = run(
        engine, pipeline.create_deal, rep, data=DealCreate(title="Kruszywo Żerań", account_id=zwirex.id)
    )
    theirs = run(
        engine, pipeline.create_deal, rep2, data=DealCreate(title="Dachówka ceramiczna", account_id=other.id)
    )
    return {"zwirex": zwirex.id, "mine": mine.id, "theirs": theirs.id}


def test_search_reads_clients_contacts_deals_and_nip(session, people, crm):
    rep = people["rep"]
    first = search_queries.search(session=session, actor=rep, query="1234563218").iloc[0]
    assert (first["kind"], first["target"]) == ("client", crm["zwirex"])
    assert "Łódź" in first["secondary"]
    contact = search_queries.search(session=session, actor=rep, query="lecka").iloc[0]
    assert (contact["kind"], contact["label"], contact["target"]) == (
        "contact",
        "Małgorzata Łęcka",
        crm["zwirex"],
    )
    deal = search_queries.search(session=session, actor=rep, query="ZERAN").iloc[0]
    assert (deal["kind"], deal["target"], deal["secondary"]) == ("deal", crm["mine"], "Żwirex sp. z o.o.")
    stages = {s.id: s.key for s in list_stages(session=session)}
    assert stages[int(deal["stage_id"])] == "prospect"
    assert search_queries.search(session=session, actor=rep, query="Łód").iloc[0]["target"] == crm["zwirex"]


def test_a_rep_finds_the_deals_the_board_shows_them(session, people, crm):
    """Reps read every deal (the board's owner filter offers "All"; the deal page opens any):
    search shows them the same rows, and nobody without pipeline.read gets any."""
    rep = people["rep"]
    hits = search_queries.search(session=session, actor=rep, query="dachowka")
    assert hits["target"].tolist() == [crm["theirs"]]
    stage_ids = [s.id for s in list_stages(session=session) if s.kind == "open"]
    _totals, cards = pipeline.board(session=session, actor=rep, stage_ids=stage_ids)
    assert crm["theirs"] in set(cards["id"])
    nobody = Actor(id=None, username="nobody", roles=())
    with pytest.raises(PermissionDenied):
        search_queries.search(session=session, actor=nobody, query="dachowka")
    index = search_queries.load_index(session)
    with pytest.raises(PermissionDenied):
        search_queries.find(index=index, actor=nobody, query="dachowka")


def test_arrow_and_cursor_read_the_same_index(engine, crm):
    with Session(engine) as s:
        fast = search_queries.load_index(s)
    with Session(engine) as s:
        slow = search_queries.load_index(s, arrow=False)
    pd.testing.assert_frame_equal(fast.rows, slow.rows)
    assert fast.keys == slow.keys and len(fast) == 5


# -- My day ------------------------------------------------------------------------------------


def _due(engine, actor, deal_id, subject, due_at, done=False):
    return run(
        engine,
        pipeline.create_activity,
        actor,
        data=ActivityCreate(deal_id=deal_id, subject=subject, kind="call", due_at=due_at, done=done),
    )


def test_my_activities_due_today_and_overdue_first(engine, session, people, crm):
    rep, boss = people["rep"], people["boss"]
    today = utcnow().date()
    midnight = datetime.combine(today, datetime.min.time(), UTC)
    _due(engine, rep, crm["mine"], "today", midnight + timedelta(hours=9))
    _due(engine, rep, crm["mine"], "last week", midnight - timedelta(days=7))
    _due(engine, rep, crm["mine"], "tomorrow", midnight + timedelta(days=1))
    _due(engine, rep, crm["mine"], "done already", midnight - timedelta(days=2), done=True)
    _due(engine, boss, crm["mine"], "boss on my deal", midnight - timedelta(days=1))
    _due(engine, people["rep2"], crm["theirs"], "not mine", midnight - timedelta(days=3))
    due = my_day.activities_due(session=session, actor=rep, today=today)
    assert due["subject"].tolist() == ["last week", "boss on my deal", "today"]
    assert due["overdue"].tolist() == [True, True, False]
    assert due["deal"].tolist() == ["Kruszywo Żerań"] * 3
    assert my_day.count_due(session=session, actor=rep, today=today) == (1, 2)
    assert my_day.count_due(session=session, actor=people["rep2"], today=today) == (0, 1)
    first = due.iloc[0]
    run(
        engine,
        pipeline.complete_activity,
        rep,
        activity_id=int(first["id"]),
        expected_version=int(first["version"]),
    )
    session.expire_all()
    assert my_day.count_due(session=session, actor=rep, today=today) == (1, 1)
    assert session.get(Activity, int(first["id"])).done_at is not None


def test_my_deals_are_my_open_ones_and_stale_by_the_metrics_rule(engine, people, crm):
    with UnitOfWork(engine) as uow:
        deal = uow.session.get(Deal, crm["mine"])
        deal.last_touch_at = utcnow() - timedelta(days=400)
        uow.session.add(deal)
        uow.commit()
    with Session(engine) as s:
        frames = pipeline_data.load(s, changes=False)
    mine = my_day.my_deals(frames, people["rep"].id, utcnow())
    assert mine["id"].tolist() == [crm["mine"]] and mine["stale"].tolist() == [True]
    assert my_day.my_deals(frames, people["rep2"].id, utcnow())["stale"].tolist() == [False]
    assert my_day.my_deals(frames, people["boss"].id, utcnow()).empty
    assert my_day.my_deals(frames, None, utcnow()).empty
