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
from urllib.parse import quote

import numpy as np
import pandas as pd
from sqlalchemy import String, Table, case, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_impl.adoption import rollup
from crm_impl.adoption.metrics import usage as metrics
from crm_impl.adoption.models import ActivityEvent, UsageDay, UsageImport
from crm_impl.adoption.vocabulary import APP_SOURCE, USE_ENTITIES, WINDOW_DAYS
from crm_impl.core import arrow
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount
from crm_impl.core.permissions import APP_ROLES

DAILY_COLUMNS = metrics.DAILY_COLUMNS
PEOPLE_COLUMNS = metrics.PEOPLE_COLUMNS


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    rows = session.connection().execute(query).all()
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)  # plain tuples: fast


def _app_rows(project_id: int | None) -> Any:
    """Audit entries that are use, one narrow row each: user_id, day (text), created (1/0)."""
    e = _table(AuditEntry)
    # `entity || ''`: the entries that are use are most of the log, so one sequential scan beats
    # a lookup per row through an index (SQLite would otherwise take one)
    query = select(
        e.c.user_id,
        sql_cast(func.date(e.c.at), String).label("day"),
        case((e.c.action == "create", 1), else_=0).label("created"),
    ).where((e.c.entity + literal("", String)).in_(USE_ENTITIES))
    if project_id is not None:  # the pipeline's records belong to no project: they always count
        query = query.where((e.c.project_id.is_(None)) | (e.c.project_id == project_id))
    return query


def _imported_rows(project_id: int | None) -> Any:
    a = _table(ActivityEvent)
    query = select(
        a.c.person_id,
        sql_cast(func.date(a.c.at), String).label("day"),
        a.c.source,
        case((a.c.action == "create", 1), else_=0).label("created"),
    )
    if project_id is not None:
        query = query.where(a.c.project_id == project_id)
    return query


def _arrow_target(session: Session) -> tuple[str, str] | None:
    """(driver, database) for a read-only ADBC connection to the session's database, or None:
    the session has a transaction of its own (its rows would be missed), an in-memory database,
    another backend."""
    if session.in_transaction():
        return None
    bind = session.get_bind()
    url = bind.url if isinstance(bind, Engine) else None
    if url is None:
        return None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return "sqlite", f"file:{quote(database)}?mode=ro"  # read-only: never creates a file
    if url.get_backend_name() == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


def _read(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    """The rows of `query`: an Arrow table through ADBC when the drivers are installed and the
    session holds no transaction (about three times faster than the cursor on a million rows),
    else through the session's cursor."""
    target = _arrow_target(session)
    if target is not None:
        try:
            if target[0] == "sqlite":
                import adbc_driver_sqlite.dbapi as adbc_sqlite

                connection = adbc_sqlite.connect(target[1])
            else:
                import adbc_driver_postgresql.dbapi as adbc_postgresql

                connection = adbc_postgresql.connect(target[1])
            dialect = session.get_bind().dialect
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            with connection, connection.cursor() as cursor:
                cursor.execute(sql)
                df = cursor.fetch_arrow_table().to_pandas()
            df.columns = columns
            return df
        except Exception:  # noqa: BLE001, S110 - drivers missing or a result they cannot read: the cursor reads
            pass
    return _frame(session, query, columns)


def _empty_daily() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": pd.Series([], dtype="int64"),
            "day": pd.Series([], dtype="datetime64[ns]"),
            "source": pd.Series([], dtype=object),
            "created": pd.Series([], dtype="int64"),
            "updated": pd.Series([], dtype="int64"),
        }
    )


def _rollup_sql(dialect: str, project_id: int | None) -> list[str]:
    """The rollup's in-app rows (user, epoch day, created, used) and imported rows (person,
    epoch day, source, created, used) of the project, as plain SQL (every column a number but
    the source)."""
    r = _table(UsageDay)
    day = rollup.epoch_day(r.c.day, dialect)
    app = select(r.c.subject_id, day, r.c.created, r.c.used).where(r.c.imported == False)  # noqa: E712
    imported = select(r.c.subject_id, day, r.c.source, r.c.created, r.c.used).where(r.c.imported == True)  # noqa: E712
    if project_id is not None:
        app = app.where(r.c.project_key.in_([0, project_id]))
        imported = imported.where(r.c.project_key == project_id)
    compiled = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return [str(q.compile(dialect=compiled, compile_kwargs={"literal_binds": True})) for q in (app, imported)]


def _cursor_columns(session: Session, sqls: list[str]) -> list[list[np.ndarray]]:
    out = []
    for sql in sqls:
        rows = session.connection().exec_driver_sql(sql).all()
        width = len(rows[0]) if rows else sql.count(",") + 1  # every query here selects plain columns
        out.append([np.asarray([r[i] for r in rows], dtype=object) for i in range(width)])
    return out


def _number(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.int64)


