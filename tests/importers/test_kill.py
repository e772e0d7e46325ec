"""Fault test (issue 8): the process running an import is killed (SIGKILL) in the middle of it —
while it writes, and while the CLI checks the file — and the database holds no partial rows
(every row count as before), and the next import of the same file works. SQLite and
PostgreSQL."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import func, select

from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import Account, Deal, DealProduct, StageChange
from tests.conftest import ROOT

TABLES = (Deal, StageChange, DealProduct, Account, UserAccount, AuditEntry)
CLI = Path(sys.executable).parent / "crm-impl"
MAPPING = '[deals.options]\ncreate_missing_owners = true\nfirst_stage = "contact_made"\n'


def _counts(url: str) -> dict[str, int]:
    with UnitOfWork(get_engine(url)) as uow:
        return {m.__name__: uow.session.exec(select(func.count()).select_from(m)).one() for m in TABLES}


def _file(path: Path, rows: int) -> Path:
    lines = ["external_ref,title,stage,account,owner,product,value,created,closed"]
    stages = ("contact_made", "offer", "completed", "lost")
    for i in range(rows):
        stage = stages[i % 4]
        closed = "2024-03-01" if stage in ("completed", "lost") else ""
        lines.append(f"K{i:07d},Deal {i},{stage},Acme,Agent {i % 7},GTX,{100 + i % 50},2024-01-02,{closed}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _setup(engine, make_user) -> None:  # type: ignore[no-untyped-def]
    manager = make_user("importer", "sales_manager")
    for entity, data in (("accounts", b"name\nAcme\n"), ("products", b"name,price\nGTX,99\n")):
        with UnitOfWork(engine) as uow:
            imports.run_import(session=uow.session, actor=manager, entity=entity, data=data, dry_run=False)
            uow.commit()


def child() -> None:
    """Run in a child process: the engine imports the file and, once a few chunks of deals
    are inserted (not committed), says so in the marker file and waits to be killed."""
    from sqlalchemy import event

    from crm_impl.core.permissions import SYSTEM
    from crm_impl.importers import mapping as mapping_mod

    url, path, marker = sys.argv[1:4]
    engine = get_engine(url)
    inserts = [0]

    @event.listens_for(engine, "after_cursor_execute")
    def _written(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO deal "):
            inserts[0] += 1
            if inserts[0] == 4:
                Path(marker).write_text("writing")
                time.sleep(300)  # killed here, in the middle of the write transaction

    with UnitOfWork(engine) as uow:
        imports.run_import(
            session=uow.session,
            actor=SYSTEM,
            entity="deals",
            data=Path(path),
            mapping=mapping_mod.loads(MAPPING),
            dry_run=False,
            chunk_size=500,
        )
        uow.commit()
    Path(marker).write_text("committed")


def _wait(proc: subprocess.Popen[bytes], done, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else proc.returncode
        assert time.monotonic() < deadline, "the child never got there"
        time.sleep(0.1)


def _writing(url: str) -> bool:
    """Is another connection in the middle of a write transaction on the deals (the import's
    write phase: nothing is written before it)? SQLite: the write lock is taken; PostgreSQL: a
    row lock on `deal` is held by another backend."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    with get_engine(url).connect() as conn:
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'deal' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        )
        return bool(conn.execute(query).scalar_one())


def _kill(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "the import finished before it was killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _next_import_works(url: str, path: Path, before: dict[str, int], rows: int) -> None:
    # the server may need a moment to notice the dead connection (PostgreSQL rolls it back)
    deadline = time.monotonic() + 30
    while _counts(url) != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _counts(url) == before  # nothing partial: not one deal, stage change or line
    mapping = path.parent / "next.toml"
    mapping.write_text(MAPPING)
    out = subprocess.run(
        [str(CLI), "--database-url", url, "import", "deals", str(path), "--mapping", str(mapping), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    after = _counts(url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert after["Deal"] - before["Deal"] == rows
    assert after["StageChange"] - before["StageChange"] == rows * 7 // 4  # the first-stage rows: 1 each
    assert after["DealProduct"] - before["DealProduct"] == rows


def test_killed_while_writing_leaves_nothing(db_url, engine, make_user, tmp_path):
    _setup(engine, make_user)
    rows = 2_500
    path, marker = _file(tmp_path / "deals.csv", rows), tmp_path / "marker"
    before = _counts(db_url)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.importers.test_kill import child; child()",
            db_url,
            str(path),
            str(marker),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        _wait(proc, lambda: marker.exists())
        assert marker.read_text() == "writing"
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    _next_import_works(db_url, path, before, rows)


def test_cli_killed_mid_import_leaves_nothing(db_url, engine, make_user, tmp_path):
    _setup(engine, make_user)
    rows = 30_000
    path = _file(tmp_path / "deals.csv", rows)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    before = _counts(db_url)
    proc = subprocess.Popen(
        [str(CLI), "--database-url", db_url, "import", "deals", str(path), "--mapping", str(mapping)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # in the write phase (the file read and checked, the rows going in), before the commit
        _wait(proc, lambda: _writing(db_url))
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    _next_import_works(db_url, _file(tmp_path / "small.csv", 2_000), before, 2_000)
