"""Writing and reading the audit log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel, col, select

from crm_impl.core.config import local_tz
from crm_impl.core.i18n import has_key, t
from crm_impl.core.models import AuditEntry, DataVersion, UserAccount, utcnow
from crm_impl.core.permissions import Actor, require

_SECRET_FIELDS = {"password_hash"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: SQLModel | None, fields: list[str] | None = None) -> dict[str, Any] | None:
    """A JSON-safe copy of a row's columns, secrets left out."""
    if obj is None:
        return None
    data = obj.model_dump()
    keys = fields or [k for k in data if k not in _SECRET_FIELDS]
    return {k: _jsonable(data.get(k)) for k in keys}


def record(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: Any,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    project_id: int | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; only changed keys are kept for updates."""
    if before and after:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after.get(k) for k in sorted(changed)}
    entry = AuditEntry(
        at=utcnow(),
        user_id=actor.id,
        username=actor.username,
        project_id=project_id,
        entity=entity,
        entity_id=str(entity_id if entity_id is not None else ""),
        action=action,
        before=before,
        after=after,
    )
    session.add(entry)
    session.info[_WROTE] = True  # the data version is raised once, at commit (see below)
    return entry


def data_version(*, session: Session) -> int:
    """A cheap number that changes with every committed write: the counter every committing
    write transaction raises by one. (Not the newest audit id: on PostgreSQL a transaction
    holding a lower id can commit after one holding a higher id, and the maximum stays put.)"""
    return int(session.exec(select(DataVersion.n).where(col(DataVersion.id) == 1)).first() or 0)


_WROTE = "crm_impl.audit.wrote"  # session.info flag: this transaction recorded an audit entry


def _raise_data_version(session: OrmSession) -> None:
    """One statement that adds 1 to the counter row (creating it if it is missing)."""
    conn = session.connection()
    key, n = col(DataVersion.id), col(DataVersion.n)
    new: Any
    if conn.dialect.name == "postgresql":
        new = pg_insert(DataVersion).values(id=1, n=1)
    elif conn.dialect.name == "sqlite":
        new = sqlite_insert(DataVersion).values(id=1, n=1)
    else:  # pragma: no cover - the app runs on PostgreSQL and SQLite
        conn.execute(update(DataVersion).where(key == 1).values(n=n + 1))
        return
    conn.execute(new.on_conflict_do_update(index_elements=[key], set_={"n": n + 1}))


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    """Every write records an audit entry, so a transaction that recorded one raises the data
    version once, as its last statement before COMMIT: its own row locks are all taken by then
    (flushed first), so the counter row's lock is held only for the commit itself and the
    transaction holding it never waits for another lock (no deadlock through the counter)."""
    if not session.info.get(_WROTE):
        return
    if not session.in_nested_transaction():  # a savepoint's commit may still be rolled back
        session.info.pop(_WROTE)
    session.flush()
    _raise_data_version(session)


@event.listens_for(OrmSession, "after_transaction_end")
def _after_transaction_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed or rolled back: the next transaction starts clean
        session.info.pop(_WROTE, None)


def list_entries(
    *,
    session: Session,
    actor: Actor,
    username: str | None = None,
    entity: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 5000,
) -> pd.DataFrame:
    require(actor, "audit.read")
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc())
    if username:
        query = query.where(AuditEntry.username == username)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if since:
        query = query.where(AuditEntry.at >= datetime.combine(since, time.min, local_tz()))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, local_tz())
        query = query.where(AuditEntry.at < end)
    rows = session.exec(query.limit(limit)).all()
    columns = ["id", "at", "username", "entity", "entity_id", "action", "before", "after"]
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def audit_filters(*, session: Session, actor: Actor) -> tuple[list[str], list[str]]:
    """Usernames and entity names that occur in the log, for filter pickers."""
    require(actor, "audit.read")
    users = session.exec(select(UserAccount.username).order_by(col(UserAccount.username))).all()
    entities = session.exec(select(AuditEntry.entity).distinct().order_by(col(AuditEntry.entity))).all()
    return list(users) + ["system"], list(entities)


# --- how an entry reads on screen: names, not keys; "field: old → new", not JSON ---------------

_HIDDEN_FIELDS = {"version", "updated_at", "password_hash"}
_FIELD_KEYS = ("field.{}", "pipeline.field.{}", "plan.field.{}", "audit.field.{}", "defects.field.{}")
_VALUE_KEYS = ("plan.{entity}_{field}.{value}", "plan.{field}.{value}", "pipeline.{field}.{value}")
NameLookups = Mapping[str, Mapping[Any, str]]


def _humanize(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def entity_label(entity: str) -> str:
    key = f"audit.entity.{entity}"
    return t(key) if has_key(key) else _humanize(entity)


def action_label(action: str) -> str:
    key = f"audit.action.{action}"
    return t(key) if has_key(key) else _humanize(action)


def field_label(field: str) -> str:
    for name in (field, field.removesuffix("_id")):
        for pattern in _FIELD_KEYS:
            if has_key(pattern.format(name)):
                return t(pattern.format(name))
    return _humanize(field.removesuffix("_id"))


def value_label(entity: str, field: str, value: Any, names: NameLookups | None = None) -> str:
    """A recorded value as people read it: a name for an id (where the page can look it up
    cheaply), the translated word for an enum value, yes/no, a dash for nothing."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return t("audit.yes") if value else t("audit.no")
    lookup = (names or {}).get(field)
    if lookup is not None:
        for candidate in (value, str(value)):
            if candidate in lookup:
                return str(lookup[candidate])
        return f"#{value}"
    if isinstance(value, list | tuple):
        return ", ".join(value_label(entity, field, v, names) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        for pattern in _VALUE_KEYS:
            key = pattern.format(entity=entity, field=field, value=value)
            if has_key(key):
                return t(key)
        return value if len(value) <= 80 else value[:79] + "…"
    return str(value)


def describe_change(
    entity: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    names: NameLookups | None = None,
) -> str:
    """`Stage: Qualification → Proposal; Value: 1000 → 1500` (created: the new values only;
    deleted: the old values only)."""
    before, after = before or {}, after or {}
    parts = []
    for field in [*after, *(k for k in before if k not in after)]:
        if field in _HIDDEN_FIELDS:
            continue
        label = field_label(field)
        new = value_label(entity, field, after.get(field), names)
        if field in before and field in after:
            parts.append(f"{label}: {value_label(entity, field, before.get(field), names)} → {new}")
        elif field in after:
            parts.append(f"{label}: {new}")
        else:
            parts.append(f"{label}: {value_label(entity, field, before.get(field), names)} → –")
    return "; ".join(parts)


def readable_entries(entries: pd.DataFrame, names: NameLookups | None = None) -> pd.DataFrame:
    """`list_entries` for the screen and its CSV: translated entity and action names and one
    readable "changes" column instead of the before/after JSON."""
    rows = entries.to_dict("records")
    return pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "at": [r["at"] for r in rows],
            "username": [r["username"] for r in rows],
            "entity": [entity_label(str(r["entity"])) for r in rows],
            "entity_id": [r["entity_id"] for r in rows],
            "action": [action_label(str(r["action"])) for r in rows],
            "changes": [describe_change(str(r["entity"]), r["before"], r["after"], names) for r in rows],
        },
        columns=["id", "at", "username", "entity", "entity_id", "action", "changes"],
    )
