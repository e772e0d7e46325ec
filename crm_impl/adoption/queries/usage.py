"""The read side of usage: the one frame of use per person, day and source, from both sources —
in-app use read from the audit log (the rule: `vocabulary.USE_ENTITIES`) and the imported usage
logs (`ActivityEvent`) — aggregated in SQL (a person-day row, never one row per event); the
people the figures are measured over; the import history; and `report` (every figure of
docs/adoption.md for `crm-impl report adoption` and the dashboard). Nothing here writes.

Days are UTC calendar days (the audit log's and the imported events' times are stored in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd
from sqlalchemy import String, Table, case, func, literal, select, union_all
from sqlmodel import Session

from crm_impl.adoption.metrics import usage as metrics
from crm_impl.adoption.models import ActivityEvent, UsageImport
from crm_impl.adoption.vocabulary import APP_SOURCE, USE_ENTITIES, WINDOW_DAYS
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount
from crm_impl.core.permissions import APP_ROLES

DAILY_COLUMNS = metrics.DAILY_COLUMNS
PEOPLE_COLUMNS = metrics.PEOPLE_COLUMNS


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.connection().execute(query).all(), columns=columns)


def _app_use(project_id: int | None) -> Any:
    """Audit entries that are use, per person, day: created, updated (everything but create)."""
    e, u = _table(AuditEntry), _table(UserAccount)
    day = func.date(e.c.at)
    created = func.sum(case((e.c.action == "create", 1), else_=0))
    query = (
        select(
            u.c.person_id.label("person_id"),
            day.label("day"),
            literal(APP_SOURCE, String).label("source"),
            created.label("created"),
            (func.count() - created).label("updated"),
        )
        .select_from(e.join(u, u.c.id == e.c.user_id))
        .where(e.c.entity.in_(USE_ENTITIES), u.c.person_id.is_not(None))
    )
    if project_id is not None:  # the pipeline's records belong to no project: they always count
        query = query.where((e.c.project_id.is_(None)) | (e.c.project_id == project_id))
    return query.group_by(u.c.person_id, day)


def _imported_use(project_id: int | None) -> Any:
    a = _table(ActivityEvent)
    day = func.date(a.c.at)
    created = func.sum(case((a.c.action == "create", 1), else_=0))
    query = select(
        a.c.person_id.label("person_id"),
        day.label("day"),
        a.c.source.label("source"),
        created.label("created"),
        (func.count() - created).label("updated"),
    )
    if project_id is not None:
        query = query.where(a.c.project_id == project_id)
    return query.group_by(a.c.person_id, day, a.c.source)


def daily(session: Session, project_id: int | None) -> pd.DataFrame:
    """person_id, day, source, created, updated: use per person, UTC day and source, in-app
    (source "app") and imported, one SQL aggregate. `project_id` None: every project's."""
    query = union_all(_app_use(project_id), _imported_use(project_id))
    df = _frame(session, query, DAILY_COLUMNS)
    df["person_id"] = df["person_id"].astype("int64")
    df["day"] = pd.to_datetime(df["day"])
    df["source"] = df["source"].astype(str)
    df["created"] = df["created"].astype("int64")
    df["updated"] = df["updated"].astype("int64")
    return df


def app_use_by_user(session: Session, user_ids: list[int] | None = None) -> pd.DataFrame:
    """user_id, day, actions: in-app use (the adoption rule) per user account and UTC day — what
    the training domain measures its effect with."""
    e = _table(AuditEntry)
    day = func.date(e.c.at)
    query = select(e.c.user_id, day.label("day"), func.count().label("actions")).where(
        e.c.entity.in_(USE_ENTITIES), e.c.user_id.is_not(None)
    )
    if user_ids is not None:
        query = query.where(e.c.user_id.in_(user_ids))
    df = _frame(session, query.group_by(e.c.user_id, day), ["user_id", "day", "actions"])
    df["day"] = pd.to_datetime(df["day"])
    df["user_id"] = df["user_id"].astype("Int64")
    df["actions"] = df["actions"].astype(int)
    return df


