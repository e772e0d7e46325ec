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

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Integer, String, Table, case, func, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
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
    """Where ADBC may read the session's database (`core.arrow.target`: PostgreSQL only, and
    only with no transaction of its own)."""
    return arrow.target(session)


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


# The rollup is read in one scan of its rows packed into three integers each (the driver then
# hands over three number columns instead of six): subject and day as
# subject · 2^20 + (epoch day + 2^19), the counts as used · 2^32 + created, the project and the
# kind as project · 2 + imported; and the source.
_DAY_BITS, _DAY_BIAS, _COUNT_BITS = 20, 1 << 19, 32


def _rollup_sql(dialect: str) -> str:
    r = _table(UsageDay)
    day = rollup.epoch_day(r.c.day, dialect)
    query = select(
        sql_cast(r.c.subject_id, BigInteger) * (1 << _DAY_BITS) + (day + _DAY_BIAS),
        sql_cast(r.c.used, BigInteger) * (1 << _COUNT_BITS) + r.c.created,
        sql_cast(r.c.project_key, BigInteger) * 2 + sql_cast(r.c.imported, Integer),
        r.c.source,
    )
    compiled = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return str(query.compile(dialect=compiled, compile_kwargs={"literal_binds": True}))


Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]  # 3 packed, source code, sources


def _packed_arrow(table: Any) -> Packed:
    import pyarrow as pa
    import pyarrow.compute as pc

    ints = [table.column(i).cast(pa.int64()).to_numpy() for i in range(3)]
    coded = pc.dictionary_encode(table.column(3)).combine_chunks()
    codes = coded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return ints[0], ints[1], ints[2], codes, [str(n) for n in coded.dictionary.to_pylist()]


def _packed_cursor(session: Session, sql: str) -> Packed:
    rows = session.connection().exec_driver_sql(sql).all()
    ints = [np.asarray([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    codes, names = pd.factorize(pd.Series([r[3] for r in rows], dtype=object))
    return ints[0], ints[1], ints[2], codes.astype(np.int64), [str(n) for n in names]


def _rollup_daily(session: Session, project_id: int | None) -> pd.DataFrame | None:
    """`daily` from the rollup, or None when the rollup does not count every use event (the
    use entries of the audit log and the imported events, counted, against the rollup's sums)."""
    import pyarrow as pa

    dialect = session.get_bind().dialect.name
    sqls = [rollup.events_sql(dialect), _rollup_sql(dialect)]
    where = arrow.target(session)
    read = arrow.tables(where, sqls) if where else None
    if read is None:
        events = [float(c) for c in session.connection().exec_driver_sql(sqls[0]).one()]
        key, packed, kind, s_code, s_names = _packed_cursor(session, sqls[1])
    else:
        events = [float(c[0].as_py()) for c in read[0].columns]
        key, packed, kind, s_code, s_names = _packed_arrow(read[1])
    imported = (kind & 1).astype(bool)
    used = packed >> _COUNT_BITS
    if not rollup.covered(events, [float(used[~imported].sum()), float(used[imported].sum())]):
        return None
    project = kind >> 1
    if project_id is not None:  # in-app use outside any project counts for every project
        keep = np.where(imported, project == project_id, (project == 0) | (project == project_id))
        key, packed, imported, s_code, used = (
            key[keep],
            packed[keep],
            imported[keep],
            s_code[keep],
            used[keep],
        )
    u = _table(UserAccount)
    owners = _frame(
        session, select(u.c.id, u.c.person_id).where(u.c.person_id.is_not(None)), ["id", "person"]
    )
    users = owners["id"].to_numpy(dtype=np.int64)
    persons = owners["person"].to_numpy(dtype=np.int64)
    # in-app rows: the person of the acting user account (rows of accounts without one dropped)
    subject = key >> _DAY_BITS
    order = np.argsort(users)
    pos = np.clip(np.searchsorted(users[order], subject), 0, max(len(users) - 1, 0))
    found = users[order][pos] == subject if len(users) else np.zeros(len(subject), dtype=bool)
    person = np.where(imported, subject, persons[order][pos] if len(users) else 0)
    keep = imported | found
    if not keep.any():
        return _empty_daily()
    person, s_code, used = person[keep], s_code[keep], used[keep]
    day = (key[keep] & ((1 << _DAY_BITS) - 1)) - _DAY_BIAS
    created = packed[keep] & ((1 << _COUNT_BITS) - 1)
    # one row per person, day and source (an account's rows of several projects, several accounts
    # of one person, and an imported log called "app" and in-app use are added up): integer keys
    p_code, p_names = pd.factorize(person)
    d0 = int(day.min())
    n_days, n_sources = int(day.max()) - d0 + 1, max(len(s_names), 1)
    cell = (p_code.astype(np.int64) * n_days + (day - d0)) * n_sources + s_code
    cells = len(p_names) * n_days * n_sources
    if cells <= 8 * len(cell) + 1_000_000:  # dense enough: count into every cell, keep the used ones
        events_n = np.bincount(cell, weights=used, minlength=cells)
        made = np.bincount(cell, weights=created, minlength=cells)
        groups = np.flatnonzero(events_n)
        events_n, made = events_n[groups], made[groups]
    else:
        groups, inverse = np.unique(cell, return_inverse=True)
        events_n = np.bincount(inverse, weights=used)
        made = np.bincount(inverse, weights=created)
    s_idx = groups % n_sources
    d_idx = (groups // n_sources) % n_days + d0
    p_idx = groups // (n_sources * n_days)
    made_i = made.astype(np.int64)
    source = pa.DictionaryArray.from_arrays(
        pa.array(s_idx.astype(np.int32)), pa.array(s_names, pa.large_string())
    )
    return pd.DataFrame(
        {
            "person_id": np.asarray(p_names, dtype=np.int64)[p_idx],
            "day": (d_idx.astype(np.int64) * 86_400).astype("datetime64[s]").astype("datetime64[ns]"),
            "source": pd.array(
                source.cast(pa.large_string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan)
            ),
            "created": made_i,
            "updated": events_n.astype(np.int64) - made_i,
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
    d, p = metrics.prepare(frames.daily), frames.people  # read once for every figure
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
