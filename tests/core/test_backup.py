"""Backup and restore (crm_impl/core/backup.py, `crm-impl backup` / `crm-impl restore`).

Round trips on both backends: sqlite->sqlite (online backup API), sqlite->PostgreSQL and
PostgreSQL->sqlite (portable dump, and the SQLite copy read logically), PostgreSQL->PostgreSQL
(pg_dump); after each, every table's row count and checksum equal the source's. A non-admin is
refused, a non-empty target is refused with nothing written, a concurrent writer during the
backup leaves a consistent snapshot, and the restored PostgreSQL sequences continue after the
highest id.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

import crm_impl.tables  # noqa: F401  (every table in SQLModel.metadata)
from crm_impl.cli import app
from crm_impl.core import backup
from crm_impl.core.db import get_engine
from crm_impl.core.errors import PermissionDenied
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.core.permissions import Actor
from crm_impl.core.saved_filters import SavedFilter
from crm_impl.pipeline.models import Account, Deal, StageDefinition
from crm_impl.pipeline.services.stages import ensure_default_stages
from tests.conftest import PG_URL, need

META = SQLModel.metadata


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _drop(eng: Engine, name: str) -> None:
    """DROP DATABASE, retried: an autovacuum worker (another role) analysing the freshly loaded
    tables cannot be terminated by FORCE, so wait for it to finish."""
    for _ in range(60):
        try:
            with eng.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except (OperationalError, ProgrammingError):
            time.sleep(0.5)
    raise AssertionError(f"could not drop {name}")


@pytest.fixture
def pg_empty() -> Iterator[str]:
    """A brand-new PostgreSQL database without tables (dropped afterwards)."""
    need(PG_URL is not None, "PostgreSQL (set CRM_IMPL_TEST_PG_URL)")
    assert PG_URL is not None
    admin = make_url(PG_URL)
    name = f"{admin.database}_bk_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    yield url
    get_engine(url).dispose()
    _drop(eng, name)
    eng.dispose()


def _seed(url: str) -> None:
    """Every kind of value: Decimals, dates, aware datetimes, JSON, booleans, a self-reference,
    text a backend could mangle (quotes, Polish letters, Markdown, a tab, a newline)."""
    with Session(get_engine(url)) as s:
        admin = UserAccount(username="root", roles=["admin"], password_hash="x", display_name="Zażółć")
        rep = UserAccount(username="rep", roles=["sales_rep"], password_hash="y", is_active=False)
        s.add_all([admin, rep])
        s.flush()
        acc = Account(name='O\'Brien "Ąę" [x](http://e) \t\nłódź', city="Łódź", owner_id=admin.id)
        s.add(acc)
        s.flush()
        ensure_default_stages(session=s)
        stage = s.exec(select(StageDefinition).order_by(col(StageDefinition.id))).first()
        assert stage is not None and stage.id is not None and admin.id is not None
        parent = Deal(
            title="Parent",
            account_id=acc.id,
            stage_id=stage.id,
            value=Decimal("1234567.89"),
            probability=0.333333333333,
            expected_close=date(2031, 12, 31),
            closed_at=datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC),
        )
        s.add(parent)
        s.flush()
        s.add(
            Deal(
                title="Child",
                account_id=acc.id,
                stage_id=stage.id,
                value=Decimal("0.01"),
                parent_deal_id=parent.id,
            )
        )
        s.add(
            SavedFilter(
                name="f", user_id=admin.id, page_key="defects.list", criteria={"b": [1, 2.5, None], "a": "ż"}
            )
        )
        when = datetime(2020, 1, 1, tzinfo=UTC)
        after = {"name": "x", "n": "1.50", "ok": True}
        s.add(
            AuditEntry(
                at=when, username="root", entity="account", entity_id="1", action="create", after=after
            )
        )
        s.commit()


def _sums(url: str) -> dict[str, tuple[int, str]]:
    return {t.name: (t.rows, t.checksum) for t in backup.verify(url=url, metadata=META)}


def _round_trip(src: str, dst: str, tmp_path: Path, kind: str) -> backup.RestoreResult:
    out = tmp_path / f"b-{kind}.zip"
    taken = backup.backup(url=src, out=out, metadata=META, kind=kind)
    assert taken.manifest.kind == kind
    assert taken.manifest.sums() == _sums(src)  # nobody wrote in between
    result = backup.restore(url=dst, path=out, metadata=META)
    assert result.mismatches == []
    assert _sums(dst) == _sums(src)
    return result


def test_sqlite_to_sqlite_online_backup(tmp_path: Path, sqlite_template: Path) -> None:
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    _seed(f"sqlite:///{src}")
    result = _round_trip(f"sqlite:///{src}", f"sqlite:///{tmp_path / 'dst.db'}", tmp_path, "sqlite")
    rows = {t.name: t.rows for t in result.found}
    assert rows["deal"] == 2 and rows["user_account"] == 2 and rows["saved_filter"] == 1


@pytest.mark.parametrize("kind", ["portable", "sqlite"])
def test_sqlite_to_postgresql(tmp_path: Path, sqlite_template: Path, pg_empty: str, kind: str) -> None:
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    _seed(f"sqlite:///{src}")
    _round_trip(f"sqlite:///{src}", pg_empty, tmp_path, kind)
    with Session(get_engine(pg_empty)) as s:  # values came through as their types
        child = s.exec(select(Deal).where(Deal.title == "Child")).one()
        parent = s.exec(select(Deal).where(Deal.title == "Parent")).one()
        assert child.parent_deal_id == parent.id
        assert parent.value == Decimal("1234567.89") and parent.expected_close == date(2031, 12, 31)
        assert parent.closed_at == datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
        saved = s.exec(select(SavedFilter)).one()
        assert saved.criteria == {"b": [1, 2.5, None], "a": "ż"}
        rep = s.exec(select(UserAccount).where(UserAccount.username == "rep")).one()
        assert rep.is_active is False
        # sequences were reset: a new row gets the next id, not a duplicate key
        top = s.exec(select(func.max(Deal.id))).one() or 0
        s.add(Deal(title="New", account_id=parent.account_id, stage_id=parent.stage_id))
        s.commit()
        assert s.exec(select(Deal.id).where(Deal.title == "New")).one() == top + 1


def test_postgresql_to_sqlite_and_pg_dump(tmp_path: Path, db_url: str, pg_empty: str) -> None:
    """The source on each backend; portable into SQLite, and pg_dump (PostgreSQL only) back."""
    _seed(db_url)
    _round_trip(db_url, f"sqlite:///{tmp_path / 'dst.db'}", tmp_path, "portable")
    if db_url.startswith("postgresql"):
        _round_trip(db_url, pg_empty, tmp_path, "pg_dump")


def test_demo_company_sqlite_to_postgresql_and_back(
    tmp_path: Path, demo_template: Path, pg_empty: str
) -> None:
    src = tmp_path / "demo.db"
    shutil.copy(demo_template, src)
    source = f"sqlite:///{src}"
    _round_trip(source, pg_empty, tmp_path, "portable")
    back = f"sqlite:///{tmp_path / 'back.db'}"
    _round_trip(pg_empty, back, tmp_path, "portable")
    sums = _sums(source)
    assert _sums(back) == sums
    assert sums["deal"][0] >= 600 and sums["audit_entry"][0] > 0


def test_cli_backup_and_restore_print_and_audit(tmp_path: Path, sqlite_template: Path) -> None:
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    src_url, dst_url = f"sqlite:///{src}", f"sqlite:///{tmp_path / 'dst.db'}"
    _seed(src_url)
    out = tmp_path / "b.zip"
    code, stdout, stderr = _cli("--database-url", src_url, "--as", "root", "backup", "-o", str(out))
    assert code == 0, stderr
    assert "Backup written" in stdout and "deal" in stdout
    with Session(get_engine(src_url)) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.entity == "backup")).one()
        assert (entry.action, entry.username) == ("backup", "root")
    code, stdout, stderr = _cli("--database-url", dst_url, "--as", "root", "restore", str(out))
    assert code == 0, stderr
    assert "Restored and verified" in stdout and "DIFFERS" not in stdout
    assert stdout.count("same") == len(META.sorted_tables)
    with Session(get_engine(dst_url)) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "restore")).one()
        assert entry.username == "root" and entry.user_id is not None


def test_non_admin_is_refused(tmp_path: Path, sqlite_template: Path) -> None:
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    src_url = f"sqlite:///{src}"
    _seed(src_url)
    with Session(get_engine(src_url)) as s:
        s.add(UserAccount(username="boss", roles=["management"], password_hash="z"))
        s.commit()
    out = tmp_path / "b.zip"
    code, _, stderr = _cli("--database-url", src_url, "--as", "boss", "backup", "-o", str(out))
    assert code == 1 and "not allowed to make backups" in stderr
    assert not out.exists()
    assert _cli("--database-url", src_url, "backup", "-o", str(out))[0] == 0  # the operator (system)
    dst = tmp_path / "dst.db"
    code, _, stderr = _cli("--database-url", f"sqlite:///{dst}", "--as", "boss", "restore", str(out))
    assert code == 1 and "not allowed to restore backups" in stderr
    assert not dst.exists() or not backup.target_rows(get_engine(f"sqlite:///{dst}").connect())
    with pytest.raises(PermissionDenied):
        backup.require_admin(Actor(id=1, username="m", roles=("management", "pm_vendor")))


def test_non_empty_target_is_refused(tmp_path: Path, db_url: str, sqlite_template: Path) -> None:
    """db_url has the default stages: not empty. Nothing is written, on either backend."""
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    _seed(f"sqlite:///{src}")
    out = tmp_path / "b.zip"
    backup.backup(url=f"sqlite:///{src}", out=out, metadata=META, kind="portable")
    before = _sums(db_url)
    code, _, stderr = _cli("--database-url", db_url, "restore", str(out))
    assert code == 1
    assert "not empty" in stderr and "stage_definition" in stderr and "Nothing was written" in stderr
    assert _sums(db_url) == before


def test_a_tampered_backup_fails_verification_and_writes_nothing(
    tmp_path: Path, sqlite_template: Path
) -> None:
    src = tmp_path / "src.db"
    shutil.copy(sqlite_template, src)
    _seed(f"sqlite:///{src}")
    out, bad = tmp_path / "b.zip", tmp_path / "bad.zip"
    backup.backup(url=f"sqlite:///{src}", out=out, metadata=META, kind="portable")
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "data/account.jsonl":
                data = data.replace("Łódź".encode(), b"Lodz")
            zout.writestr(item, data)
    dst = f"sqlite:///{tmp_path / 'dst.db'}"
    code, _, stderr = _cli("--database-url", dst, "restore", str(bad))
    assert code == 1 and "Verification FAILED" in stderr and "account" in stderr
    assert backup.target_rows(get_engine(dst).connect()) == {}  # the load was rolled back
    code, _, stderr = _cli("--database-url", dst, "restore", str(tmp_path / "src.db"))
    assert code == 1 and "is not a crm-impl backup" in stderr


@pytest.mark.parametrize("kind", ["portable", "native"])
def test_concurrent_writer_does_not_break_consistency(
    tmp_path: Path, db_url: str, kind: str, request: pytest.FixtureRequest
) -> None:
    """A writer commits an account and its audit entry together, again and again, while the
    backup runs: the backup holds both or neither of every pair, and verifies."""
    _seed(db_url)
    engine = get_engine(db_url)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            with Session(engine) as s:
                acc = Account(name=f"w{i}")
                s.add(acc)
                s.flush()
                entry = AuditEntry(
                    at=datetime.now(UTC), username="w", entity="w", entity_id=str(acc.id), action="c"
                )
                s.add(entry)
                s.commit()
            written.append(i)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        native = "sqlite" if db_url.startswith("sqlite") else "pg_dump"
        chosen = "portable" if kind == "portable" else native
        out = tmp_path / "b.zip"
        taken = backup.backup(url=db_url, out=out, metadata=META, kind=chosen)
        at_end = len(written)
        while len(written) < at_end + 3:  # the writer was not blocked by the backup
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    in_backup = taken.manifest.sums()["account"][0] - 1  # the seed has one account
    assert 5 <= in_backup < len(written)
    dst = request.getfixturevalue("pg_empty") if chosen == "pg_dump" else f"sqlite:///{tmp_path / 'dst.db'}"
    backup.restore(url=dst, path=out, metadata=META)
    with Session(get_engine(dst)) as s:
        accounts = set(s.exec(select(Account.id).where(col(Account.name).like("w%"))).all())
        audited = {int(e) for e in s.exec(select(AuditEntry.entity_id).where(AuditEntry.entity == "w")).all()}
    assert accounts == audited and len(accounts) == in_backup
