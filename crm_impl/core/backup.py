"""Backup and restore of the whole database, while the app runs.

A backup is one zip file with a `manifest.json` (format, kind, source dialect, the Alembic
revisions, and per table its columns, row count and content checksum) and the data in one of
three kinds:

- `sqlite`: a copy made with SQLite's online backup API (`sqlite3.Connection.backup`), a
  consistent snapshot even while the app writes (WAL).
- `pg_dump`: `pg_dump --format=custom` of a PostgreSQL database, taken on a snapshot exported from
  the read transaction the checksums are computed in, so both see the same data.
- `portable`: one JSON-lines file per table in dependency order, every value written by its
  column's type (dates, datetimes in UTC, Decimals as strings, JSON as JSON, booleans), read in
  one read transaction (REPEATABLE READ on PostgreSQL, one SQLite read transaction). It restores
  into an empty database of either kind; so does a `sqlite` backup (read as the source of the
  same logical copy). A `pg_dump` backup restores into PostgreSQL only.

The checksum of a table is canonical: each row is written as a JSON list of its values in the
form above, hashed with SHA-256, and the hashes are added up modulo 2**256 — the same number on
SQLite and PostgreSQL whatever order the rows come in. Restore refuses a target that has rows,
loads, and compares every table's count and checksum with the manifest: a logical restore does it
inside its transaction and commits only when all are equal; a native one fails loudly.

The table list is the caller's SQLModel metadata (`crm_impl.tables` registers every domain;
core imports no domain).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON as SAJSON
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    Table,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.types import TypeDecorator, TypeEngine

from crm_impl.core.errors import DomainError, PermissionDenied
from crm_impl.core.permissions import Actor

FORMAT = "crm-impl-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KINDS = ("portable", "sqlite", "pg_dump")
SQLITE_MEMBER = "database.sqlite"
PGDUMP_MEMBER = "database.pgdump"
# Rows the migrations write themselves (the data-version counter): not "data" for the emptiness
# check of a restore target; they are replaced by the backup's rows.
MIGRATION_SEEDED = frozenset({"data_version"})
_BATCH = 1000


class BackupError(DomainError):
    key = "backup.failed"


# --- who may -----------------------------------------------------------------------------------


def require_admin(actor: Actor, action: str = "backup.run") -> None:
    """Backups hold every password hash and every deal: administrators only."""
    if "admin" not in actor.roles:
        raise PermissionDenied("error.permission", action=action)


# --- canonical values ---------------------------------------------------------------------------


# first match wins: Float before Numeric (a Float is a Numeric)
_KINDS: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "bool"),
    (SAJSON, "json"),
    (DateTime, "datetime"),
    (Date, "date"),
    (Float, "float"),
    (Numeric, "decimal"),
    (Integer, "int"),
)


def column_kind(type_: TypeEngine[Any]) -> str:
    """The value kind a column is written as: bool, int, float, decimal, date, datetime, json, str."""
    base: TypeEngine[Any] = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    return next((kind for cls, kind in _KINDS if isinstance(base, cls)), "str")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    scale: int | None = None


def table_columns(table: Table) -> list[Column]:
    out = []
    for c in table.columns:
        kind = column_kind(c.type)
        scale = getattr(c.type, "scale", None) if kind == "decimal" else None
        out.append(Column(c.name, kind, scale))
    return out


def encode(column: Column, value: Any) -> Any:
    """A value as JSON in its canonical form (the same from SQLite and from PostgreSQL)."""
    if value is None:
        return None
    kind = column.kind
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "decimal":
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if column.scale is not None:
            number = number.quantize(Decimal(1).scaleb(-column.scale))
        return str(number)
    if kind == "datetime":
        moment = cast(datetime, value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if kind == "date":
        return cast(date, value).isoformat()
    if kind == "json":
        return value
    return str(value)


def decode(column: Column, value: Any) -> Any:
    """The Python value `encode` wrote."""
    if value is None:
        return None
    kind = column.kind
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "float":
        return float(value)
    return value


def row_line(columns: list[Column], row: Iterable[Any]) -> str:
    values = [encode(c, v) for c, v in zip(columns, row, strict=True)]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class TableSum:
    """Row count and order-independent content checksum of one table."""

    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, line: str) -> None:
        self.rows += 1
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")) % (1 << 256)

    @property
    def checksum(self) -> str:
        return f"{self._sum:064x}"


@dataclass
class TableInfo:
    name: str
    columns: list[Column]
    rows: int
    checksum: str


@dataclass
class Manifest:
    kind: str
    dialect: str
    revisions: list[str]
    created_at: str
    tables: list[TableInfo] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)  # active administrators: who may restore it

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "kind": self.kind,
                "dialect": self.dialect,
                "revisions": self.revisions,
                "created_at": self.created_at,
                "admins": self.admins,
                "tables": [
                    {
                        "name": t.name,
                        "columns": [[c.name, c.kind, c.scale] for c in t.columns],
                        "rows": t.rows,
                        "checksum": t.checksum,
                    }
                    for t in self.tables
                ],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise ValueError("not a crm-impl backup")
        return cls(
            kind=data["kind"],
            dialect=data["dialect"],
            revisions=list(data["revisions"]),
            created_at=data["created_at"],
            admins=list(data.get("admins", [])),
            tables=[
                TableInfo(
                    name=t["name"],
                    columns=[Column(c[0], c[1], c[2]) for c in t["columns"]],
                    rows=int(t["rows"]),
                    checksum=t["checksum"],
                )
                for t in data["tables"]
            ],
        )

    def sums(self) -> dict[str, tuple[int, str]]:
        return {t.name: (t.rows, t.checksum) for t in self.tables}


# --- engines, revisions, snapshots -------------------------------------------------------------


def _sqlite_busy(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _engine(url: str, **kwargs: Any) -> Engine:
    """A private engine (disposed after use): the backup's own connections and transaction mode."""
    from crm_impl.core.db import normalize_url

    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa_create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_busy)
        return engine
    return sa_create_engine(url, **kwargs)


