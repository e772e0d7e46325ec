"""An account's REGON, bank account (IBAN), postal code and street: the checks (python-stdnum) on
known valid and invalid numbers; the account service refuses a bad one naming the field and
writes nothing; the import keeps it and data quality flags it; the client page shows and edits
them. Service and import tests run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlmodel import Session, func, select

from crm_impl.core import registry_ids as ids
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import AuditEntry
from crm_impl.data_quality import queries, rules
from crm_impl.data_quality.rules import Context
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import Account, AccountCreate, AccountUpdate
from crm_impl.pipeline.services import deals as pipeline
from tests.conftest import ROOT

GOOD_REGON, GOOD_IBAN = "123456785", "PL61109010140000071219812874"
REGISTRY_RULES = {"account.regon_invalid", "account.iban_invalid", "account.postal_code_invalid"}
SAMPLE = ROOT / "examples" / "data" / "accounting" / "kontrahenci.csv"
MAPPING = ROOT / "examples" / "mappings" / "kontrahenci-pl.toml"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("123456785", True),
        ("123-456-785", True),
        ("12345678512347", True),
        ("123456786", False),  # the check digit one off
        ("123456758", False),  # two digits swapped
        ("12345678", False),
        ("12345678512348", False),
        ("12345678a", False),
    ],
)
def test_regon(number, valid):
    assert ids.regon_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("PL61109010140000071219812874", True),
        ("PL61 1090 1014 0000 0712 1981 2874", True),
        ("pl61109010140000071219812874", True),
        ("61109010140000071219812874", True),  # a Polish NRB: 26 digits without "PL"
        ("DE89370400440532013000", True),
        ("PL61109010140000071219812875", False),
        ("PL16109010140000071219812874", False),  # check digits swapped
        ("PL6110901014000007121981287", False),  # a digit short
        ("GB82WEST1234569876543", False),
    ],
)
def test_iban(number, valid):
    assert ids.iban_valid(number) is valid


@pytest.mark.parametrize(
    ("typed", "stored", "valid"),
    [
        ("00-950", "00-950", True),
        (" 00-950 ", "00-950", True),
        ("00950", "00-950", True),
        ("00 950", "00-950", True),
        ("00 – 950", "00-950", True),
        ("00950x", "00950x", False),
        ("0-950", "0-950", False),
        ("00-9500", "00-9500", False),
    ],
)
def test_postal_code(typed, stored, valid):
    assert ids.normal_postal_code(typed) == stored
    assert ids.postal_code_valid(ids.normal_postal_code(typed)) is valid
    assert not ids.postal_code_valid("00950")  # stored only in the NN-NNN form


def test_the_rules_use_the_same_checks():
    values = ["123456785", "123456786", GOOD_IBAN, "PL61109010140000071219812875", "00-950", "00950x"]
    frame = pd.DataFrame(
        [
            {"id": n, "name": f"Firma {n}", "owner_id": 1, "regon": v, "iban": v, "postal_code": v}
            for n, v in enumerate(values, start=1)
        ]
    )
    found = rules.scan({"account": frame}, Context(today=date(2026, 12, 1))).issues
    for rule, check in (
        ("account.regon_invalid", ids.regon_valid),
        ("account.iban_invalid", ids.iban_valid),
        ("account.postal_code_invalid", ids.postal_code_valid),
    ):
        flagged = set(found.loc[found["rule"] == rule, "record_id"])
        assert flagged == {n for n, v in enumerate(values, start=1) if not check(v)}, rule


# ---- the account service: normalised on save, a bad value refused naming the field ----------


def _create(engine, actor, **fields):  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        row = pipeline.create_account(
            session=uow.session, actor=actor, data=AccountCreate(name="Budex", **fields)
        )
        uow.commit()
    return row


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_service_stores_them_normalised(engine, session, make_user):
    rep = make_user("rep", "sales_rep")
    row = _create(
        engine,
        rep,
        regon="123 456 785",
        iban="61 1090 1014 0000 0712 1981 2874",
        postal_code="00950",
        street=" ul. Prosta 20 ",
        city="Warszawa",
    )
    stored = session.get(Account, row.id)
    assert stored is not None
    assert (stored.regon, stored.iban, stored.postal_code, stored.street) == (
        GOOD_REGON,
        GOOD_IBAN,
        "00-950",
        "ul. Prosta 20",
    )
    audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "account")).one()
    assert audit.after["iban"] == GOOD_IBAN


@pytest.mark.parametrize(
    ("field", "typed", "named"),
    [
        ("regon", "123456786", "field.regon"),
        ("iban", "PL61109010140000071219812875", "field.iban"),
        ("postal_code", "00950x", "pipeline.field.postal_code"),
    ],
)
def test_service_refuses_a_bad_one_and_writes_nothing(engine, session, make_user, field, typed, named):
    rep = make_user("rep", "sales_rep")
    before = _count(session, Account), _count(session, AuditEntry)
    with pytest.raises(ValidationError) as err, UnitOfWork(engine) as uow:
        pipeline.create_account(
            session=uow.session, actor=rep, data=AccountCreate.model_validate({"name": "Budex", field: typed})
        )
    assert err.value.params["field"] == named and err.value.params["value"] == typed
    assert (_count(session, Account), _count(session, AuditEntry)) == before


def test_update_refuses_an_invalid_regon_and_keeps_the_row(engine, session, make_user):
    from crm_impl.core.i18n import get_locale, set_locale

    rep = make_user("rep", "sales_rep")
    row = _create(engine, rep, regon=GOOD_REGON)
    with pytest.raises(ValidationError) as err, UnitOfWork(engine) as uow:
        pipeline.update_account(
            session=uow.session,
            actor=rep,
            account_id=int(row.id or 0),
            expected_version=row.version,
            data=AccountUpdate(regon="123456786", city="Kraków"),
        )
    was = get_locale()
    set_locale("pl")
    try:
        message = err.value.message()
    finally:
        set_locale(was)
    assert message.startswith("REGON: „123456786” nie jest poprawnym numerem REGON")
    session.expire_all()
    stored = session.get(Account, row.id)
    assert stored is not None and (stored.regon, stored.city, stored.version) == (GOOD_REGON, "", row.version)


# ---- the import keeps a bad value; data quality flags it ----------------------------------


def test_import_with_the_new_columns_and_the_scan_flags_the_bad_ones(engine, session, make_user):
    manager = make_user("manager", "sales_manager")
    with UnitOfWork(engine) as uow:
        report = imports.run_import(
            session=uow.session,
            actor=manager,
            entity="accounts",
            data=SAMPLE,
            mapping=mapping_mod.load(MAPPING),
            dry_run=False,
        )
        uow.commit()
    assert (report.created, report.rejected) == (5, 0), report.errors
    rows = {a.name: a for a in session.exec(select(Account)).all()}
    budex = rows["Budex Warszawa sp. z o.o."]
    assert (budex.nip, budex.regon, budex.iban, budex.postal_code, budex.street, budex.city) == (
        "5260250274",
        GOOD_REGON,
        GOOD_IBAN,
        "00-950",
        "ul. Prosta 20",
        "Warszawa",
    )
    assert rows["Hydrobud S.A."].iban == "PL63102028920000510201234567"  # NRB given without "PL"
    assert rows["Dachpol sp.j."].regon == "011042784"  # kept as given, for data quality
    assert (rows["Instalex s.c."].iban, rows["Instalex s.c."].postal_code) == (
        "PL89114020040000350212345679",
        "00950x",
    )
    assert (rows["Termobud"].regon, rows["Termobud"].iban, rows["Termobud"].postal_code) == (None, None, None)

    found = queries.run(queries.load(session))
    flagged = {
        (rule, name)
        for rule, rid in zip(found.issues["rule"], found.issues["record_id"], strict=True)
        for name, a in rows.items()
        if a.id == rid and rule in REGISTRY_RULES
    }
    assert flagged == {
        ("account.regon_invalid", "Dachpol sp.j."),
        ("account.iban_invalid", "Instalex s.c."),
        ("account.postal_code_invalid", "Instalex s.c."),
    }
    checked = found.rules.set_index("rule")
    for rule in REGISTRY_RULES:
        assert checked.loc[rule, ["checked", "failing"]].tolist() == [5, 1], rule
    records = queries.record_issues(found, queries.load(session))
    instalex = records[records["label"].astype(str) == "Instalex s.c."]
    assert instalex["what"].str.contains("IBAN “PL89114020040000350212345679” fails the checksum").all()


def test_import_refuses_a_value_too_long_for_the_column(engine, session, make_user):
    manager = make_user("manager", "sales_manager")
    data = b"name,iban\nBudex,PL61 1090 1014 0000 0712 1981 2874 0000 0000 0000\n"
    with UnitOfWork(engine) as uow:
        report = imports.run_import(
            session=uow.session, actor=manager, entity="accounts", data=data, dry_run=False
        )
        uow.commit()
    assert report.rejected == 1 and report.errors[0].column == "iban"
    assert _count(session, Account) == 0


# ---- the client page ---------------------------------------------------------------------


def _flagged_account(url: str) -> Account:
    """The demo customer whose IBAN the accountant's import mistyped (crm_impl/data_quality/demo.py)."""
    with Session(get_engine(url)) as s:
        rows = s.exec(select(Account).where(Account.iban.is_not(None))).all()  # type: ignore[union-attr]
        bad = [a for a in rows if not ids.iban_valid(a.iban)]
    assert len(bad) == 1
    return bad[0]


