"""The usage rollup (`models.UsageDay`): use per source, subject and UTC day, kept in the same
transaction as the events it counts, so the usage figures read one row per person and day
instead of every event (docs/adoption.md "Speed").

- In-app use: a listener on every SQLAlchemy INSERT into the audit log (the ORM's flush of
  `audit.record`, and the import engine's bulk history insert alike) adds each entry that is use
  (`vocabulary.USE_ENTITIES`) to its row with one upsert on the same connection, so the rollup
  commits or rolls back with the entries. The entry's day is computed by the database from the
  same bound value the entry is stored from, so it is the day the audit log says.
- Imported use: `fold_events` adds the events of one imported chunk (`services.usage.add_events`).
- `rebuild` recomputes the whole rollup from the events (the migration that adds the table,
  and anything that wrote events behind SQLAlchemy's back, such as a bulk load in raw SQL:
  `crm-impl adoption rebuild-usage`, `services.usage.rebuild_usage`).
- The listener is registered when this module is imported (`models` imports it, and
  `crm_impl.tables`, which app.py and the CLI import before anything else): a process that
  wrote audit entries without it would leave the rollup behind (the reads would then fall back
  to the events until a rebuild).
- `covered` says whether the rollup counts every use event (the reads fall back to the events
  when it does not, so a figure is never computed from a stale rollup).

Days are UTC calendar days, as in `queries.usage`.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, event, func, literal, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Insert

from crm_impl.adoption.models import ActivityEvent, UsageDay
from crm_impl.adoption.vocabulary import APP_SOURCE, USE_ENTITIES
from crm_impl.core.models import AuditEntry

AUDIT = cast(Table, cast(Any, AuditEntry).__table__)
EVENTS = cast(Table, cast(Any, ActivityEvent).__table__)
ROLLUP = cast(Table, cast(Any, UsageDay).__table__)
KEY = ["imported", "project_key", "source", "subject_id", "day"]
_USE = frozenset(USE_ENTITIES)


def utc_day(expr: Any, dialect: str) -> Any:
    """The UTC calendar day of a stored (or bound) audit/event time, as the database computes it."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", expr))
    return func.date(expr)


def epoch_day(expr: Any, dialect: str) -> Any:
    """A date column as days since 1970-01-01 (an integer every driver reads as a number)."""
    if dialect == "postgresql":
        return expr - literal("1970-01-01").cast(ROLLUP.c.day.type)
    return func.cast(func.julianday(expr) - 2440587.5, ROLLUP.c.id.type)


def _upsert(dialect: str) -> Any:
    if dialect == "postgresql":
        return pg_insert(ROLLUP)
    if dialect == "sqlite":
        return sqlite_insert(ROLLUP)
    raise NotImplementedError(dialect)  # pragma: no cover - the app runs on PostgreSQL and SQLite


def _adding(stmt: Any) -> Any:
    """On a row that is already there: add the new counts to it."""
    return stmt.on_conflict_do_update(
        index_elements=KEY,
        set_={
            "created": ROLLUP.c.created + stmt.excluded.created,
            "used": ROLLUP.c.used + stmt.excluded.used,
        },
    )


def _entry_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rollup's parameters for the inserted audit entries that are use."""
    out = []
    for row in rows:
        if row.get("entity") not in _USE:
            continue
        out.append(
            {
                "k_project": row.get("project_id") or 0,
                "k_subject": row.get("user_id") or 0,
                "k_at": row.get("at"),
                "k_created": 1 if row.get("action") == "create" else 0,
            }
        )
    return out