def people(session: Session) -> pd.DataFrame:
    """Every person: id, name, department, role (the first app role of their user account in
    `APP_ROLES` order, '' without one), licensed_user, active, start (the day their first user
    account was created; NaT without one)."""
    p, u = _table(Person), _table(UserAccount)
    persons = _frame(
        session,
        select(p.c.id, p.c.full_name, p.c.department, p.c.licensed_user, p.c.active).order_by(p.c.id),
        ["id", "name", "department", "licensed_user", "active"],
    )
    accounts = _frame(
        session,
        select(u.c.person_id, u.c.roles, u.c.created_at).where(u.c.person_id.is_not(None)).order_by(u.c.id),
        ["person_id", "roles", "created_at"],
    )
    order = {role: i for i, role in enumerate(APP_ROLES)}
    accounts["role"] = accounts["roles"].map(
        lambda roles: min(roles or [""], key=lambda r: order.get(r, len(order)))
    )
    accounts["start"] = pd.to_datetime(accounts["created_at"], utc=True).dt.tz_localize(None).dt.normalize()
    first = accounts.groupby("person_id").agg(role=("role", "first"), start=("start", "min"))
    df = persons.merge(first, left_on="id", right_index=True, how="left")
    df["role"] = df["role"].fillna("").astype(str)
    df["start"] = pd.to_datetime(df["start"])
    df["id"] = df["id"].astype("int64")
    df["licensed_user"] = df["licensed_user"].astype(bool)
    df["active"] = df["active"].astype(bool)
    return df[PEOPLE_COLUMNS].reset_index(drop=True)


IMPORT_COLUMNS = ["id", "source", "file_name", "imported_at", "imported_by", "added", "skipped_duplicates"]


def imports(session: Session, project_id: int) -> pd.DataFrame:
    """The project's imported usage logs, newest first."""
    i, u = _table(UsageImport), _table(UserAccount)
    query = (
        select(
            i.c.id,
            i.c.source,
            i.c.file_name,
            i.c.imported_at,
            func.coalesce(u.c.username, "").label("imported_by"),
            i.c.added,
            i.c.skipped_duplicates,
        )
        .select_from(i.outerjoin(u, u.c.id == i.c.imported_by_id))
        .where(i.c.project_id == project_id)
        .order_by(i.c.id.desc())
    )
    df = _frame(session, query, IMPORT_COLUMNS)
    df["imported_at"] = pd.to_datetime(df["imported_at"], utc=True)
    return df.astype({"added": "int64", "skipped_duplicates": "int64", "id": "int64"})


@dataclass(frozen=True)
class UsageFrames:
    go_live: date | None
    daily: pd.DataFrame
    people: pd.DataFrame


def load(session: Session, project_id: int) -> UsageFrames:
    project = session.get(Project, project_id)
    return UsageFrames(
        go_live=project.go_live_date if project else None,
        daily=daily(session, project_id),
        people=people(session),
    )


# ---- the report ------------------------------------------------------------------------------


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows: timestamps as dates, missing values as None."""
    out = df.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.date
    return cast(list[dict[str, Any]], out.astype(object).where(out.notna(), None).to_dict("records"))


def report_from_frames(frames: UsageFrames, today: date, window: int = WINDOW_DAYS) -> dict[str, Any]:
    """Every usage figure (docs/adoption.md) as JSON-ready data."""
    d, p = frames.daily, frames.people
    return {
        "go_live_date": frames.go_live,
        "today": today,
        "summary": metrics.summary(d, p, today, window=window),
        "by_department": _records(metrics.by_group(d, p, today, "department", window=window)),
        "by_role": _records(metrics.by_group(d, p, today, "role", window=window)),
        "by_source": _records(metrics.by_source(d, p, today, window=window)),
        "monthly": _records(metrics.monthly(d, p, frames.go_live, today)),
        "never_active": _records(metrics.never_active(d, p, today)),
    }


def report(session: Session, project_id: int, *, today: date | None = None) -> dict[str, Any]:
    """The usage half of `crm-impl report adoption --json`."""
    return report_from_frames(load(session, project_id), today or date.today())
