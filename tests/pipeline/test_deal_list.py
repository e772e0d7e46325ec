"""The deal list on SQLite and PostgreSQL: its filters, saved filters (per user, validated,
stale values applied without a crash), the managers' all-or-nothing bulk change, and a deal's
contact person (only one of its client's contacts)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from crm_impl.core import saved_filters as saved
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, DomainError, PermissionDenied, ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import AuditEntry
from crm_impl.core.permissions import Actor
from crm_impl.pipeline.models import (
    AccountCreate,
    Contact,
    ContactCreate,
    Deal,
    DealBulkChange,
    DealCreate,
    DealUpdate,
    StageDefinition,
)
from crm_impl.pipeline.queries import deal_list as q
from crm_impl.pipeline.services import deals as pipeline

TODAY = date(2026, 6, 15)


def run(engine, fn, actor, **kwargs):
    with UnitOfWork(engine) as uow:
        result = fn(session=uow.session, actor=actor, **kwargs)
        uow.commit()
    return result


def refused(engine, fn, actor, error=ValidationError, **kwargs) -> DomainError:
    """The call fails with `error` and writes nothing (no audit entry, no changed row)."""
    before = snapshot(engine)
    with pytest.raises(error) as caught:
        run(engine, fn, actor, **kwargs)
    assert snapshot(engine) == before
    return caught.value


def snapshot(engine):
    with UnitOfWork(engine) as uow:
        s = uow.session
        deals = [
            (d.id, d.stage_id, d.owner_id, d.expected_close, d.contact_id, d.version)
            for d in s.exec(select(Deal).order_by(Deal.id)).all()
        ]
        return (
            deals,
            s.exec(select(func.count()).select_from(AuditEntry)).one(),
            s.exec(select(func.count()).select_from(Contact)).one(),
            s.exec(select(func.count()).select_from(saved.SavedFilter)).one(),
        )


def titles(engine, actor, **filters) -> list[str]:
    with UnitOfWork(engine) as uow:
        frame, total = q.deal_list(
            session=uow.session, actor=actor, filters=q.DealListFilter(**filters), today=TODAY
        )
    assert total == len(frame)
    return sorted(frame["title"])


@pytest.fixture
def people(make_user):
    return {
        "rep": make_user("rep", "sales_rep"),
        "rep2": make_user("rep2", "sales_rep"),
        "boss": make_user("boss", "sales_manager"),
        "dev": make_user("dev", "programmer"),
    }


@pytest.fixture
def world(engine, people):
    """Two clients (each with a contact) and five deals of two reps in different stages."""
    rep, rep2 = people["rep"], people["rep2"]
    budmax = run(engine, pipeline.create_account, rep, data=AccountCreate(name="Budmax sp. z o.o."))
    cemex = run(engine, pipeline.create_account, rep2, data=AccountCreate(name="Cemex Polska"))
    anna = run(
        engine,
        pipeline.create_contact,
        rep,
        data=ContactCreate(account_id=budmax.id, full_name="Anna Nowak", position="Buyer"),
    )
    jan = run(
        engine, pipeline.create_contact, rep2, data=ContactCreate(account_id=cemex.id, full_name="Jan Kos")
    )

    def deal(actor, title, **kw):
        return run(engine, pipeline.create_deal, actor, data=DealCreate(title=title, **kw)).id

    ids = {
        "cement": deal(rep, "Cement", value=10_000, account_id=budmax.id, contact_id=anna.id,
                       expected_close=TODAY - timedelta(days=3)),
        "sand": deal(rep, "Sand", value=2_000, account_id=budmax.id, stage_key="needs_analysis",
                     expected_close=TODAY + timedelta(days=30)),
        "gravel": deal(rep2, "Gravel", value=50_000, account_id=cemex.id, stage_key="offer",
                       expected_close=TODAY - timedelta(days=40)),
        "bricks": deal(rep2, "Bricks", value=7_500),
        "steel": deal(rep, "Steel", value=30_000, account_id=cemex.id,
                      expected_close=TODAY - timedelta(days=1)),
    }  # fmt: skip
    won = run(engine, pipeline.deal_detail, rep, deal_id=ids["steel"])["deal"]
    run(
        engine,
        pipeline.move_deal,
        rep,
        deal_id=ids["steel"],
        expected_version=won.version,
        to_stage_key="contract",
    )
    return {"budmax": budmax.id, "cemex": cemex.id, "anna": anna.id, "jan": jan.id, **ids}


def stage_id(engine, key):
    with UnitOfWork(engine) as uow:
        return uow.session.exec(select(StageDefinition.id).where(StageDefinition.key == key)).one()


# ---- filters -----------------------------------------------------------------------------------


def test_every_filter_narrows_the_list(engine, people, world):
    rep = people["rep"]
    assert titles(engine, rep) == ["Bricks", "Cement", "Gravel", "Sand", "Steel"]  # everyone's, as the board
    assert titles(engine, rep, owner_ids=[people["rep2"].id]) == ["Bricks", "Gravel"]
    offer, prospect = stage_id(engine, "offer"), stage_id(engine, "prospect")
    assert titles(engine, rep, stage_ids=[offer, prospect]) == ["Bricks", "Cement", "Gravel"]
    assert titles(engine, rep, client="budMAX") == ["Cement", "Sand"]
    assert titles(engine, rep, client="%") == []  # a wildcard is a character, not "anything"
    assert titles(engine, rep, value_min=5_000, value_max=30_000) == ["Bricks", "Cement", "Steel"]
    assert titles(engine, rep, close_from=TODAY - timedelta(days=5), close_to=TODAY) == ["Cement", "Steel"]
    assert titles(engine, rep, statuses=["won"]) == ["Steel"]
    assert titles(engine, rep, statuses=["open", "lost"]) == ["Bricks", "Cement", "Gravel", "Sand"]
    # overdue: open and past its expected close (the won Steel is not overdue)
    assert titles(engine, rep, overdue=True) == ["Cement", "Gravel"]
    assert titles(engine, rep, overdue=True, owner_ids=[rep.id]) == ["Cement"]


def test_the_list_shows_client_contact_stage_and_owner(engine, people, world):
    with UnitOfWork(engine) as uow:
        frame, _ = q.deal_list(session=uow.session, actor=people["boss"], filters=q.DealListFilter())
    row = frame.set_index("title").loc["Cement"]
    assert (row["client"], row["contact"], row["owner"]) == ("Budmax sp. z o.o.", "Anna Nowak", "rep")
    assert row["probability"] == pytest.approx(0.05) and row["value"] == 10_000
    assert frame.set_index("title").loc["Steel", "kind"] == "won"
    summary = q.summary(frame, "PLN", TODAY)
    assert summary["open_value"] == 10_000 + 2_000 + 50_000 + 7_500
    assert summary["overdue"] == 2


def test_the_list_needs_pipeline_read(engine, people, world):
    nobody = Actor(id=None, username="nobody", roles=())
    with pytest.raises(PermissionDenied), UnitOfWork(engine) as uow:
        q.deal_list(session=uow.session, actor=nobody, filters=q.DealListFilter())
    with pytest.raises(PermissionDenied), UnitOfWork(engine) as uow:
        saved.list_filters(session=uow.session, actor=nobody, page=q.DEAL_FILTERS)


def test_a_stale_saved_filter_applies_what_still_exists():
    criteria = {
        "owner_ids": [3, 999],  # 999 was deleted
        "stage_ids": [1, "x", [2]],
        "statuses": ["won", "archived"],
        "value_min": "lots",  # hand-edited: left out
        "close_from": "2026-01-31",
        "overdue": True,
        "gone": 1,  # a filter the page no longer has
    }
    out = q.from_saved(criteria, stage_ids=[1, 2], owner_ids=[3, 4])
    assert out.owner_ids == [3] and out.stage_ids == [1] and out.statuses == ["won"]
    assert out.value_min is None and out.close_from == date(2026, 1, 31) and out.overdue is True
    assert q.from_saved({"owner_ids": "3"}, stage_ids=[], owner_ids=[3]).owner_ids == []
    assert q.to_saved(out) == {
        "owner_ids": [3],
        "stage_ids": [1],
        "statuses": ["won"],
        "close_from": "2026-01-31",
        "overdue": True,
    }


# ---- saved filters -----------------------------------------------------------------------------

PAGE = q.DEAL_FILTERS


def mine(engine, actor, page=PAGE):
    return [(f.name, f.mine) for f in run(engine, saved.list_filters, actor, page=page)]


def test_saved_filters_are_per_user_and_page(engine, people):
    rep, rep2 = people["rep"], people["rep2"]
    create = saved.create_filter
    big = run(
        engine,
        create,
        rep,
        page=PAGE,
        data=saved.SavedFilterCreate(name=" Big ones ", criteria={"value_min": 10000}),
    )
    assert big.name == "Big ones" and big.user_id == rep.id
    run(
        engine, create, rep2, page=PAGE, data=saved.SavedFilterCreate(name="Big ones", criteria={})
    )  # another user
    other_page = saved.FilterPage("defects.list", "defect.read", ("mine",))
    run(
        engine,
        create,
        people["boss"],
        page=PAGE,
        data=saved.SavedFilterCreate(name="Team", criteria={}, shared=True),
    )
    assert mine(engine, rep) == [("Big ones", True), ("Team", False)]  # own first, then shared
    assert mine(engine, rep2) == [("Big ones", True), ("Team", False)]
    assert mine(engine, people["boss"]) == [("Team", True)]
    with pytest.raises(PermissionDenied):  # the defect list's filters are for those who read defects
        run(engine, saved.list_filters, rep, page=other_page)
    # rename, change values, share: own only
    renamed = run(
        engine,
        saved.update_filter,
        rep,
        page=PAGE,
        filter_id=big.id,
        expected_version=big.version,
        data=saved.SavedFilterUpdate(name="Large", criteria={"overdue": True}, shared=True),
    )
    assert (renamed.name, renamed.criteria, renamed.shared) == ("Large", {"overdue": True}, True)
    assert ("Large", False) in mine(engine, rep2)
    refused(
        engine, saved.update_filter, rep2, PermissionDenied,
        page=PAGE, filter_id=big.id, expected_version=renamed.version,
        data=saved.SavedFilterUpdate(name="Mine now"),
    )  # fmt: skip
    refused(engine, saved.delete_filter, rep2, PermissionDenied, page=PAGE, filter_id=big.id)
    refused(  # the form showed the filter before the rename
        engine,
        saved.delete_filter,
        rep,
        ConflictError,
        page=PAGE,
        filter_id=big.id,
        expected_version=big.version,
    )
    run(engine, saved.delete_filter, rep, page=PAGE, filter_id=big.id, expected_version=renamed.version)
    assert mine(engine, rep) == [("Team", False)]
    with UnitOfWork(engine) as uow:
        actions = uow.session.exec(
            select(AuditEntry.action).where(
                AuditEntry.entity == "saved_filter", AuditEntry.entity_id == str(big.id)
            )
        ).all()
    assert sorted(actions) == ["create", "delete", "update"]


def test_saved_filter_names_are_validated_in_the_users_language(engine, people):
    rep = people["rep"]
    run(engine, saved.create_filter, rep, page=PAGE, data=saved.SavedFilterCreate(name="Mine", criteria={}))

    def bad(name, criteria=None):
        return refused(
            engine, saved.create_filter, rep, page=PAGE,
            data=saved.SavedFilterCreate(name=name, criteria=criteria if criteria is not None else {}),
        )  # fmt: skip

    empty = bad("   ")
    assert empty.params["field"] == "saved_filter.field.name"
    assert empty.message() == "Filter name is required."
    assert bad("x" * 81).params["max"] == 80
    duplicate = bad(" Mine")
    assert duplicate.key == "error.duplicate"
    set_locale("pl")
    try:
        assert duplicate.message() == "Nazwa filtra „Mine” już istnieje."
    finally:
        set_locale("en")
    assert bad("Odd", {"evil": 1}).key == "error.unknown_field"
    assert bad("Odd", {"client": float("nan")}).key == "saved_filter.error.values"
    other = run(
        engine, saved.create_filter, rep, page=PAGE, data=saved.SavedFilterCreate(name="Other", criteria={})
    )
    rename = refused(
        engine, saved.update_filter, rep, page=PAGE, filter_id=other.id, expected_version=other.version,
        data=saved.SavedFilterUpdate(name="Mine"),
    )  # fmt: skip
    assert rename.key == "error.duplicate"


# ---- bulk change -------------------------------------------------------------------------------


def versions(engine, *ids):
    with UnitOfWork(engine) as uow:
        return [uow.session.get(Deal, i).version for i in ids]


def test_bulk_change_by_a_manager_writes_every_deal_with_its_audit(engine, people, world):
    boss, rep2 = people["boss"], people["rep2"]
    ids = [world["cement"], world["sand"], world["gravel"]]  # two reps' deals
    audits = snapshot(engine)[1]
    changed = run(
        engine,
        pipeline.bulk_update,
        boss,
        deal_ids=ids,
        expected_versions=versions(engine, *ids),
        change=DealBulkChange(owner_id=rep2.id, stage_key="contract", expected_close=TODAY),
    )
    assert len(changed) == 3
    contract = stage_id(engine, "contract")
    with UnitOfWork(engine) as uow:
        for deal_id in ids:
            deal = uow.session.get(Deal, deal_id)
            assert (deal.owner_id, deal.stage_id, deal.expected_close) == (rep2.id, contract, TODAY)
            assert deal.closed_at is not None  # Contract counts as won
    assert snapshot(engine)[1] == audits + 6  # one edit and one move per deal
    # a deal already in the target stage is not moved again; clearing the expected close
    run(
        engine, pipeline.bulk_update, boss, deal_ids=ids[:1], expected_versions=versions(engine, ids[0]),
        change=DealBulkChange(stage_key="contract", expected_close=None),
    )  # fmt: skip
    with UnitOfWork(engine) as uow:
        assert uow.session.get(Deal, ids[0]).expected_close is None


def test_one_stale_deal_rolls_the_whole_bulk_change_back(engine, people, world):
    boss = people["boss"]
    ids = [world["cement"], world["sand"], world["gravel"]]
    shown = versions(engine, *ids)
    # somebody edits Sand after the list was loaded
    run(engine, pipeline.update_deal, people["rep"], deal_id=world["sand"], expected_version=shown[1],
        data=DealUpdate(title="Sand (more)"))  # fmt: skip
    err = refused(
        engine, pipeline.bulk_update, boss, pipeline.DealRefused,
        deal_ids=ids, expected_versions=shown, change=DealBulkChange(owner_id=boss.id, stage_key="offer"),
    )  # fmt: skip
    assert isinstance(err, pipeline.DealRefused) and isinstance(err.cause, ConflictError)
    assert err.message() == (
        f"Deal #{world['sand']} (Sand (more)): This record was changed by someone else in the meantime"
        " — reload and try again. Nothing was changed."
    )
    set_locale("pl")
    try:
        assert err.message().startswith(f"Szansa #{world['sand']} (Sand (more)): ")
        assert err.message().endswith("Niczego nie zmieniono.")
    finally:
        set_locale("en")


def test_a_refused_stage_move_rolls_everything_back_naming_the_deal(engine, people, world):
    boss = people["boss"]
    ids = [world["cement"], world["bricks"]]
    # Lost needs a reason
    err = refused(
        engine, pipeline.bulk_update, boss, deal_ids=ids, expected_versions=versions(engine, *ids),
        change=DealBulkChange(stage_key="lost"),
    )  # fmt: skip
    assert "Lost reason is required." in err.message() and f"#{world['cement']} (Cement)" in err.message()
    # Bricks has no client: it cannot reach Needs analysis, so Cement does not move either
    err = refused(
        engine, pipeline.bulk_update, boss, deal_ids=ids, expected_versions=versions(engine, *ids),
        change=DealBulkChange(stage_key="needs_analysis"),
    )  # fmt: skip
    assert f"#{world['bricks']} (Bricks)" in err.message() and "account is required" in err.message()
    refused(
        engine, pipeline.bulk_update, boss, deal_ids=ids, expected_versions=versions(engine, *ids),
        change=DealBulkChange(owner_id=987654),
    )  # fmt: skip
    assert refused(
        engine, pipeline.bulk_update, boss, deal_ids=ids, expected_versions=versions(engine, *ids),
        change=DealBulkChange(),
    ).key == "pipeline.deals.error.nothing_to_change"  # fmt: skip
    assert refused(
        engine, pipeline.bulk_update, boss, deal_ids=ids, expected_versions=[1],
        change=DealBulkChange(owner_id=boss.id),
    ).key == "pipeline.deals.error.selection"  # fmt: skip


def test_a_rep_cannot_bulk_change_even_their_own_deals(engine, people, world):
    rep = people["rep"]
    ids = [world["cement"], world["sand"]]  # both the rep's own
    err = refused(
        engine, pipeline.bulk_update, rep, PermissionDenied,
        deal_ids=ids, expected_versions=versions(engine, *ids), change=DealBulkChange(expected_close=TODAY),
    )  # fmt: skip
    assert err.params["action"] == "deal.write_any"
    refused(
        engine, pipeline.bulk_update, people["dev"], PermissionDenied,
        deal_ids=ids, expected_versions=versions(engine, *ids), change=DealBulkChange(expected_close=TODAY),
    )  # fmt: skip


# ---- contact person ----------------------------------------------------------------------------


def test_a_deals_contact_is_one_of_its_clients_contacts(engine, people, world):
    rep = people["rep"]
    sand = world["sand"]
    [version] = versions(engine, sand)
    run(
        engine,
        pipeline.update_deal,
        rep,
        deal_id=sand,
        expected_version=version,
        data=DealUpdate(contact_id=world["anna"]),
    )
    detail = run(engine, pipeline.deal_detail, rep, deal_id=sand)
    assert detail["contact"].full_name == "Anna Nowak" and [c.full_name for c in detail["contacts"]] == [
        "Anna Nowak"
    ]
    err = refused(
        engine, pipeline.update_deal, rep, deal_id=sand, expected_version=detail["deal"].version,
        data=DealUpdate(contact_id=world["jan"]),
    )  # fmt: skip
    assert err.params["field"] == "pipeline.field.contact"
    assert err.message() == (
        "Contact person: “Jan Kos” is not a contact of this deal's client: pick one of the client's"
        " contacts or add one."
    )
    set_locale("pl")
    try:
        assert err.message().startswith("Osoba kontaktowa: „Jan Kos” nie jest kontaktem klienta")
    finally:
        set_locale("en")
    # a new deal too; and a deal without a client has no contact
    refused(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="X", account_id=world["budmax"], contact_id=world["jan"]),
    )
    refused(engine, pipeline.create_deal, rep, data=DealCreate(title="X", contact_id=world["anna"]))
    new = run(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="X", account_id=world["budmax"], contact_id=world["anna"]),
    )
    assert new.contact_id == world["anna"]
    # another client: the old client's contact person goes with it
    moved = run(
        engine, pipeline.update_deal, people["boss"], deal_id=sand, expected_version=detail["deal"].version,
        data=DealUpdate(account_id=world["cemex"]),
    )  # fmt: skip
    assert moved.contact_id is None


def test_a_contact_added_on_the_deal_is_validated_and_set_in_one_go(engine, people, world):
    rep = people["rep"]
    sand = world["sand"]

    def add(actor=rep, error=None, **fields):
        data = ContactCreate(account_id=fields.pop("account_id", world["budmax"]), **fields)
        kwargs = {"deal_id": sand, "expected_version": versions(engine, sand)[0], "data": data}
        if error is None:
            return run(engine, pipeline.add_deal_contact, actor, **kwargs)
        return refused(engine, pipeline.add_deal_contact, actor, error, **kwargs)

    assert (
        add(error=ValidationError, full_name="Ola", email="not-an-address").params["field"] == "field.email"
    )
    phone = add(error=ValidationError, full_name="Ola", phone="call me")
    assert phone.params["field"] == "pipeline.field.phone" and "is not a phone number" in phone.message()
    assert add(error=ValidationError, full_name="Ola", phone="12").key == "error.phone"
    assert add(error=ValidationError, full_name=" ").params["field"] == "field.full_name"
    other = add(error=ValidationError, full_name="Ola", account_id=world["cemex"])
    assert other.params["field"] == "pipeline.field.contact"
    add(people["rep2"], PermissionDenied, full_name="Ola")  # not rep2's deal
    deal = add(full_name="Ola Lis", position="CFO", email="Ola@Budmax.pl", phone="+48 601 234 567")
    with UnitOfWork(engine) as uow:
        contact = uow.session.get(Contact, deal.contact_id)
        stored = (contact.account_id, contact.full_name, contact.email, contact.phone)
    assert stored == (world["budmax"], "Ola Lis", "ola@budmax.pl", "+48 601 234 567")