def fold_entries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add audit entries (their column values, as inserted) to the rollup."""
    params = _entry_rows(rows)
    if not params:
        return
    dialect = conn.dialect.name
    stmt = _upsert(dialect).values(
        imported=False,
        project_key=bindparam("k_project"),
        source=APP_SOURCE,
        subject_id=bindparam("k_subject"),
        day=utc_day(bindparam("k_at", type_=AUDIT.c.at.type), dialect),
        created=bindparam("k_created"),
        used=1,
    )
    conn.execute(_adding(stmt), params)


@event.listens_for(Engine, "after_execute")
def _after_execute(
    conn: Connection, clauseelement: Any, multiparams: Any, params: Any, options: Any, result: Any
) -> None:
    """Every INSERT into the audit log through SQLAlchemy: its use entries into the rollup."""
    if not isinstance(clauseelement, Insert) or clauseelement.table is not AUDIT:
        return
    if options.get("verbatim"):  # a restore copies the rollup's own rows (core.backup.VERBATIM)
        return
    context = getattr(result, "context", None)
    rows = getattr(context, "compiled_parameters", None) or []  # defaults filled in, per row
    fold_entries(conn, [dict(r) for r in rows])


def _events_select(where: Any, dialect: str) -> Any:
    e = EVENTS
    day = utc_day(e.c.at, dialect)
    return (
        select(
            true(),
            e.c.project_id,
            e.c.source,
            e.c.person_id,
            day,
            func.sum(case((e.c.action == "create", 1), else_=0)),
            func.count(),
        )
        .where(where)
        .group_by(e.c.project_id, e.c.source, e.c.person_id, day)
    )


def _entries_select(dialect: str) -> Any:
    a = AUDIT
    day = utc_day(a.c.at, dialect)
    project = func.coalesce(a.c.project_id, 0)
    subject = func.coalesce(a.c.user_id, 0)
    return (
        select(
            literal(False),
            project,
            literal(APP_SOURCE),
            subject,
            day,
            func.sum(case((a.c.action == "create", 1), else_=0)),
            func.count(),
        )
        .where(a.c.entity.in_(USE_ENTITIES))
        .group_by(project, subject, day)
    )


COLUMNS = [*KEY, "created", "used"]


def fold_events(conn: Connection, import_id: int, after_id: int) -> None:
    """Add the events of imported log `import_id` with ids above `after_id` (one chunk just
    inserted in this transaction) to the rollup."""
    dialect = conn.dialect.name
    where = (EVENTS.c.import_id == import_id) & (EVENTS.c.id > after_id)
    conn.execute(_adding(_upsert(dialect).from_select(COLUMNS, _events_select(where, dialect))))


def last_event_id(conn: Connection, import_id: int) -> int:
    """The highest id of an imported log's events so far (0 for none)."""
    query = select(func.coalesce(func.max(EVENTS.c.id), 0)).where(EVENTS.c.import_id == import_id)
    return int(conn.execute(query).scalar_one())


def rebuild(conn: Connection) -> int:
    """The whole rollup recomputed from the audit log and the imported events; returns its rows."""
    dialect = conn.dialect.name
    if dialect == "postgresql":  # concurrent writers wait (their upserts would be counted twice)
        conn.execute(text(f"LOCK TABLE {ROLLUP.name} IN EXCLUSIVE MODE"))
    conn.execute(delete(ROLLUP))
    conn.execute(_upsert(dialect).from_select(COLUMNS, _entries_select(dialect)))
    conn.execute(_upsert(dialect).from_select(COLUMNS, _events_select(true(), dialect)))
    return int(conn.execute(select(func.count()).select_from(ROLLUP)).scalar_one())


def events_sql(dialect: str) -> str:
    """One row: the use entries of the audit log and the imported events (every one of which is
    use), to hold against the rollup's in-app and imported `used` sums (`covered`)."""
    from sqlalchemy.dialects import postgresql, sqlite

    query = select(
        select(func.count()).select_from(AUDIT).where(AUDIT.c.entity.in_(USE_ENTITIES)).scalar_subquery(),
        select(func.count()).select_from(EVENTS).scalar_subquery(),
    )
    compiled = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return str(query.compile(dialect=compiled, compile_kwargs={"literal_binds": True}))


def covered(events: list[float], sums: list[float]) -> bool:
    """Does the rollup count every use event? `events`: `events_sql`'s row; `sums`: the rollup's
    `used` added up over its in-app rows and over its imported rows."""
    return [int(x) for x in events] == [int(x) for x in sums]


__all__ = ["covered", "events_sql", "epoch_day", "fold_entries", "fold_events", "rebuild", "utc_day"]