def test_client_page_shows_and_edits_the_details(app_as, demo_url):
    account = _flagged_account(demo_url)
    at = app_as("sales_manager", "pages/pipeline/client.py")
    at.query_params["account"] = str(account.id)
    at.run()
    assert not at.exception, at.exception
    caption = " ".join(c.value for c in at.caption).replace("\\", "")  # as shown (Markdown escapes)
    assert f"REGON {account.regon}" in caption and f"{account.postal_code} {account.city}" in caption
    labels = [w.label for w in at.text_input]
    assert {"REGON", "Bank account (IBAN)", "Street and number", "Postal code"} <= set(labels)
    # a change of the street alone is saved, though the stored IBAN fails its checksum
    street = next(w for w in at.text_input if w.label == "Street and number")
    street.set_value("ul. Nowa 1")
    next(b for b in at.button if b.label == "Save").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with Session(get_engine(demo_url)) as s:
        stored = s.get(Account, account.id)
        assert stored is not None and stored.street == "ul. Nowa 1" and stored.iban == account.iban
    # a mistyped REGON is refused, naming the field, and nothing is written
    regon = next(w for w in at.text_input if w.label == "REGON")
    regon.set_value("123456786")
    next(b for b in at.button if b.label == "Save").click()
    at.run()
    assert [e.value for e in at.error] == [
        "REGON: “123456786” is not a valid REGON (9 or 14 digits with a correct check digit)."
    ]
    with Session(get_engine(demo_url)) as s:
        again = s.get(Account, account.id)
        assert again is not None and again.regon == account.regon and again.version == stored.version


