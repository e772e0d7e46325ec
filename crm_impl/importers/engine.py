"""The shared import engine: one call = one run of one registered entity.

`require(permission)` -> check the mapping's options -> read the file in chunks -> clean and
validate each chunk vectorised -> hand the cleaned chunk to the entity's handler (registered by
its domain's `importing.py`, see `crm_impl.importers.registry`), which resolves references and
*queues* the writes of its valid rows (`Run.later`) -> after the whole file is checked, the
queued writes run one after the other, then the audit: one entry per changed existing row
(before/after of the changed fields, one bulk insert) and one entry with the run's counts.

Two phases, so the write lock is short: while the file is read and checked nothing is written
(on SQLite no write lock is taken, on PostgreSQL no row is locked); the prepared rows wait in a
temporary file (`_Spool`, pickled chunk by chunk, so a million rows do not sit in memory), and
only the final phase writes, with bulk inserts. The caller owns the transaction: a dry run
writes nothing, a strict run writes nothing when any row is bad, and a run is all-or-nothing
(the caller commits once at the end; a row changed by someone else between the phases is a
translated conflict, a row someone else inserted meanwhile a translated "changed meanwhile").

This package imports no domain: it knows fields, files and rows, not deals.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from crm_impl.core import audit
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import get_locale
from crm_impl.core.models import AuditEntry, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.core.writes import stale_as_conflict
from crm_impl.importers import mapping as mapping_mod
from crm_impl.importers import registry
from crm_impl.importers.cleaning import Cleaned, ErrorSink, FieldSpec, clean, suggest
from crm_impl.importers.mapping import Mapping
from crm_impl.importers.reading import Input, Source, open_source
from crm_impl.importers.registry import fields
from crm_impl.importers.report import ImportReport, RowError

Progress = Callable[[int, int], None]
C = TypeVar("C")
P = TypeVar("P")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class _Spool:
    """Queued writes: the callables in memory, their payloads pickled to an anonymous temporary
    file (deleted when closed, or by the OS when the process dies)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._writes: list[Callable[[Any], None]] = []

    def __len__(self) -> int:
        return len(self._writes)

    def add(self, write: Callable[[Any], None], payload: Any) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="crm-impl-import-")  # noqa: SIM115 - closed by close()
        pickle.dump(payload, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._writes.append(write)

    def replay(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        for write in self._writes:
            write(pickle.load(self._file))  # noqa: S301 - our own file, written just now

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writes = []


def resolve_columns(entity: str, header: list[str], mapping: Mapping) -> dict[str, str]:
    """field -> source column: the mapping's choice, else a column named like the field.
    Raises when a required field has no column or a mapped column is not in the file."""
    em = mapping.for_entity(entity)
    lower = {h.lower(): h for h in header}
    sources: dict[str, str] = {}
    missing: list[str] = []
    for spec in fields(entity):
        chosen = em.columns.get(spec.name, "")
        if chosen:
            if chosen not in header:
                missing.append(chosen)
                continue
            sources[spec.name] = chosen
        elif spec.name in lower:
            sources[spec.name] = lower[spec.name]
        elif spec.required:
            missing.append(spec.name)
    if missing:
        raise ValidationError(
            "imports.error.missing_columns", columns=", ".join(missing), found=", ".join(header)
        )
    return sources


class Run(Generic[C]):
    """State of one pass over the file, shared by the entity's handler calls (one per chunk)."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        entity: str,
        mapping: Mapping,
        report: ImportReport,
        sources: dict[str, str],
        lookups: C,
    ) -> None:
        self.session = session
        self.actor = actor
        self.entity = entity
        self.mapping = mapping
        self.report = report
        self.sources = sources  # field -> source column
        self.lookups = lookups  # the entity's known values, built once per pass
        self.seen: dict[str, int] = {}  # key -> first line, for duplicates inside the file
        self.audit: dict[str, Any] = {}  # extra facts for the run's audit entry
        self.history: list[dict[str, Any]] = []  # audit rows of changed existing rows
        self._spool = _Spool()
        self._suggestions: dict[tuple[str, str], str | None] = {}

    def later(self, write: Callable[[P], None], payload: P) -> None:
        """Queue a write: `write(payload)` runs after the whole file is checked (only when the
        run writes). The payload (plain data, frames; no ORM objects) waits in a temporary
        file; `write` may use the run's session and lookups."""
        self._spool.add(cast(Callable[[Any], None], write), payload)

    def changed(self, entity: str, entity_id: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Keep the before/after of an existing row the import changes (called while writing);
        the audit rows are inserted together at the end."""
        keys = sorted(k for k in after if before.get(k) != after.get(k))
        if not keys:
            return
        self.history.append(
            {
                "entity": entity,
                "entity_id": str(entity_id),
                "before": {k: _jsonable(before.get(k)) for k in keys},
                "after": {k: _jsonable(after.get(k)) for k in keys},
            }
        )

    def option(self, name: str) -> Any:
        return self.mapping.option(self.entity, name)

    def resolve(
        self,
        c: Cleaned,
        field: str,
        known: dict[str, Any],
        choices: list[str],
        what: str,
        *,
        allow_unknown: bool = False,
    ) -> pd.Series:
        """Map cleaned text to ids; unknown non-empty values become errors with a suggestion."""
        values = c.values.get(field)
        if values is None:
            return pd.Series(None, index=c.sink.bad.index, dtype=object)
        ids = values.str.lower().map(known)
        unknown = (values != "") & ids.isna()
        if unknown.any() and not allow_unknown:
            suggestions = {}
            for value in values[unknown].unique():
                key = (what, value)
                if key not in self._suggestions:
                    self._suggestions[key] = suggest(value, choices)
                suggestions[value] = self._suggestions[key]
            column = self.sources[field]
            c.sink.flag(unknown, column, "imports.error.unknown_ref", values, suggestions, what=what)
        return ids

    def duplicates(self, c: Cleaned, keys: pd.Series, column: str) -> None:
        """Flag a key seen earlier in the file (keys: lower-case text, '' = no key)."""
        lines = c.sink.lines
        dup_in_chunk = keys.duplicated() & (keys != "")
        first_seen = keys.map(self.seen)
        earlier = first_seen.notna() | dup_in_chunk
        if earlier.any():
            firsts = keys.map(dict(zip(keys[::-1], lines[::-1], strict=True)))
            first = first_seen.fillna(firsts)
            for idx in earlier[earlier].index:
                c.sink.flag(
                    pd.Series(c.sink.bad.index == idx, index=c.sink.bad.index),
                    column,
                    "imports.error.duplicate_in_file",
                    keys,
                    first=int(first[idx]),
                )
        fresh = (keys != "") & ~earlier
        self.seen.update(zip(keys[fresh], lines[fresh], strict=True))

    def count(self, name: str, n: int = 1) -> None:
        """Add to one of the report's extra counters (e.g. "stage_changes")."""
        self.report.extra[name] = self.report.extra.get(name, 0) + n


# column name -> one value per row (all equally long): a list, or for a timestamp column a pandas
# Series of aware datetimes, which `insert_columns` converts for the driver in one vectorised step
Columns = dict[str, Any]


def _timestamps(values: pd.Series, column_type: Any, dialect: Any) -> list[Any]:
    """An aware datetime Series as the driver takes it. SQLite stores a DateTime as the text
    SQLAlchemy writes ("YYYY-MM-DD HH:MM:SS.ffffff", UTC): formatted by numpy in one pass, where
    the per-value bind processors cost a tenth of a 100,000-row import, all of it while the
    import holds the write lock. Other databases get Python datetimes through the column's own
    bind processing."""
    if values.dt.tz is None:
        raise ValueError("timestamps for the database must be timezone-aware")
    utc = values.dt.tz_convert("UTC")
    if dialect.name == "sqlite":
        text = np.datetime_as_string(utc.dt.tz_localize(None).to_numpy().astype("datetime64[us]"), unit="us")
        text = np.char.replace(text, "T", " ")
        return [None if missing else v for v, missing in zip(text.tolist(), utc.isna().tolist(), strict=True)]
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    py = [None if v is pd.NaT else v for v in utc.dt.to_pydatetime().tolist()] if len(utc) else []
    return [process(v) for v in py] if process else py


def _py_values(values: Any) -> list[Any]:
    if isinstance(values, pd.Series):
        return [None if v is pd.NaT else v for v in values.dt.to_pydatetime().tolist()] if len(values) else []
    return list(values)


def insert_columns(conn: Connection, table: Table, columns: Columns) -> None:
    """One executemany of `columns` into `table`. The values are converted column by column by
    the columns' own SQLAlchemy types (so they are stored exactly as an ORM or Core insert
    stores them) and handed to the driver as plain tuples: SQLAlchemy's per-row parameter
    handling, most of a bulk insert's time, is skipped. A table with Python-side defaults for
    columns not given falls back to a Core executemany."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    if set(compiled.binds) - set(names):  # defaults SQLAlchemy would fill in per row
        plain = {k: _py_values(v) for k, v in columns.items()}
        rows = zip(*plain.values(), strict=True)
        conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    converted: Columns = {}
    for name in names:
        values = columns[name]
        if isinstance(values, pd.Series):
            converted[name] = _timestamps(values, table.c[name].type, dialect)
            continue
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        converted[name] = [process(v) for v in values] if process else values
    params: list[Any]
    if compiled.positional:
        order = [converted[name] for name in compiled.positiontup or []]
        params = list(zip(*order, strict=True))
    else:
        params = [dict(zip(names, row, strict=True)) for row in zip(*converted.values(), strict=True)]
    conn.exec_driver_sql(str(compiled), params)


def reserve_ids(conn: Connection, table: Table, columns: Columns) -> list[int]:
    """Insert `columns` with ids reserved up front, so one executemany does it (RETURNING in
    row order would fall back to one statement per row on SQLite). PostgreSQL: ids from the
    sequence. SQLite: the first row's insert takes the write lock, so no one else can insert
    until commit and the following ids are free. Returns the ids in row order."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        ids = [
            int(i)
            for i in conn.execute(
                text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                {"s": seq, "n": n},
            ).scalars()
        ]
        insert_columns(conn, table, {"id": ids, **columns})
        return ids
    first_row = {name: _py_values(columns[name][:1])[0] for name in names}
    first = int(conn.execute(insert(table).returning(table.c.id), [first_row]).scalar_one())
    ids = list(range(first, first + n))
    insert_columns(conn, table, {"id": ids[1:], **{name: columns[name][1:] for name in names}})
    return ids


def insert_with_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """`reserve_ids` for rows given as dicts (all with the same keys)."""
    if not rows:
        return []
    return reserve_ids(conn, table, {name: [row[name] for row in rows] for name in rows[0]})


def inspect_file(data: Input, *, mapping: Mapping | None = None, entity: str = "deals") -> Source:
    """How the file will be read (format, encoding, delimiter, columns) — no permission needed,
    nothing read from the database. Raises a translated ValidationError naming the option when
    the mapping's reading options are not usable."""
    mapping = mapping or Mapping()
    mapping_mod.check_options(mapping, entity)
    return open_source(
        data,
        encoding=mapping.option(entity, "encoding"),
        delimiter=mapping.option(entity, "delimiter"),
        sheet=mapping.option(entity, "sheet") or None,
    )


def run_import(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    data: Input,
    mapping: Mapping | None = None,
    dry_run: bool = True,
    strict: bool = False,
    progress: Progress | None = None,
    filename: str = "",
    chunk_size: int = 5000,
) -> ImportReport:
    """Import one file. Dry run (default): check everything, write nothing. Commit: write every
    valid row; strict: write nothing unless every row is valid. Every row is checked before
    the first write. Flushes, never commits."""
    require(actor, "import.run")
    spec = registry.get(entity)
    if spec.permission != "import.run":
        require(actor, spec.permission)
    mapping = mapping or Mapping()
    source = inspect_file(data, mapping=mapping, entity=entity)
    report = ImportReport(
        entity=entity,
        file_format=source.file_format,
        encoding=source.encoding,
        delimiter=source.delimiter,
        dry_run=dry_run,
        strict=strict,
    )
    sources = resolve_columns(entity, source.header, mapping)
    run: Run[Any] = Run(session, actor, entity, mapping, report, sources, spec.lookups(session))
    try:
        # phase 1: read and check every row, queue the writes (nothing written yet)
        _pass(run, spec, source, spec.deferred and not dry_run, progress, chunk_size)
        if dry_run:
            return report
        if strict and report.error_count:  # refused: the report says nothing was written
            report.created = report.updated = report.skipped = 0
            return report
        if not spec.deferred:  # a handler that writes itself: a second pass over the checked file
            report.created = report.updated = report.skipped = report.valid_rows = 0
            report.total_rows = report.error_count = report.errors_left_out = 0
            report.errors, report.extra = [], {}
            run = Run(session, actor, entity, mapping, report, sources, spec.lookups(session))
            _pass(run, spec, source, True, progress, chunk_size)
        # phase 2: the only part that writes (and on SQLite holds the write lock until commit)
        _write(run, filename, strict)
    finally:
        run._spool.close()
    report.written = True
    return report


def _write(run: Run[Any], filename: str, strict: bool) -> None:
    session, report = run.session, run.report
    try:
        with stale_as_conflict():
            run._spool.replay()
            session.flush()
    except IntegrityError as err:  # a row inserted by someone else between the phases
        raise ValidationError("imports.error.changed_meanwhile") from err
    if run.history:
        now = utcnow()
        entries = [
            {
                "at": now,
                "user_id": run.actor.id,
                "username": run.actor.username,
                "project_id": None,
                "action": "update",
                **row,
            }
            for row in run.history
        ]
        session.connection().execute(insert(cast(Table, cast(Any, AuditEntry).__table__)), entries)
    audit.record(
        session=session,
        actor=run.actor,
        entity="import",
        entity_id=run.entity,
        action="import",
        after={
            "file": Path(filename).name if filename else "",
            "format": report.file_format,
            "rows": report.total_rows,
            "created": report.created,
            "updated": report.updated,
            "skipped": report.skipped,
            "rejected": report.rejected,
            "strict": strict,
            "history_entries": len(run.history),
            **report.extra,
            **run.audit,
        },
    )
    session.flush()


def _pass(
    run: Run[Any],
    spec: registry.EntitySpec[Any],
    source: Source,
    write: bool,
    progress: Progress | None,
    chunk_size: int,
) -> None:
    report, em = run.report, run.mapping.for_entity(run.entity)
    specs = list(spec.fields)
    used = sorted(set(run.sources.values()))
    positions = [source.header.index(col) for col in used]
    null_values = [str(v) for v in run.option("null_values") or []]
    decimal = str(run.option("decimal") or "auto")
    date_format = str(run.option("date_format") or "auto")
    locale = str(run.option("locale") or get_locale())  # decides an ambiguous "1,234"
    for chunk in source.chunks(chunk_size):
        for err in chunk.errors:
            report.add(err)
        report.error_count += len(chunk.errors)
        report.total_rows += len(chunk.rows) + len(chunk.errors)
        if chunk.rows:
            df = pd.DataFrame([[row[p] for p in positions] for row in chunk.rows], columns=used, dtype=object)
            cleaned = clean(
                df,
                chunk.lines,
                specs,
                run.sources,
                em.values,
                null_values=null_values,
                decimal=decimal,
                date_format=date_format,
                locale=locale,
            )
            spec.handler(run, cleaned, write)
            bad = cleaned.sink.bad
            report.error_count += int(bad.sum())
            report.valid_rows += int((~bad).sum())
            for err in cleaned.sink.errors:
                report.add(err)
        if progress:
            progress(report.total_rows, max(source.total_rows, report.total_rows))


def load_mapping(text_or_path: str | Path) -> Mapping:
    if isinstance(text_or_path, Path):
        return mapping_mod.load(text_or_path)
    return mapping_mod.loads(text_or_path)


__all__ = [
    "Cleaned",
    "ErrorSink",
    "FieldSpec",
    "ImportReport",
    "Run",
    "RowError",
    "fields",
    "insert_columns",
    "insert_with_ids",
    "reserve_ids",
    "inspect_file",
    "load_mapping",
    "resolve_columns",
    "run_import",
]
