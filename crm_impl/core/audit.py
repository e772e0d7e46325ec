"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.core.config import local_tz
from crm_impl.core.models import AuditEntry, UserAccount, utcnow
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
    return entry


def data_version(*, session: Session) -> int:
    """A cheap number that changes with every write: the newest audit id."""
    return int(session.exec(select(func.max(AuditEntry.id))).one() or 0)


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
    query = select(AuditEntry).order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
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
    users = session.exec(select(UserAccount.username).order_by(UserAccount.username)).all()
    entities = session.exec(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).all()
    return list(users) + ["system"], list(entities)
