"""Issue 8 (items 2, 7, 12) on SQLite and PostgreSQL: deal products are one versioned write
(8 racing saves: one wins, the rest get ConflictError, nothing half-written, no database error
escapes), sales reps work only their own accounts' contacts and activities and only managers
reassign, and bad dates and absurd amounts are translated errors naming the field."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from crm_impl.core import validation
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import AuditEntry
from crm_impl.pipeline.models import (
    Account,
    AccountCreate,
    AccountUpdate,
    Activity,
    ActivityCreate,
    Contact,
    ContactCreate,
    ContactUpdate,
    Deal,
    DealCreate,
    DealProduct,
    DealProductLine,
    DealUpdate,
    Product,
)
from crm_impl.pipeline.services import deals as pipeline


def run(engine, fn, actor, **kwargs):  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        result = fn(session=uow.session, actor=actor, **kwargs)
        uow.commit()
    return result


def count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {
        "rep": make_user("rep", "sales_rep"),
        "rep2": make_user("rep2", "sales_rep"),
        "boss": make_user("boss", "sales_manager"),
    }


@pytest.fixture
def catalogue(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = [Product(name=f"Product {i}", price=Decimal(10 * (i + 1))) for i in range(6)]
        s.add_all(rows)
        s.commit()
        return [int(r.id or 0) for r in rows]


def lines_of(engine, deal_id: int) -> list[tuple[int, Decimal]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.exec(
            select(DealProduct).where(DealProduct.deal_id == deal_id).order_by(col(DealProduct.product_id))
        ).all()
        return [(r.product_id, r.quantity) for r in rows]


def version_of(engine, deal_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        return deal.version


# ---- item 2: deal products are version-checked -------------------------------------------


def test_eight_racing_product_saves_one_wins_the_rest_conflict(engine, people, catalogue, monkeypatch):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Cement", value=100))
    start = deal.version
    writers = 8
    # every writer has read the deal and passed the version check before any of them writes:
    # the race SQLAlchemy's `WHERE version = ...` and the row lock must settle
    ready = threading.Barrier(writers, timeout=30)
    real_flag = pipeline.flag_modified

    def flag_after_everyone_read(row: Any, key: str) -> None:
        ready.wait()
        real_flag(row, key)

    monkeypatch.setattr(pipeline, "flag_modified", flag_after_everyone_read)
    outcomes: list[str] = []
    unexpected: list[BaseException] = []

    def save(n: int) -> None:
        chosen = catalogue[n % 2 * 3 : n % 2 * 3 + 3]  # writer sets differ: the winner is visible
        try:
            run(
                engine,
                pipeline.set_deal_products,
                rep,
                deal_id=deal.id,
                expected_version=start,
                items=[DealProductLine(product_id=p, quantity=n + 1) for p in chosen],
                update_value=True,
            )
            outcomes.append(f"ok {n}")
        except ConflictError:
            outcomes.append("conflict")
        except BaseException as err:  # IntegrityError, UniqueViolation, deadlock, locked, ...
            unexpected.append(err)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert unexpected == []
    winners = [o for o in outcomes if o.startswith("ok")]
    assert len(winners) == 1 and outcomes.count("conflict") == writers - 1, outcomes
    n = int(winners[0].split()[1])
    chosen = catalogue[n % 2 * 3 : n % 2 * 3 + 3]
    assert lines_of(engine, deal.id) == [(p, Decimal(n + 1)) for p in chosen]  # exactly the winner's 3
    assert version_of(engine, deal.id) == start + 1
    with Session(engine) as s:
        assert s.get(Deal, deal.id).value == sum(  # type: ignore[union-attr]
            (Decimal(10 * (catalogue.index(p) + 1)) * (n + 1) for p in chosen), Decimal("0")
        )
    assert count(engine, AuditEntry, col(AuditEntry.entity) == "deal_products") == 1


def test_a_stale_or_refused_product_save_writes_nothing(engine, people, catalogue):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Tiles"))
    first = [DealProductLine(product_id=p, quantity=2) for p in catalogue[:3]]
    run(engine, pipeline.set_deal_products, rep, deal_id=deal.id, expected_version=deal.version, items=first)
    assert version_of(engine, deal.id) == deal.version + 1  # a products save is a write of the deal
    again = [DealProductLine(product_id=catalogue[5], quantity=1)]
    with pytest.raises(ConflictError) as err:  # loaded before the first save
        run(
            engine,
            pipeline.set_deal_products,
            rep,
            deal_id=deal.id,
            expected_version=deal.version,
            items=again,
        )
    assert "changed by someone else" in err.value.message()
    current = deal.version + 1
    bad = [
        DealProductLine(product_id=catalogue[4], quantity=1),
        DealProductLine(product_id=catalogue[5], quantity=0),
    ]
    with pytest.raises(ValidationError):  # the second line is refused: the first is not written either
        run(engine, pipeline.set_deal_products, rep, deal_id=deal.id, expected_version=current, items=bad)
    twice = [DealProductLine(product_id=catalogue[4], quantity=1)] * 2
    with pytest.raises(ValidationError) as dup:
        run(engine, pipeline.set_deal_products, rep, deal_id=deal.id, expected_version=current, items=twice)
    assert dup.value.message() == "Product “Product 4” already exists."
    assert lines_of(engine, deal.id) == [(p, Decimal(2)) for p in catalogue[:3]]
    assert version_of(engine, deal.id) == current
    # and an edit of the deal loaded before the products save is refused as well
    with pytest.raises(ConflictError):
        run(
            engine,
            pipeline.update_deal,
            rep,
            deal_id=deal.id,
            expected_version=deal.version,
            data=DealUpdate(title="Tiles 2"),
        )


def test_someone_elses_deal_products_are_refused(engine, people, catalogue):
    deal = run(engine, pipeline.create_deal, people["rep"], data=DealCreate(title="Bricks"))
    with pytest.raises(PermissionDenied):
        run(
            engine,
            pipeline.set_deal_products,
            people["rep2"],
            deal_id=deal.id,
            expected_version=deal.version,
            items=[DealProductLine(product_id=catalogue[0])],
        )
    assert lines_of(engine, deal.id) == []


# ---- item 7: sales-rep ownership ----------------------------------------------------------


@pytest.fixture
def reps_account(engine, people) -> Account:  # type: ignore[no-untyped-def]
    return run(engine, pipeline.create_account, people["rep"], data=AccountCreate(name="Budmax"))


def test_a_rep_cannot_work_contacts_on_another_reps_account(engine, people, reps_account):
    rep, rep2, boss = people["rep"], people["rep2"], people["boss"]
    contact = run(
        engine,
        pipeline.create_contact,
        rep,
        data=ContactCreate(account_id=reps_account.id, full_name="Anna Nowak"),
    )
    with pytest.raises(PermissionDenied) as err:
        run(
            engine,
            pipeline.update_contact,
            rep2,
            contact_id=contact.id,
            expected_version=contact.version,
            data=ContactUpdate(full_name="Hijacked"),
        )
    assert err.value.message() == "You can only work on your own accounts and their contacts and activities."
    with pytest.raises(PermissionDenied):
        run(
            engine,
            pipeline.create_contact,
            rep2,
            data=ContactCreate(account_id=reps_account.id, full_name="Spy"),
        )
    assert count(engine, Contact) == 1
    with Session(engine) as s:
        assert s.get(Contact, contact.id).full_name == "Anna Nowak"  # type: ignore[union-attr]
    # the owner and a manager may
    run(
        engine,
        pipeline.update_contact,
        rep,
        contact_id=contact.id,
        expected_version=contact.version,
        data=ContactUpdate(full_name="Anna Kowalska"),
    )
    run(
        engine, pipeline.create_contact, boss, data=ContactCreate(account_id=reps_account.id, full_name="Jan")
    )
    assert count(engine, Contact) == 2


def test_a_rep_cannot_add_activities_to_another_reps_account(engine, people, reps_account):
    rep, rep2 = people["rep"], people["rep2"]
    with pytest.raises(PermissionDenied):
        run(
            engine,
            pipeline.create_activity,
            rep2,
            data=ActivityCreate(subject="Call", account_id=reps_account.id),
        )
    own_deal = run(engine, pipeline.create_deal, rep2, data=DealCreate(title="Own deal"))
    with pytest.raises(PermissionDenied):  # an own deal does not open someone else's account
        run(
            engine,
            pipeline.create_activity,
            rep2,
            data=ActivityCreate(subject="Call", deal_id=own_deal.id, account_id=reps_account.id),
        )
    with pytest.raises(NotFound):
        run(engine, pipeline.create_activity, rep2, data=ActivityCreate(subject="Call", account_id=987654))
    with pytest.raises(NotFound):  # beyond INTEGER: not found, not a database overflow
        run(engine, pipeline.create_activity, rep2, data=ActivityCreate(subject="Call", account_id=2**40))
    assert count(engine, Activity) == 0
    run(
        engine, pipeline.create_activity, rep, data=ActivityCreate(subject="Call", account_id=reps_account.id)
    )
    # a rep's own deal on another rep's account: activities on the deal are theirs to add
    on_their_account = run(
        engine,
        pipeline.create_deal,
        people["boss"],
        data=DealCreate(title="Shared client", owner_id=rep2.id, account_id=reps_account.id),
    )
    act = run(
        engine,
        pipeline.create_activity,
        rep2,
        data=ActivityCreate(subject="Visit", deal_id=on_their_account.id),
    )
    assert act.account_id == reps_account.id
    assert count(engine, Activity) == 2


def test_only_managers_give_an_account_to_another_owner(engine, people, reps_account):
    rep, rep2, boss = people["rep"], people["rep2"], people["boss"]
    with pytest.raises(PermissionDenied) as err:
        run(engine, pipeline.create_account, rep, data=AccountCreate(name="For rep2", owner_id=rep2.id))
    assert err.value.message() == "Only a manager can give an account to another owner."
    for owner in (rep2.id, None):
        with pytest.raises(PermissionDenied):
            run(
                engine,
                pipeline.update_account,
                rep,
                account_id=reps_account.id,
                expected_version=reps_account.version,
                data=AccountUpdate(owner_id=owner),
            )
    with pytest.raises(PermissionDenied):  # nor edit another rep's account at all
        run(
            engine,
            pipeline.update_account,
            rep2,
            account_id=reps_account.id,
            expected_version=reps_account.version,
            data=AccountUpdate(city="Kraków"),
        )
    with Session(engine) as s:
        assert s.get(Account, reps_account.id).owner_id == rep.id  # type: ignore[union-attr]
    assert count(engine, Account) == 1
    moved = run(
        engine,
        pipeline.update_account,
        boss,
        account_id=reps_account.id,
        expected_version=reps_account.version,
        data=AccountUpdate(owner_id=rep2.id),
    )
    assert moved.owner_id == rep2.id
    given = run(engine, pipeline.create_account, boss, data=AccountCreate(name="For rep", owner_id=rep.id))
    assert given.owner_id == rep.id


@pytest.mark.parametrize("owner", [987654, 0, -1, 2**40])
def test_an_owner_that_does_not_exist_is_a_translated_error(engine, people, reps_account, owner):
    boss = people["boss"]
    with pytest.raises(ValidationError) as err:
        run(
            engine,
            pipeline.update_account,
            boss,
            account_id=reps_account.id,
            expected_version=reps_account.version,
            data=AccountUpdate(owner_id=owner),
        )
    assert err.value.params["field"] == "pipeline.field.owner"
    assert err.value.message() == f"Owner: there is no user #{owner}."
    with pytest.raises(ValidationError):
        run(engine, pipeline.create_account, boss, data=AccountCreate(name="Nobody's", owner_id=owner))
    deal = run(engine, pipeline.create_deal, boss, data=DealCreate(title="Orphan"))
    with pytest.raises(ValidationError) as deal_err:
        run(
            engine,
            pipeline.update_deal,
            boss,
            deal_id=deal.id,
            expected_version=deal.version,
            data=DealUpdate(owner_id=owner),
        )
    assert deal_err.value.params["field"] == "pipeline.field.owner"
    with Session(engine) as s:
        assert s.get(Account, reps_account.id).owner_id == people["rep"].id  # type: ignore[union-attr]
    assert count(engine, Account) == 1


# ---- item 12: dates and amounts ----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["31-02-2017", "2017-02-31", "2017-13-01", "02/28/2017", "tomorrow", "0017-01-01", 12345, 1.5, True],
)
def test_a_bad_date_is_a_translated_error_naming_the_field(engine, people, bad):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Dates"))
    with pytest.raises(ValidationError) as err:
        run(
            engine,
            pipeline.update_deal,
            rep,
            deal_id=deal.id,
            expected_version=deal.version,
            data=DealUpdate(expected_close=bad),
        )
    assert err.value.params["field"] == "pipeline.field.expected_close"
    assert err.value.message().startswith("Expected close")
    set_locale("pl")
    assert err.value.message().startswith("Przewidywane zamknięcie")
    set_locale("en")
    with pytest.raises(ValidationError) as create_err:
        run(engine, pipeline.create_deal, rep, data=DealCreate(title="Dates", promised_delivery=bad))
    assert create_err.value.params["field"] == "pipeline.field.promised_delivery"
    assert version_of(engine, deal.id) == deal.version and count(engine, Deal) == 1


def test_dates_as_typed_are_stored_as_dates(engine, people):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Dates", expected_close="28.02.2017"))
    assert deal.expected_close == date(2017, 2, 28)
    changed = run(
        engine,
        pipeline.update_deal,
        rep,
        deal_id=deal.id,
        expected_version=deal.version,
        data=DealUpdate(expected_close="2017-03-31", promised_delivery="", actual_delivery=None),
    )
    with Session(engine) as s:
        row = s.get(Deal, deal.id)
        assert row is not None and row.expected_close == date(2017, 3, 31) and row.promised_delivery is None
    assert changed.version == deal.version + 1


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("1E+999999999999", "error.too_large"),
        ("-1E+999999999999", "error.negative"),
        ("1e5000", "error.too_large"),
        ("1E+99999999999999999999", "error.number"),
        (Decimal("1E+999999999999"), "error.too_large"),
        (10**400, "error.too_large"),
        (1e308, "error.too_large"),
        ("NaN", "error.number"),
        ("sNaN", "error.number"),
        ("Infinity", "error.number"),
        ("-inf", "error.number"),
        (float("nan"), "error.number"),
        (float("inf"), "error.number"),
        (Decimal("NaN"), "error.number"),
        (Decimal("-Infinity"), "error.number"),
    ],
)
def test_absurd_amounts_are_translated_errors_never_decimal_exceptions(typed, key):
    with pytest.raises(ValidationError) as err:
        validation.amount(typed, "pipeline.field.value")
    assert err.value.key == key and err.value.params["field"] == "pipeline.field.value"
    assert err.value.message().startswith("Value")
    parsed = validation.parse_decimal(typed)  # the parser itself never raises either
    assert parsed is None or parsed.is_finite()


def test_tiny_and_edge_amounts_round_to_the_cent():
    assert validation.amount("1E-999999999999", "pipeline.field.value") == Decimal("0.00")
    assert (
        validation.amount("999 999 999 999,99", "pipeline.field.value", locale="pl") == validation.MAX_AMOUNT
    )
    with pytest.raises(ValidationError):
        validation.amount("1000000000000", "pipeline.field.value")


def test_an_absurd_deal_value_writes_nothing(engine, people):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Huge"))
    for typed in ("1E+999999999999", "NaN", "Infinity"):
        with pytest.raises(ValidationError) as err:
            run(
                engine,
                pipeline.update_deal,
                rep,
                deal_id=deal.id,
                expected_version=deal.version,
                data=DealUpdate(value=typed),
            )
        assert err.value.params["field"] == "pipeline.field.value"
    assert version_of(engine, deal.id) == deal.version


# ---- the deal page: a products save that lost the race shows the conflict message ----------


def test_the_products_panel_shows_changed_by_someone_else(app_as, demo_url):
    from sqlmodel import Session as SqlSession

    from crm_impl.core.db import get_engine

    engine = get_engine(demo_url)
    with SqlSession(engine) as s:
        deal_id = s.exec(select(DealProduct.deal_id).order_by(col(DealProduct.deal_id))).first()
    assert deal_id is not None
    before = lines_of(engine, deal_id)
    at = app_as("sales_manager", "pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal_id)
    at.run()
    assert not at.exception, at.exception
    with SqlSession(engine) as s:  # someone else saves the deal after the page was loaded
        row = s.get(Deal, deal_id)
        assert row is not None
        row.title = row.title + " (edited elsewhere)"
        s.add(row)
        s.commit()
    # the user had changed a quantity in the grid (loaded before the other save), then saves
    at.session_state[f"products_{deal_id}_0"] = {
        "edited_rows": {"0": {"quantity": 7.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key=f"save_products_{deal_id}").click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "This record was changed by someone else in the meantime — reload and try again."
    ]
    assert lines_of(engine, deal_id) == before
    # an untouched grid follows the deal: saving it again is no conflict
    at.session_state[f"products_{deal_id}_0"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.button(key=f"save_products_{deal_id}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    assert lines_of(engine, deal_id) == before
