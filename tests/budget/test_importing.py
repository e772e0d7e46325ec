"""Cost postings from a Polish accounting export (cp1250, ";", "1 234,56", day-first dates)
through the shared import engine: a dry run lists every bad row and writes nothing; the import
writes the valid rows through the service (one audit entry each, plus the run's), skips
documents already posted; the shipped sample and mapping import cleanly; export round-trips."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from crm_impl.budget import importing, services
from crm_impl.budget.demo import LINES
from crm_impl.budget.models import BudgetLine, BudgetLineCreate, BudgetLineUpdate, CostPosting
from crm_impl.core.errors import PermissionDenied
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.importers.mapping import loads

ROOT = Path(__file__).resolve().parents[2]
MAPPING = loads(
    """
[options]
encoding = "cp1250"
delimiter = ";"
decimal = ","
date_format = "%d.%m.%Y"

[cost_postings.columns]
line = "MPK"
posted_on = "Data księgowania"
amount = "Kwota netto"
supplier = "Kontrahent"
description = "Opis"
document_number = "Nr dokumentu"

[cost_postings.values.line]
"PRG" = "Build"
"SZK" = "Szkolenia"
"OLD" = "Stara pozycja"
"""
)
EXPORT = "\r\n".join(
    [
        "Data księgowania;Nr dokumentu;Kontrahent;Opis;MPK;Kwota netto",
        "14.02.2026;FV/1;Softronik sp. z o.o.;Konfiguracja – sprint 7;PRG;1 234,56",  # line 2: fine
        "15.02.2026;FV/2;Proszkol;Szkolenie „Pierwsze kroki”;SZK;12 000,00",  # 3: fine
        "16.02.2026;FV/3;Żółw sp. j.;Zwrot;PRG;-500,00",  # 4: negative
        "17.02.2026;FV/4;X;Nic;PRG;0,00",  # 5: zero
        "18.02.2026;FV/5;X;Stare;OLD;100,00",  # 6: closed line
        "31.02.2026;FV/6;X;Zła data;PRG;100,00",  # 7: no such day
        "19.02.2026;FV/7;X;Literówka;Bild;100,00",  # 8: unknown line, "Build" suggested
        "20.02.2026;FV/1;X;Ten sam dokument;PRG;99,00",  # 9: FV/1 on Build again in the file
    ]
).encode("cp1250")


@pytest.fixture
def lines(budget_world):  # type: ignore[no-untyped-def]
    w = budget_world
    made = {}
    for name, category in (("Build", "programming"), ("Szkolenia", "training"), ("Stara pozycja", "other")):
        made[name] = services.create_line(
            session=w.session,
            actor=w["pm"],
            project_id=w.project_id,
            data=BudgetLineCreate(name=name, category=category, planned="100000"),
        )
    old = made["Stara pozycja"]
    services.update_line(
        session=w.session,
        actor=w["pm"],
        line_id=int(old.id or 0),
        expected_version=old.version,
        data=BudgetLineUpdate(status="closed"),
    )
    admin = w.session.get(UserAccount, w["admin"].id)
    admin.active_project_id = w.project_id  # the project the import goes to
    w.session.add(admin)
    w.session.commit()
    return made


def _run(w, data, *, dry_run, who="admin", mapping=MAPPING):  # type: ignore[no-untyped-def]
    return importing.run_import(
        session=w.session,
        actor=w[who],
        entity=importing.ENTITY,
        data=data,
        mapping=mapping,
        dry_run=dry_run,
        filename="koszty.csv",
    )


def _postings(w) -> int:  # type: ignore[no-untyped-def]
    return int(w.session.exec(select(func.count()).select_from(CostPosting)).one())


def test_dry_run_lists_every_bad_row_and_writes_nothing(budget_world, lines):
    w = budget_world
    report = _run(w, EXPORT, dry_run=True)
    assert (report.encoding.lower().replace("-", ""), report.delimiter) == ("cp1250", ";")
    assert report.total_rows == 8 and report.created == 2
    by_line = {e.line: e for e in report.errors}
    assert sorted(by_line) == [4, 5, 6, 7, 8, 9]
    assert by_line[4].key == "imports.error.negative"
    assert by_line[5].key == "budget.import.error.zero"
    assert by_line[6].key == "budget.import.error.closed_line"
    assert by_line[7].key == "imports.error.date"
    assert by_line[8].key == "imports.error.unknown_ref" and by_line[8].suggestion == "Build"
    assert by_line[9].key == "imports.error.duplicate_in_file"
    assert _postings(w) == 0


def test_the_import_writes_the_valid_rows_through_the_service(budget_world, lines):
    w = budget_world
    report = _run(w, EXPORT, dry_run=False)
    assert report.created == 2 and report.written
    rows = {p.document_number: p for p in w.session.exec(select(CostPosting)).all()}
    assert set(rows) == {"FV/1", "FV/2"}
    assert rows["FV/1"].amount == Decimal("1234.56") and rows["FV/1"].line_id == lines["Build"].id
    assert (
        rows["FV/2"].description == "Szkolenie „Pierwsze kroki”"
        and str(rows["FV/2"].posted_on) == "2026-02-15"
    )
    audits = w.session.exec(select(AuditEntry.entity, AuditEntry.action)).all()
    assert audits.count(("cost_posting", "create")) == 2 and ("import", "import") in audits
    again = _run(w, EXPORT, dry_run=False)  # the same export again: nothing doubled
    assert again.created == 0 and again.skipped == 2 and _postings(w) == 2


def test_a_pm_without_import_rights_is_refused(budget_world, lines):
    w = budget_world
    with pytest.raises(PermissionDenied):
        _run(w, EXPORT, dry_run=True, who="pm")
    with pytest.raises(PermissionDenied):
        _run(w, EXPORT, dry_run=True, who="consultant")


def test_the_shipped_sample_and_mapping_import_cleanly(budget_world, lines):
    w = budget_world
    for _key, name, category, _kind, planned, _committed in LINES:
        services.create_line(
            session=w.session,
            actor=w["pm"],
            project_id=w.project_id,
            data=BudgetLineCreate(name=name, category=category, planned=str(planned)),
        )
    mapping = loads((ROOT / "examples/mappings/accounting-pl.toml").read_text(encoding="utf-8"))
    data = (ROOT / "examples/data/accounting/koszty-wdrozenia-crm.csv").read_bytes()
    report = _run(w, data, dry_run=False, mapping=mapping)
    assert report.error_count == 0 and report.created == 5
    total = w.session.exec(select(func.sum(CostPosting.amount))).one()
    assert total == Decimal("30085.06")  # 12 300,00 + 8 450,50 + 4 200,00 + 1 234,56 + 3 900,00
    training = w.session.exec(select(BudgetLine).where(BudgetLine.name == "Szkolenia użytkowników")).one()
    on_training = w.session.exec(
        select(func.sum(CostPosting.amount)).where(CostPosting.line_id == training.id)
    ).one()
    assert on_training == Decimal("12350.50")


def test_the_export_imports_again_without_a_mapping(budget_world, lines):
    w = budget_world
    _run(w, EXPORT, dry_run=False)
    frames = importing.export_frames(session=w.session, actor=w["consultant"], project_id=w.project_id)
    assert list(frames["postings"].columns) == list(importing.POSTING_EXPORT)
    assert frames["lines"].set_index("name").loc["Build", "actual"] == pytest.approx(1234.56)
    from crm_impl.core import exporting

    data = exporting.to_csv_bytes(
        frames["postings"].assign(document_number=lambda d: d["document_number"] + "-B")
    )
    report = _run(w, data, dry_run=False, mapping=None)
    assert report.error_count == 0 and report.created == 2