def _rollup_daily(session: Session, project_id: int | None) -> pd.DataFrame | None:
    """`daily` from the rollup, or None when the rollup does not count every use event."""
    dialect = session.get_bind().dialect.name
    sqls = [rollup.coverage_sql(dialect), *_rollup_sql(dialect, project_id)]
    where = arrow.target(session)
    coverage = arrow.columns(where, sqls[:1]) if where else None
    if coverage is None:
        where = None
        coverage = _cursor_columns(session, sqls[:1])
    if not rollup.covered([float(c[0]) for c in coverage[0]]):
        return None
    read = arrow.columns(where, sqls[1:]) if where else None
    app, imported = read if read is not None else _cursor_columns(session, sqls[1:])
    u = _table(UserAccount)
    owners = _frame(session, select(u.c.id, u.c.person_id).where(u.c.person_id.is_not(None)), ["id", "person"])
    users = owners["id"].to_numpy(dtype=np.int64)
    persons = owners["person"].to_numpy(dtype=np.int64)
    # in-app rows: the person of the acting user account (rows of accounts without one dropped)
    user = _number(app[0])
    order = np.argsort(users)
    pos = np.clip(np.searchsorted(users[order], user), 0, max(len(users) - 1, 0))
    known = users[order][pos] == user if len(users) else np.zeros(len(user), dtype=bool)
    app_person = persons[order][pos][known] if len(users) else np.zeros(0, dtype=np.int64)
    person = np.concatenate([app_person, _number(imported[0])])
    if len(person) == 0:
        return _empty_daily()
    day = np.concatenate([_number(app[1])[known], _number(imported[1])])
    s_code, s_names = pd.factorize(
        np.concatenate([np.full(int(known.sum()), APP_SOURCE, dtype=object), imported[2].astype(object)])
    )
    created = np.concatenate([_number(app[2])[known], _number(imported[3])])
    used = np.concatenate([_number(app[3])[known], _number(imported[4])])
    # one row per person, day and source (an account's rows of several projects, and several
    # accounts of one person, are added up): integer keys, numpy only
    p_code, p_names = pd.factorize(person)
    d0 = int(day.min())
    n_days, n_sources = int(day.max()) - d0 + 1, len(s_names)
    key = (p_code.astype(np.int64) * n_days + (day - d0)) * n_sources + s_code
    cells = len(p_names) * n_days * n_sources
    if cells <= 8 * len(key) + 1_000_000:  # dense enough: count into every cell, keep the used ones
        events = np.bincount(key, weights=used, minlength=cells)
        made = np.bincount(key, weights=created, minlength=cells)
        groups = np.flatnonzero(events)
        events, made = events[groups], made[groups]
    else:
        groups, inverse = np.unique(key, return_inverse=True)
        events = np.bincount(inverse, weights=used)
        made = np.bincount(inverse, weights=created)
    s_idx = groups % n_sources
    d_idx = (groups // n_sources) % n_days + d0
    p_idx = groups // (n_sources * n_days)
    made_i = made.astype(np.int64)
    return pd.DataFrame(
        {
            "person_id": np.asarray(p_names, dtype=np.int64)[p_idx],
            "day": (d_idx.astype(np.int64) * 86_400).astype("datetime64[s]").astype("datetime64[ns]"),
            "source": np.asarray(s_names, dtype=object)[s_idx],
            "created": made_i,
            "updated": events.astype(np.int64) - made_i,
        }
    )[DAILY_COLUMNS]


def daily(session: Session, project_id: int | None) -> pd.DataFrame:
    """person_id, day, source, created, updated: use per person, UTC day and source, in-app
    (source "app", by the person of the acting user account) and imported. Read from the usage
    rollup (`crm_impl.adoption.rollup`: one row per subject and day, thousands of rows where the
    events are millions) when it counts every use event, else from the events (`events_daily`,
    the same frame). `project_id` None: every project's."""
    found = _rollup_daily(session, project_id)
    return events_daily(session, project_id) if found is None else found


def events_daily(session: Session, project_id: int | None) -> pd.DataFrame:
    """`daily` computed from the events themselves (every use entry of the audit log and every
    imported event read and aggregated): what the rollup is checked against, and the read
    when the rollup does not cover the events."""
    app = _read(session, _app_rows(project_id), ["user_id", "day", "created"])
    imported = _read(session, _imported_rows(project_id), ["person_id", "day", "source", "created"])
    u = _table(UserAccount)
    owners = _frame(
        session, select(u.c.id, u.c.person_id).where(u.c.person_id.is_not(None)), ["id", "person"]
    )
    person = pd.Series(owners["person"].to_numpy(), index=owners["id"].to_numpy())
    app = app.assign(person_id=app["user_id"].map(person), source=APP_SOURCE).dropna(subset=["person_id"])
    parts = [part for part in (app[["person_id", "day", "source", "created"]], imported) if len(part)]
    if not parts:
        return _empty_daily()
    rows = pd.concat(parts, ignore_index=True)
    # group by integer codes (numpy), not by the text of the keys: seconds, not minutes, for millions
    p_code, p_names = pd.factorize(rows["person_id"].astype("int64"))
    d_code, d_names = pd.factorize(rows["day"].astype(str).str.slice(0, 10))
    s_code, s_names = pd.factorize(rows["source"].astype(str))
    key = (p_code.astype(np.int64) * len(d_names) + d_code) * len(s_names) + s_code
    groups, inverse = np.unique(key, return_inverse=True)
    events = np.bincount(inverse)
    created = np.bincount(inverse, weights=rows["created"].to_numpy(dtype=np.float64)).astype(np.int64)
    s_idx = groups % len(s_names)
    d_idx = (groups // len(s_names)) % len(d_names)
    p_idx = groups // (len(s_names) * len(d_names))
    return pd.DataFrame(
        {
            "person_id": np.asarray(p_names, dtype=np.int64)[p_idx],
            "day": pd.to_datetime(pd.Index(d_names)[d_idx], format="%Y-%m-%d"),
            "source": np.asarray(s_names, dtype=object)[s_idx],
            "created": created,
            "updated": events - created,
        }
    )[DAILY_COLUMNS]


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
    use = daily(session, project_id)  # first: before this session opens a transaction (Arrow read)
    project = session.get(Project, project_id)
    return UsageFrames(go_live=project.go_live_date if project else None, daily=use, people=people(session))


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
