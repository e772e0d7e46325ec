"""Imports keep history (issue 8, item 10): an update import records before/after for every
existing row it changes, in one bulk insert; and the write phase starts only after the whole
file is checked (item 4: the write lock is held for the final insert only)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event
from sqlmodel import col, select

from crm_impl.core.models import AuditEntry
from crm_impl.pipeline.models import Account, Contact, ErpBalance, Product
from tests.importers.test_files import run

ACCOUNTS = "name,external_ref,city,sector\n" + "".join(f"Firm {i},R{i},Kraków,retail\n" for i in range(30))


def _entries(session, entity):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.exec(
        select(AuditEntry).where(AuditEntry.entity == entity).order_by(col(AuditEntry.id))
    ).all()


def test_update_import_keeps_before_and_after_per_changed_row(engine, session, make_user):
    manager = make_user("importer", "sales_manager")
    first = run(engine, manager, "accounts", ACCOUNTS.encode(), dry_run=False)
    assert first.created == 30 and _entries(session, "account") == []  # inserts: counted only
    ids = {a.external_ref: a.id for a in session.exec(select(Account)).all()}
    update = ACCOUNTS.replace("Firm 3,R3,Kraków,retail", "Firm 3,R3,Gdańsk,wholesale").replace(
        "Firm 7,R7,Kraków,retail", "Firm 7,R7,Kraków,energy"
    )
    statements: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "INSERT INTO audit_entry" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        report = run(engine, manager, "accounts", update.encode(), dry_run=False)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (report.updated, report.skipped, report.created) == (2, 28, 0)
    history = {e.entity_id: (e.action, e.before, e.after, e.username) for e in _entries(session, "account")}
    assert history == {
        str(ids["R3"]): (
            "update",
            {"city": "Kraków", "sector": "retail"},
            {"city": "Gdańsk", "sector": "wholesale"},
            "importer",
        ),
        str(ids["R7"]): ("update", {"sector": "retail"}, {"sector": "energy"}, "importer"),
    }
    # one statement for the rows' history, one for the run's summary entry
    assert len(statements) == 2
    (summary,) = [e for e in _entries(session, "import") if e.after and e.after["updated"] == 2]
    assert summary.after["history_entries"] == 2
    changed = session.get(Account, ids["R3"])
    assert changed is not None and (changed.city, changed.version) == ("Gdańsk", 2)
    # the same file again changes nothing and records nothing
    again = run(engine, manager, "accounts", update.encode(), dry_run=False)
    assert again.updated == 0 and len(_entries(session, "account")) == 2


def test_dry_and_refused_runs_record_no_history(engine, session, make_user):
    manager = make_user("importer", "sales_manager")
    run(engine, manager, "accounts", ACCOUNTS.encode(), dry_run=False)
    update = ACCOUNTS.replace("Kraków", "Łódź") + "=cmd(),R99,x,y\n"
    dry = run(engine, manager, "accounts", update.encode(), dry_run=True)
    strict = run(engine, manager, "accounts", update.encode(), dry_run=False, strict=True)
    assert dry.updated == 30 and strict.rejected == 1 and not strict.written
    assert _entries(session, "account") == []
    assert set(session.exec(select(Account.city)).all()) == {"Kraków"}


def test_products_contacts_and_settlements_keep_history(engine, session, make_user):
    manager = make_user("importer", "sales_manager")
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    run(engine, manager, "products", b"name,series,price\nGTX,G,100\n", dry_run=False)
    run(engine, manager, "contacts", b"full_name,account,email\nAnna,Acme,anna@acme.pl\n", dry_run=False)
    run(engine, manager, "settlements", b"account,as_of,receivable\nAcme,2024-03-31,10\n", dry_run=False)
    run(engine, manager, "products", b"name,series,price\nGTX,G,125.50\n", dry_run=False)
    run(
        engine,
        manager,
        "contacts",
        b"full_name,account,email,position\nAnna,Acme,anna@acme.pl,CFO\n",
        dry_run=False,
    )
    run(engine, manager, "settlements", b"account,as_of,receivable\nAcme,2024-03-31,12\n", dry_run=False)
    product = session.exec(select(Product)).one()
    contact = session.exec(select(Contact)).one()
    balance = session.exec(select(ErpBalance)).one()
    assert product.price == Decimal("125.50") and contact.position == "CFO"
    assert balance.receivable == Decimal("12.00")
    assert [(e.entity_id, e.before, e.after) for e in _entries(session, "product")] == [
        (str(product.id), {"price": "100.00"}, {"price": "125.50"})
    ]
    assert [(e.before, e.after) for e in _entries(session, "contact")] == [
        ({"position": ""}, {"position": "CFO"})
    ]
    (entry,) = _entries(session, "settlements")
    assert entry.entity_id == str(balance.id)
    assert (entry.before["receivable"], entry.after["receivable"]) == ("10.00", "12.00")


def test_nothing_is_written_before_the_whole_file_is_checked(engine, session, make_user):
    """The first write statement comes after the last chunk was read and checked (so on SQLite
    the write lock is not held while the file is parsed)."""
    manager = make_user("importer", "sales_manager")
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    data = "external_ref,title,stage,account,created\n" + "".join(
        f"D{i},Deal {i},contact_made,Acme,2024-01-02\n" for i in range(1_000)
    )
    seen: dict[str, int] = {"rows_read": 0}
    first_write: list[int] = []

    def progress(done: int, total: int) -> None:
        seen["rows_read"] = done

    def watch(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and not first_write:
            first_write.append(seen["rows_read"])

    event.listen(engine, "before_cursor_execute", watch)
    try:
        report = run(
            engine, manager, "deals", data.encode(), dry_run=False, chunk_size=100, progress=progress
        )
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert report.created == 1_000 and report.extra["stage_changes"] == 2_000
    assert first_write == [1_000]  # 10 chunks read and checked, then the first INSERT