def test_client_page_in_polish_and_read_only_for_another_rep(app_as, demo_url):
    account = _flagged_account(demo_url)
    pl = app_as("sales_manager", "pages/pipeline/client.py", locale="pl")
    pl.query_params["account"] = str(account.id)
    pl.run()
    assert not pl.exception, pl.exception
    assert {"Kod pocztowy", "Ulica i numer", "Rachunek bankowy (IBAN)"} <= {w.label for w in pl.text_input}
    assert any(e.label == "Edytuj dane klienta" for e in pl.expander)
    with Session(get_engine(demo_url)) as s:
        from crm_impl.core.models import UserAccount

        rep = s.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
    assert account.owner_id != rep.id  # the flagged account is rep2's
    other = app_as("sales_rep", "pages/pipeline/client.py")
    other.query_params["account"] = str(account.id)
    other.run()
    assert not other.exception, other.exception
    assert not [w for w in other.text_input if w.label == "REGON"]


def test_records_page_lists_the_demo_typos(app_as, demo_url):
    account = _flagged_account(demo_url)
    at = app_as("sales_manager", "pages/data_quality/records.py")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    row = table[table["record"] == account.name]
    assert row["what"].str.contains(f"IBAN “{account.iban}” fails the checksum").all() and len(row) == 1
    assert table["what"].str.contains("REGON “").any() and table["what"].str.contains("NN-NNN form").any()
    assert row["fix"].tolist() == [f"/pipeline_client?account={account.id}"]
