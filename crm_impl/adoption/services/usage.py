"""Writes of imported usage: open an imported log (`start_import`) and add its events
(`add_events`, one bulk insert per chunk). Called by the usage import
(`crm_impl.adoption.importing`), in the caller's transaction; permission `adoption.import`.

In-app use needs no write of its own: every service write already leaves one audit entry, and
the audit log is where in-app use is read from (`crm_impl.adoption.queries.usage`).

`rebuild_usage` recomputes the usage rollup from the audit log and the imported events (after
rows were written behind SQLAlchemy's back, e.g. a bulk load in raw SQL): `crm-impl adoption
rebuild-usage`, the administrator only (`adoption.import`), audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlmodel import Session

from crm_impl.adoption import rollup
from crm_impl.adoption.models import ActivityEvent, UsageImport
from crm_impl.adoption.vocabulary import USE_ACTIONS
from crm_impl.core import audit, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Project
from crm_impl.core.permissions import Actor, require

PERMISSION = "adoption.import"
EVENT_COLUMNS = ("person_id", "at", "action", "entity", "source", "fingerprint")
MAX_SOURCE = 60


def check_source(source: str) -> str:
    """The name of the system a log came from: required, at most 60 characters."""
    name = (source or "").strip()
    if not name:
        raise ValidationError("adoption.usage.error.source_required")
    if len(name) > MAX_SOURCE:
        raise ValidationError("adoption.usage.error.source_long", max=MAX_SOURCE)
    return name


def start_import(
    *, session: Session, actor: Actor, project_id: int, source: str, file_name: str = ""
) -> UsageImport:
    """Open one imported usage log of `source` for the project (audited)."""
    require(actor, PERMISSION)
    if session.get(Project, project_id) is None:
        raise ValidationError("adoption.usage.error.project")
    row = UsageImport(
        project_id=project_id,
        source=check_source(source),
        file_name=(file_name or "")[:255],
        imported_by_id=actor.id,
    )
    return writes.create(session=session, actor=actor, row=row, entity="usage_import", project_id=project_id)


def add_events(
    *,
    session: Session,
    actor: Actor,
    batch: UsageImport,
    columns: dict[str, list[Any]],
    skipped_duplicates: int = 0,
) -> int:
    """Insert the events of one chunk of an imported log (columns: EVENT_COLUMNS, `at` aware
    UTC datetimes, `action` one of USE_ACTIONS) in one bulk insert, and keep the log's counts.
    The unique fingerprint index refuses an event already imported. Returns the number added."""
    from crm_impl.importers.engine import insert_columns  # the engine's fast executemany

    require(actor, PERMISSION)
    missing = set(EVENT_COLUMNS) - set(columns)
    if missing:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(missing)))
    n = len(columns["person_id"])
    if any(len(columns[c]) != n for c in EVENT_COLUMNS):
        raise ValidationError("adoption.usage.error.columns")
    if not set(columns["action"]) <= set(USE_ACTIONS):
        raise ValidationError("adoption.usage.error.action", accepted=", ".join(USE_ACTIONS))
    if any(not isinstance(at, datetime) or at.utcoffset() is None for at in columns["at"]):
        raise ValidationError("adoption.usage.error.time")
    if n:
        table = cast(Table, cast(Any, ActivityEvent).__table__)
        conn = session.connection()
        before = rollup.last_event_id(conn, int(batch.id or 0))
        insert_columns(
            conn,
            table,
            {
                "project_id": [batch.project_id] * n,
                "import_id": [batch.id] * n,
                **{c: list(columns[c]) for c in EVENT_COLUMNS},
            },
        )
        rollup.fold_events(conn, int(batch.id or 0), before)  # the usage rollup, same transaction
    batch.added += n
    batch.skipped_duplicates = skipped_duplicates
    session.add(batch)
    writes.flush(session)
    return n


def rebuild_usage(*, session: Session, actor: Actor) -> int:
    """Recompute the whole usage rollup from the events, in the caller's transaction (audited);
    returns its rows. The administrator only: the permission of the usage imports."""
    require(actor, PERMISSION)
    rows = rollup.rebuild(session.connection())
    audit.record(
        session=session,
        actor=actor,
        entity="usage_rollup",
        entity_id="",
        action="rebuild",
        after={"rows": rows},
    )
    writes.flush(session)
    return rows


__all__ = ["EVENT_COLUMNS", "PERMISSION", "add_events", "check_source", "rebuild_usage", "start_import"]
