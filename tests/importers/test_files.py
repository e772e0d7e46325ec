"""Bad and unusual files: encodings, delimiters, decimal comma, day-first dates, XLSX; wrong
encoding, missing columns, broken rows, huge values, injected formulas and HTML give clear
errors and leave the database unchanged; dry run and strict mode write nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import PermissionDenied, ValidationError
from crm_impl.core.exporting import to_csv_bytes, to_xlsx_bytes
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import Account, Deal, ErpBalance, Product, StageChange
from tests.conftest import ROOT

ROOT_MAPPING = ROOT / "examples" / "mappings" / "maven-crm.toml"
TABLES = (Account, Deal, StageChange, Product, ErpBalance, UserAccount, AuditEntry)


def counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return {m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in TABLES}


def run(engine, actor, entity, data, *, commit=True, mapping=None, **kw):  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        report = imports.run_import(
            session=uow.session,
            actor=actor,
            entity=entity,
            data=data,
            mapping=mapping_mod.loads(mapping) if isinstance(mapping, str) else mapping,
            **kw,
        )
        if commit:
            uow.commit()
    return report


@pytest.fixture
def manager(make_user):  # type: ignore[no-untyped-def]
    return make_user("importer", "sales_manager")


PRODUCTS_PL = "nazwa;seria;cena\nŻwirek Łódź;Ś;1 234,50\nBeton;B;99,9\n"
PRODUCT_MAP = '[products.columns]\nname = "nazwa"\nseries = "seria"\nprice = "cena"\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250"])
def test_encodings_semicolon_and_decimal_comma(engine, session, manager, encoding):
    report = run(
        engine, manager, "products", PRODUCTS_PL.encode(encoding), mapping=PRODUCT_MAP, dry_run=False
    )
    assert (report.encoding, report.delimiter, report.rejected, report.created) == (encoding, ";", 0, 2)
    product = session.exec(select(Product).where(Product.series == "Ś")).one()
    assert product.name == "Żwirek Łódź" and product.price == Decimal("1234.50")


def test_tab_delimiter_and_day_first_dates_for_settlements(engine, session, manager):
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    data = "account\tas_of\treceivable\toverdue\tbalance\nAcme\t31.03.2024\t1.000,00\t250,5\t-120,00\n"
    report = run(engine, manager, "settlements", data.encode(), dry_run=False)
    assert report.delimiter == "\t" and report.rejected == 0 and report.created == 1
    row = session.exec(select(ErpBalance)).one()
    assert (str(row.as_of), row.receivable, row.overdue, row.balance) == (
        "2024-03-31",
        Decimal("1000.00"),
        Decimal("250.50"),
        Decimal("-120.00"),
    )
    again = run(engine, manager, "settlements", data.encode(), dry_run=False)
    assert again.updated == 1 and counts(session)["ErpBalance"] == 1


def test_xlsx_import(engine, session, manager):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "sector", "city"])
    ws.append(["Budmax", "retail", "Łódź"])
    ws.append(['=HYPERLINK("http://x")', "retail", "Kraków"])
    buf = io.BytesIO()
    wb.save(buf)
    report = run(engine, manager, "accounts", buf.getvalue(), dry_run=False)
    assert report.file_format == "xlsx" and report.created == 1 and report.rejected == 1
    assert report.errors[0].line == 3 and report.errors[0].key == "imports.error.formula"
    assert session.exec(select(Account.city)).all() == ["Łódź"]


def test_wrong_encoding_is_a_clear_error_and_writes_nothing(engine, session, manager):
    before = counts(session)
    with pytest.raises(ValidationError) as err:
        run(engine, manager, "accounts", "name\nŻwirek\n".encode("utf-16-le"), dry_run=False)  # no BOM
    assert "not text in UTF-8, UTF-16, Windows-1250 or ISO-8859-2" in err.value.message()
    forced = mapping_mod.loads('[options]\nencoding = "utf-8"\n')
    with pytest.raises(ValidationError) as err:
        run(engine, manager, "accounts", "name\nŻwirek\n".encode("cp1250"), mapping=forced, dry_run=False)
    assert "cannot be read as utf-8" in err.value.message()
    assert counts(session) == before


def test_missing_columns_name_what_is_missing(engine, session, manager):
    before = counts(session)
    with pytest.raises(ValidationError) as err:
        run(engine, manager, "deals", b"opportunity_id,value\nX1,10\n", dry_run=False)
    assert err.value.message() == "Missing columns: stage. The file has: opportunity_id, value."
    assert counts(session) == before


BAD_ACCOUNTS = (
    "name,sector,city\n"
    "Good One,retail,Łódź\n"
    '=cmd|" /C calc"!A0,retail,X\n'
    "+SUM(1;2),retail,X\n"
    "@evil,retail,X\n"
    "<script>alert(1)</script>,retail,X\n"
    "Fine <b>bold</b>,retail,X\n"
    "Broken,row\n"
    f"{'A' * 20000},retail,X\n"
    f"{'B' * 300},retail,X\n"
    "Good Two,retail,Warszawa\n"
)


def test_bad_rows_are_reported_and_strict_mode_writes_nothing(engine, session, manager):
    before = counts(session)
    strict = run(engine, manager, "accounts", BAD_ACCOUNTS.encode(), dry_run=False, strict=True)
    assert strict.rejected == 8 and not strict.written and counts(session) == before
    dry = run(engine, manager, "accounts", BAD_ACCOUNTS.encode(), dry_run=True)
    assert counts(session) == before
    reasons = {e.line: e.key for e in dry.errors}
    assert reasons == {
        3: "imports.error.formula",
        4: "imports.error.formula",
        5: "imports.error.formula",
        6: "imports.error.markup",
        7: "imports.error.markup",
        8: "imports.error.field_count",
        9: "imports.error.huge",
        10: "imports.error.too_long",
    }
    assert dry.errors_frame()["reason"].str.len().min() > 10  # every row has a readable reason
    assert "spreadsheet formula" in next(e for e in dry.errors if e.line == 3).message()
    assert (dry.valid_rows, dry.created) == (2, 2)
    committed = run(engine, manager, "accounts", BAD_ACCOUNTS.encode(), dry_run=False)
    assert committed.created == 2 and committed.rejected == 8
    assert sorted(session.exec(select(Account.name)).all()) == ["Good One", "Good Two"]
    entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "import")).one()
    assert entry.after["created"] == 2 and entry.after["rejected"] == 8


def test_huge_numbers_and_bad_dates_are_rejected(engine, session, manager):
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    before = counts(session)
    data = (
        "account,as_of,receivable\n"
        "Acme,2024-01-31,99999999999999999999\n"
        "Acme,2024-02-31,10\n"
        "Acme,2024-03-31,1e400\n"
        "Acme,2024-04-30,-5\n"
        "Acmee,2024-05-31,5\n"
    )
    report = run(engine, manager, "settlements", data.encode(), dry_run=False, strict=True)
    keys = sorted((e.line, e.key) for e in report.errors)
    assert keys == [
        (2, "imports.error.too_large"),
        (3, "imports.error.date"),
        (4, "imports.error.too_large"),
        (5, "imports.error.negative"),
        (6, "imports.error.unknown_ref"),
    ]
    assert next(e for e in report.errors if e.line == 6).suggestion == "Acme"
    assert counts(session) == before


def test_deal_rules_history_and_duplicates(engine, session, manager):
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    data = (
        "id;stage;account;value;created;closed;owner\n"
        "D1;Offer;;100;01.02.2024;;importer\n"  # account required from Needs analysis on
        "D2;Completed;Acme;1 000,50;01.02.2024;;importer\n"  # won needs a close date
        "D3;Completed;Acme;1 000,50;01.02.2024;15.03.2024;importer\n"
        "D3;Lost;Acme;5;01.02.2024;15.03.2024;importer\n"  # duplicate id
        "D4;Prospect;;5;01.02.2024;;nobody\n"  # unknown owner
        "D5;Lost;Acme;5;01.02.2024;01.01.2024;importer\n"  # closed before created
        "D6;Zamknięte;Acme;5;;;importer\n"  # unknown stage
    )
    mapping = '[deals.columns]\nexternal_ref = "id"\n'
    report = run(engine, manager, "deals", data.encode("cp1250"), mapping=mapping, dry_run=False)
    assert {e.line: e.key for e in report.errors} == {
        2: "imports.error.account_required",
        3: "imports.error.closed_required",
        5: "imports.error.duplicate_in_file",
        6: "imports.error.unknown_ref",
        7: "imports.error.date_order",
        8: "imports.error.unknown_ref",
    }
    deal = session.exec(select(Deal)).one()
    assert deal.external_ref == "D3" and deal.value == Decimal("1000.50")
    assert deal.closed_at.date().isoformat() == "2024-03-15"
    history = session.exec(select(StageChange).order_by(StageChange.at)).all()
    assert [h.at.date().isoformat() for h in history] == ["2024-02-01", "2024-03-15"]
    assert history[0].from_stage_id is None and history[1].from_stage_id == history[0].to_stage_id


def test_dry_run_writes_nothing_and_permission_is_checked(engine, session, make_user, manager):
    rep = make_user("rep", "sales_rep")
    before = counts(session)
    report = run(engine, manager, "accounts", b"name\nA\nB\n", dry_run=True)
    assert report.created == 2 and not report.written and counts(session) == before
    with pytest.raises(PermissionDenied):
        run(engine, rep, "accounts", b"name\nA\n", dry_run=False)
    assert counts(session) == before


def test_mapping_round_trip_and_invalid_mapping():
    text = (ROOT_MAPPING).read_text()
    mapping = mapping_mod.loads(text)
    again = mapping_mod.loads(mapping_mod.dumps(mapping))
    assert again == mapping and again.for_entity("deals").values["stage"]["Won"] == "completed"
    with pytest.raises(ValidationError):
        mapping_mod.loads("[nonsense.columns]\nx = 1\n")


def test_exports_defuse_formulas():
    import pandas as pd

    df = pd.DataFrame({"title": ["=cmd()", "ok", "-1+2"], "value": [1.0, 2.0, -3.0]})
    assert to_csv_bytes(df).decode("utf-8-sig").splitlines()[1] == "'=cmd(),1.0"
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"deals": df})))
    assert wb["deals"]["A2"].value == "'=cmd()" and wb["deals"]["B4"].value == -3


def test_cli_import_exit_codes_and_export(db_url, tmp_path, session):
    runner = CliRunner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("name,sector\nAcme,retail\n")
    bad.write_text("name,sector\nAcme2,retail\n=cmd(),x\n")
    base = ["--database-url", db_url, "import"]
    ok = runner.invoke(app, [*base, "accounts", str(good), "--json"])
    assert ok.exit_code == 0, ok.output
    rejected = runner.invoke(app, [*base, "accounts", str(bad), "--strict"])
    assert rejected.exit_code == 2 and "line 3" in rejected.output
    assert sorted(session.exec(select(Account.name)).all()) == ["Acme"]
    dry = runner.invoke(app, [*base, "accounts", str(bad), "--dry-run", "--json"])
    assert dry.exit_code == 2 and '"rejected": 1' in dry.output
    missing = runner.invoke(app, [*base, "deals", str(good)])
    assert missing.exit_code == 1
    out = tmp_path / "deals.xlsx"
    exported = runner.invoke(
        app, ["--database-url", db_url, "export", "deals", "--format", "xlsx", "-o", str(out)]
    )
    assert exported.exit_code == 0 and out.exists()