def code_heads() -> list[str]:
    """The Alembic heads of this version of crm-impl."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from crm_impl.core.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return sorted(ScriptDirectory.from_config(cfg).get_heads())


def db_revisions(conn: Connection) -> list[str]:
    if not inspect(conn).has_table("alembic_version"):
        return []
    return sorted(str(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


@contextmanager
def read_snapshot(url: str) -> Iterator[Connection]:
    """One read transaction that every query of the backup runs in."""
    engine = _engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN")  # deferred: the snapshot starts at the first read
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
                try:
                    yield conn
                finally:
                    conn.exec_driver_sql("ROLLBACK")
            else:
                conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    yield conn
                finally:
                    conn.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()


def _check_revision(conn: Connection) -> list[str]:
    revisions, heads = db_revisions(conn), code_heads()
    if revisions != heads:
        raise BackupError(
            "backup.revision_mismatch", found=", ".join(revisions) or "-", expected=", ".join(heads)
        )
    return revisions


def _rows(conn: Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    query = select(table).order_by(*table.primary_key.columns)
    result = conn.execute(query.execution_options(yield_per=_BATCH))  # the statement's, not the conn's
    for row in result:
        yield tuple(row)


def checksums(conn: Connection, metadata: MetaData) -> list[TableInfo]:
    """Every table's columns, row count and checksum, read on `conn` (its transaction)."""
    out = []
    for table in metadata.sorted_tables:
        columns = table_columns(table)
        total = TableSum()
        for row in _rows(conn, table):
            total.add(row_line(columns, row))
        out.append(TableInfo(table.name, columns, total.rows, total.checksum))
    return out


def active_admins(conn: Connection, metadata: MetaData) -> list[str]:
    """Usernames of the active administrators in the snapshot (those who may restore it)."""
    users = metadata.tables.get("user_account")
    if users is None:
        return []
    rows = conn.execute(select(users.c.username, users.c.roles, users.c.is_active)).all()
    return sorted(str(name) for name, roles, active in rows if active and "admin" in (roles or []))


# --- backup ---------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    note: str | None = None  # e.g. pg_dump missing: a portable dump was taken instead


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("backup.sqlite_file_only")
    return Path(database)


def _pg_env(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _write_zip(out: Path, manifest: Manifest, members: Callable[[zipfile.ZipFile], None]) -> None:
    """Write to a temporary file beside `out` and rename: a half-written backup never has its name."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            members(zf)
            zf.writestr(MANIFEST, manifest.to_json())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _portable(conn: Connection, metadata: MetaData, manifest: Manifest, zf: zipfile.ZipFile) -> None:
    for table in metadata.sorted_tables:
        columns = table_columns(table)
        total = TableSum()
        with zf.open(f"data/{table.name}.jsonl", "w", force_zip64=True) as member:
            for row in _rows(conn, table):
                line = row_line(columns, row)
                total.add(line)
                member.write(line.encode() + b"\n")
        manifest.tables.append(TableInfo(table.name, columns, total.rows, total.checksum))


def backup(*, url: str, out: Path, metadata: MetaData, kind: str = "auto") -> BackupResult:
    """Take a consistent backup of the database at `url` into `out` (see the module doc).

    `kind`: auto (sqlite for SQLite; pg_dump for PostgreSQL when it is installed, else portable),
    portable, sqlite or pg_dump."""
    if kind not in ("auto", *KINDS):
        raise BackupError("backup.unknown_kind", kind=kind)
    out = Path(out)
    with read_snapshot(url) as conn:
        dialect = conn.dialect.name
        revisions = _check_revision(conn)
        note = None
        if kind == "auto":
            kind = "sqlite" if dialect == "sqlite" else "pg_dump"
            if kind == "pg_dump" and shutil.which("pg_dump") is None:
                kind, note = "portable", "backup.no_pg_dump"
        if (kind == "sqlite" and dialect != "sqlite") or (kind == "pg_dump" and dialect != "postgresql"):
            raise BackupError("backup.kind_for_other_database", kind=kind, dialect=dialect)
        manifest = Manifest(kind=kind, dialect=dialect, revisions=revisions, created_at=_now())
        manifest.admins = active_admins(conn, metadata)
        if kind == "portable":
            _write_zip(out, manifest, lambda zf: _portable(conn, metadata, manifest, zf))
            return BackupResult(out, manifest, note)
        if kind == "pg_dump":
            manifest.tables = checksums(conn, metadata)
            snapshot_id = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            with tempfile.TemporaryDirectory() as tmp:
                dump = Path(tmp) / PGDUMP_MEMBER
                dsn, env = _pg_env(url)
                done = subprocess.run(
                    ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                     f"--snapshot={snapshot_id}", f"--file={dump}", f"--dbname={dsn}"],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    raise BackupError("backup.pg_dump_failed", detail=done.stderr.strip()[-500:])
                _write_zip(out, manifest, lambda zf: zf.write(dump, PGDUMP_MEMBER))
            return BackupResult(out, manifest, note)
    # kind == "sqlite": the online backup API copies a consistent snapshot of the file
    source = _sqlite_path(url)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / SQLITE_MEMBER
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        copy_url = f"sqlite:///{copy}"
        with read_snapshot(copy_url) as copy_conn:
            manifest.revisions = _check_revision(copy_conn)
            manifest.tables = checksums(copy_conn, metadata)
            manifest.admins = active_admins(copy_conn, metadata)
        _write_zip(out, manifest, lambda zf: zf.write(copy, SQLITE_MEMBER))
    return BackupResult(out, manifest, note)


# --- restore --------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: Manifest
    found: list[TableInfo]

    @property
    def mismatches(self) -> list[str]:
        wanted = self.manifest.sums()
        got = {t.name: (t.rows, t.checksum) for t in self.found}
        return sorted(name for name in set(wanted) | set(got) if wanted.get(name) != got.get(name))


def read_manifest(path: Path) -> Manifest:
    try:
        with zipfile.ZipFile(path) as zf:
            return Manifest.from_json(zf.read(MANIFEST).decode())
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise BackupError("backup.not_a_backup", file=str(path)) from err


def _jsonl(zf: zipfile.ZipFile, table: str, info: TableInfo) -> Iterator[list[Any]]:
    with zf.open(f"data/{table}.jsonl") as member:
        for raw in member:
            values = json.loads(raw)
            yield [decode(c, v) for c, v in zip(info.columns, values, strict=True)]


@contextmanager
def _extracted(path: Path, member: str, where: Path) -> Iterator[Path]:
    with zipfile.ZipFile(path) as zf:
        zf.extract(member, where)
    yield where / member


def target_rows(conn: Connection) -> dict[str, int]:
    """Tables of the target that hold rows (the migrations' own seed rows left out)."""
    found = {}
    for name in inspect(conn).get_table_names():
        if name == "alembic_version" or name in MIGRATION_SEEDED:
            continue
        n = int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
        if n:
            found[name] = n
    return found


def _refuse_non_empty(url: str, *, no_schema: bool = False) -> str:
    """The target's dialect; refuses a target that has data (or, for pg_restore, any table)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            full = target_rows(conn)
            if full:
                some = ", ".join(f"{name}: {n}" for name, n in sorted(full.items())[:3])
                raise BackupError("backup.target_not_empty", table=some, tables=len(full))
            if no_schema and inspect(conn).get_table_names():
                raise BackupError("backup.target_has_schema")
            return conn.dialect.name
    finally:
        engine.dispose()


def _reset_sequences(conn: Connection, metadata: MetaData) -> None:
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or column_kind(pk[0].type) != "int":
            continue
        name, col = table.name, pk[0].name
        conn.execute(
            text(
                f'SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX("{col}"), 0) + 1, false) '
                f'FROM "{name}"'
            ),
            {"t": f'"{name}"', "c": col},
        )


# Rows copied as they are: listeners that derive rows from inserts (the adoption rollup counts
# audit entries) skip these, since the copy carries the derived rows too.
VERBATIM = {"verbatim": True}


def _load(
    conn: Connection,
    metadata: MetaData,
    manifest: Manifest,
    source: Callable[[Table, TableInfo], Iterable[list[Any]]],
) -> None:
    """Insert every table's rows in dependency order; self-references are set after all rows."""
    for table in reversed(metadata.sorted_tables):  # the migrations' seed rows
        conn.execute(delete(table))
    infos = {t.name: t for t in manifest.tables}
    later: list[tuple[Table, dict[str, Any]]] = []
    for table in metadata.sorted_tables:
        info = infos.get(table.name)
        if info is None:
            continue
        names = [c.name for c in info.columns]
        own = {fk.parent.name for fk in table.foreign_keys if fk.column.table is table}
        pk = [c.name for c in table.primary_key.columns]
        batch: list[dict[str, Any]] = []
        for values in source(table, info):
            row = dict(zip(names, values, strict=True))
            refs = {k: row[k] for k in own if row.get(k) is not None}
            if refs:
                later.append((table, {**{k: row[k] for k in pk}, **refs}))
                row.update(dict.fromkeys(refs))
            batch.append(row)
            if len(batch) >= _BATCH:
                conn.execute(insert(table).execution_options(**VERBATIM), batch)
                batch = []
        if batch:
            conn.execute(insert(table).execution_options(**VERBATIM), batch)
    for table, ref in later:
        keys = {c.name for c in table.primary_key.columns}
        where = [c == ref[c.name] for c in table.primary_key.columns]
        conn.execute(update(table).where(*where).values({k: v for k, v in ref.items() if k not in keys}))
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, metadata)


def restore(
    *, url: str, path: Path, metadata: MetaData, before_commit: Callable[[Connection], None] | None = None
) -> RestoreResult:
    """Restore the backup at `path` into the EMPTY database at `url`, then verify every table.

    A logical restore (portable, or a sqlite backup into PostgreSQL) runs in one transaction that
    commits only when every count and checksum equals the manifest's; `before_commit` runs in it
    then (the audit entry). A native restore (sqlite into SQLite, pg_dump into PostgreSQL) is
    verified after the copy and raises when anything differs."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest.revisions != code_heads():
        raise BackupError(
            "backup.revision_mismatch", found=", ".join(manifest.revisions), expected=", ".join(code_heads())
        )
    target = _refuse_non_empty(url, no_schema=manifest.kind == "pg_dump")
    if manifest.kind == "pg_dump" and target != "postgresql":
        raise BackupError("backup.pg_dump_needs_postgresql")
    with tempfile.TemporaryDirectory() as tmp:
        if manifest.kind == "pg_dump":
            return _restore_pg_dump(url, path, metadata, manifest, Path(tmp), before_commit)
        if manifest.kind == "sqlite" and target == "sqlite":
            return _restore_sqlite_file(url, path, metadata, manifest, Path(tmp), before_commit)
        return _restore_logical(url, path, metadata, manifest, Path(tmp), before_commit)


def _mismatch(result: RestoreResult) -> BackupError:
    return BackupError("backup.verify_failed", tables=", ".join(result.mismatches))


def _restore_logical(
    url: str,
    path: Path,
    metadata: MetaData,
    manifest: Manifest,
    tmp: Path,
    before_commit: Callable[[Connection], None] | None,
) -> RestoreResult:
    from crm_impl.core.db import upgrade

    upgrade(url)
    engine = _engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            if manifest.kind == "portable":
                with zipfile.ZipFile(path) as zf:
                    _load(conn, metadata, manifest, lambda table, info: _jsonl(zf, table.name, info))
            else:  # a SQLite file copy, read as the source of the same logical copy
                with _extracted(path, SQLITE_MEMBER, tmp) as copy, read_snapshot(f"sqlite:///{copy}") as src:
                    _load(conn, metadata, manifest, lambda table, info: (list(r) for r in _rows(src, table)))
            result = RestoreResult(manifest, checksums(conn, metadata))
            if result.mismatches:
                raise _mismatch(result)  # rolls the whole load back
            if before_commit is not None:
                before_commit(conn)
        return result
    finally:
        engine.dispose()


def _restore_sqlite_file(
    url: str,
    path: Path,
    metadata: MetaData,
    manifest: Manifest,
    tmp: Path,
    before_commit: Callable[[Connection], None] | None,
) -> RestoreResult:
    from crm_impl.core.db import dispose_engines

    target = _sqlite_path(url)
    dispose_engines()  # no pooled connection of this process holds the old file open
    with _extracted(path, SQLITE_MEMBER, tmp) as copy:
        src = sqlite3.connect(copy)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    return _verify_native(url, metadata, manifest, before_commit)


def _restore_pg_dump(
    url: str,
    path: Path,
    metadata: MetaData,
    manifest: Manifest,
    tmp: Path,
    before_commit: Callable[[Connection], None] | None,
) -> RestoreResult:
    if shutil.which("pg_restore") is None:
        raise BackupError("backup.no_pg_restore")
    with _extracted(path, PGDUMP_MEMBER, tmp) as dump:
        dsn, env = _pg_env(url)
        done = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             f"--dbname={dsn}", str(dump)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise BackupError("backup.pg_restore_failed", detail=done.stderr.strip()[-500:])
    return _verify_native(url, metadata, manifest, before_commit)


def _verify_native(
    url: str, metadata: MetaData, manifest: Manifest, before_commit: Callable[[Connection], None] | None
) -> RestoreResult:
    engine = _engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            result = RestoreResult(manifest, checksums(conn, metadata))
            if result.mismatches:
                raise _mismatch(result)
            if before_commit is not None:
                before_commit(conn)
        return result
    finally:
        engine.dispose()


def verify(*, url: str, metadata: MetaData) -> list[TableInfo]:
    """Counts and checksums of the database at `url`, read in one snapshot."""
    with read_snapshot(url) as conn:
        return checksums(conn, metadata)
