"""The read side of defects: typed frames for the metrics, read models for the pages, the report.

Frames (`load`) are read as `crm_impl.pipeline.queries.frames` reads the pipeline: one query per
table through the driver's cursor (no ORM objects, no SQLAlchemy rows), the database turning
every timestamp into epoch seconds and every status, severity, priority and environment into its
position in the vocabulary of crm_impl.defects.models, so a result is numbers and nothing is
parsed per row in Python. A status change arrives as three numbers: (defect, from, to) packed in
one integer, the time, and (by, release) packed in another.

Read models (`defect_list`, `my_work`, `timeline`) return DataFrames of what a page shows, with
names instead of ids. `report` is every metric of docs/defects.md, for `crm-impl report defects`
and the dashboard. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, FromClause
from sqlmodel import Session

from crm_impl.core import arrow as core_arrow
from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.defects import metrics
from crm_impl.defects.models import (
    ENVIRONMENTS,
    PRIORITIES,
    SEVERITIES,
    STATUSES,
    Defect,
    DefectChange,
    DefectComment,
    Release,
    TestRun,
)

_NO_STATUS = 15  # the code of "no from-status" (the filing) in a packed change key
_SLOTS = 256  # defect id × this + from × 16 + to: one integer per change
_RELEASE_SLOTS = 1 << 24  # by id × this + release id (0: none)

DEFECT_CODED = {
    "status": STATUSES,
    "severity": SEVERITIES,
    "priority": PRIORITIES,
    "environment": ENVIRONMENTS,
}
DEFECT_REFS = (
    "found_in_release_id",
    "target_release_id",
    "fixed_in_release_id",
    "reporter_id",
    "assignee_id",
)
DEFECT_TIMES = ("created_at", "closed_at", "client_signoff_at")
# the columns the raw (lower-bound) read of the benchmark takes, as stored
RAW_DEFECT_COLUMNS = ["id", *DEFECT_CODED, "module", *DEFECT_REFS, *DEFECT_TIMES]
RAW_CHANGE_COLUMNS = ["defect_id", "from_status", "to_status", "at", "by_id", "release_id"]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_NO_TIME = -1.0e18  # a missing timestamp (NULL) as a number, so every row of a column has one type


def _epoch(column: str, dialect: str) -> str:
    """Seconds since 1970 as a float, computed by the database (UTC); _NO_TIME when missing."""
    if dialect == "sqlite":
        seconds = f"(julianday({column}) - 2440587.5) * 86400.0"
    else:
        seconds = f"CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION)"
    return f"COALESCE({seconds}, {_NO_TIME:.1f})"


def _code(column: str, vocabulary: Sequence[str], missing: int = -1) -> str:
    """A key's position in its vocabulary (the values are fixed keys, checked by the services)."""
    whens = " ".join(f"WHEN '{key}' THEN {i}" for i, key in enumerate(vocabulary))
    return f"CASE {column} {whens} ELSE {missing} END"


@dataclass(frozen=True)
class DefectFrames:
    defects: pd.DataFrame
    changes: pd.DataFrame
    releases: pd.DataFrame
    test_runs: pd.DataFrame
    users: pd.DataFrame


# ---- reading the numbers: through Arrow where the drivers are installed, else the cursor --------
#
# Every column of the frame queries is one type on every row (codes, ids with 0 for none, epoch
# seconds with _NO_TIME for none, one text column last), so a result is a list of columns, read
# by crm_impl.core.arrow (Arrow through a second connection when nothing is uncommitted, else
# None and the session's cursor reads them).

Columns = core_arrow.Columns


def _cursor_columns(conn: Connection, sql: str, width: int, text_last: bool) -> Columns:
    """One query's result through the DBAPI cursor as columns (all numbers, or a text column last)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        if not text_last:
            flat = np.fromiter(chain.from_iterable(cast(Iterable[tuple[float, ...]], cursor)), np.float64)
            return [flat[i::width] for i in range(width)]
        rows = list(cursor.fetchall())
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    return [np.array(c, dtype=float) for c in columns[:-1]] + [np.array(columns[-1], dtype=object)]


def _categorical(codes: np.ndarray, vocabulary: Sequence[str]) -> pd.Categorical:
    known = (codes >= 0) & (codes < len(vocabulary))
    return pd.Categorical.from_codes(np.where(known, codes, -1).astype("int64"), categories=list(vocabulary))


def _ints(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Ids read as numbers, 0 (or NaN) for none."""
    ids = np.nan_to_num(values).astype("int64")
    return pd.arrays.IntegerArray(ids, ids == 0)


def _times(seconds: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.where(seconds > _NO_TIME / 2, seconds, np.nan), unit="s", utc=True)


def defect_sql(dialect: str, project_id: int) -> str:
    cols = [
        "id",
        *(_code(c, vocabulary) for c, vocabulary in DEFECT_CODED.items()),
        *(f"COALESCE({c}, 0)" for c in DEFECT_REFS),
        *(_epoch(c, dialect) for c in DEFECT_TIMES),
        "COALESCE(module, '')",
    ]
    return f"SELECT {', '.join(cols)} FROM defect WHERE project_id = {int(project_id)} ORDER BY id"


DEFECT_WIDTH = 1 + len(DEFECT_CODED) + len(DEFECT_REFS) + len(DEFECT_TIMES) + 1


def change_sql(dialect: str, project_id: int) -> str:
    # sorted by defect and time: the metrics rely on it
    key = (
        f"CAST(c.defect_id AS BIGINT) * {_SLOTS} + "
        f"({_code('c.from_status', STATUSES, _NO_STATUS)}) * 16 + "
        f"({_code('c.to_status', STATUSES, _NO_STATUS)})"
    )
    who = f"CAST(COALESCE(c.by_id, 0) AS BIGINT) * {_RELEASE_SLOTS} + COALESCE(c.release_id, 0)"
    return (
        f"SELECT {key}, {_epoch('c.at', dialect)}, {who} FROM defect_change c "
        f"WHERE c.defect_id IN (SELECT id FROM defect WHERE project_id = {int(project_id)}) "
        "ORDER BY c.defect_id, c.at, c.id"
    )


CHANGE_WIDTH = 3


def defects_frame(columns: Columns) -> pd.DataFrame:
    """The defects frame from the columns of `defect_sql`."""
    names = ["id", *DEFECT_CODED, *DEFECT_REFS, *DEFECT_TIMES, "module"]
    col = dict(zip(names, columns, strict=True))
    data: dict[str, Any] = {"id": col["id"].astype("int64")}
    data |= {c: _categorical(col[c], vocabulary) for c, vocabulary in DEFECT_CODED.items()}
    data["module"] = col["module"]
    data |= {c: _ints(col[c]) for c in DEFECT_REFS}
    data |= {c: _times(col[c]) for c in DEFECT_TIMES}
    return pd.DataFrame(data)


def changes_frame(columns: Columns) -> pd.DataFrame:
    """defect_id, from_status, to_status, at, by_id, release_id from the columns of `change_sql`:
    sorted by defect and time."""
    key, at, who = columns[0].astype("int64"), columns[1], columns[2].astype("int64")
    from_code, to_code = (key // 16) % 16, key % 16
    by, release = who // _RELEASE_SLOTS, who % _RELEASE_SLOTS
    return pd.DataFrame(
        {
            "defect_id": key // _SLOTS,
            "from_status": _categorical(from_code, STATUSES),
            "to_status": _categorical(to_code, STATUSES),
            "at": _times(at),
            "by_id": pd.arrays.IntegerArray(by, by == 0),
            "release_id": pd.arrays.IntegerArray(release, release == 0),
        }
    )


def read_defects(conn: Connection, project_id: int) -> pd.DataFrame:
    return defects_frame(_cursor_columns(conn, defect_sql(conn.dialect.name, project_id), DEFECT_WIDTH, True))


def read_changes(conn: Connection, project_id: int) -> pd.DataFrame:
    """defect_id, from_status, to_status, at, by_id, release_id: sorted by defect and time."""
    sql = change_sql(conn.dialect.name, project_id)
    return changes_frame(_cursor_columns(conn, sql, CHANGE_WIDTH, False))


def read_releases(conn: Connection, project_id: int) -> pd.DataFrame:
    r = _table(Release)
    query = (
        select(r.c.id, r.c.name, r.c.status, r.c.planned_date, r.c.released_on)
        .where(r.c.project_id == project_id)
        .order_by(r.c.id)
    )
    frame = pd.DataFrame(
        conn.execute(query).all(), columns=["id", "name", "status", "planned_date", "released_on"]
    )
    frame["id"] = frame["id"].astype("int64")
    for c in ("planned_date", "released_on"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def read_test_runs(conn: Connection, project_id: int) -> pd.DataFrame:
    t = _table(TestRun)
    names = ["id", "release_id", "tester_id", "side", "environment", "run_on", "passed", "failed", "blocked"]
    query = select(*(t.c[n] for n in names)).where(t.c.project_id == project_id).order_by(t.c.id)
    frame = pd.DataFrame(conn.execute(query).all(), columns=names)
    frame = frame.astype({"id": "int64", "release_id": "int64", "passed": "int64", "failed": "int64"})
    frame = frame.astype({"blocked": "int64", "tester_id": "Int64"})
    frame["run_on"] = pd.to_datetime(frame["run_on"])
    return frame


def read_users(conn: Connection) -> pd.DataFrame:
    """id, name (display name, else username), side (of the user's person; "" when none)."""
    u, p = _table(UserAccount), _table(Person)
    query = select(u.c.id, u.c.display_name, u.c.username, p.c.side).select_from(
        u.outerjoin(p, u.c.person_id == p.c.id)
    )
    frame = pd.DataFrame(conn.execute(query).all(), columns=["id", "display_name", "username", "side"])
    name = frame["display_name"].where(frame["display_name"].astype(bool), frame["username"])
    return pd.DataFrame(
        {
            "id": frame["id"].astype("int64"),
            "name": name.astype(str),
            "side": frame["side"].fillna("").astype(str),
        }
    )


def load(session: Session, project_id: int, *, arrow: bool = True) -> DefectFrames:
    """Every frame the defect metrics take, for one project. The defects and changes come
    through Arrow when it can read them (see above; `arrow=False`: always the session's cursor)."""
    dialect = session.get_bind().dialect.name
    sqls = [defect_sql(dialect, project_id), change_sql(dialect, project_id)]
    fast = core_arrow.read(session, sqls, arrow=arrow)
    conn = session.connection()
    if fast is None:
        defects, changes = read_defects(conn, project_id), read_changes(conn, project_id)
    else:
        defects, changes = defects_frame(fast[0]), changes_frame(fast[1])
    return DefectFrames(
        defects=defects,
        changes=changes,
        releases=read_releases(conn, project_id),
        test_runs=read_test_runs(conn, project_id),
        users=read_users(conn),
    )


def report_from_frames(frames: DefectFrames, now: datetime | None = None) -> dict[str, Any]:
    return metrics.report(
        frames.defects, frames.changes, frames.releases, frames.test_runs, frames.users, now or utcnow()
    )


def report(session: Session, project_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Every defect metric of the project as JSON-ready data (the CLI and the dashboard)."""
    return {"project_id": project_id, **report_from_frames(load(session, project_id), now)}


# ---- read models for the pages --------------------------------------------------------------

LIST_COLUMNS = [
    "id",
    "version",
    "title",
    "severity",
    "priority",
    "module",
    "environment",
    "status",
    "reporter",
    "assignee",
    "found_in",
    "target",
    "fixed_in",
    "created_at",
    "updated_at",
]
SORTS = ("id", "title", "severity", "priority", "module", "status", "assignee", "created_at", "updated_at")


def _user_name(user: FromClause) -> ColumnElement[Any]:
    return func.coalesce(func.nullif(user.c.display_name, ""), user.c.username, "")


def _listing() -> tuple[Any, Table, dict[str, ColumnElement[Any]]]:
    """The select of DefectPublic's columns (names instead of ids) and its sortable columns."""
    d = _table(Defect)
    reporter, assignee = _table(UserAccount).alias("reporter"), _table(UserAccount).alias("assignee")
    found, target, fixed = (_table(Release).alias(a) for a in ("found", "target", "fixed"))
    named = {
        "reporter": _user_name(reporter),
        "assignee": _user_name(assignee),
        "found_in": func.coalesce(found.c.name, ""),
        "target": func.coalesce(target.c.name, ""),
        "fixed_in": func.coalesce(fixed.c.name, ""),
    }
    columns = [named[c].label(c) if c in named else d.c[c] for c in LIST_COLUMNS]
    source = (
        d.outerjoin(reporter, d.c.reporter_id == reporter.c.id)
        .outerjoin(assignee, d.c.assignee_id == assignee.c.id)
        .outerjoin(found, d.c.found_in_release_id == found.c.id)
        .outerjoin(target, d.c.target_release_id == target.c.id)
        .outerjoin(fixed, d.c.fixed_in_release_id == fixed.c.id)
    )
    sortable: dict[str, ColumnElement[Any]] = {c: d.c[c] for c in SORTS if c not in named}
    # severity and priority sort by rank (blocker first, P1 first), not alphabetically
    sortable["severity"] = case({s: i for i, s in enumerate(SEVERITIES)}, value=d.c.severity, else_=99)
    sortable["priority"] = case({s: i for i, s in enumerate(PRIORITIES)}, value=d.c.priority, else_=99)
    sortable["assignee"] = named["assignee"]
    return select(*columns).select_from(source), d, sortable


def _frame(conn: Connection, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(query).all(), columns=columns)


def _values(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _ids(value: int | Sequence[int] | None) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def defect_list(
    *,
    session: Session,
    project_id: int,
    status: str | Sequence[str] | None = None,
    severity: str | Sequence[str] | None = None,
    module: str | Sequence[str] | None = None,
    release_id: int | Sequence[int] | None = None,
    assignee_id: int | Sequence[int] | None = None,
    mine: int | None = None,
    open_only: bool = False,
    sort: str = "id",
    descending: bool = False,
) -> pd.DataFrame:
    """The defect list (DefectPublic's columns), filtered: each filter takes one value or several
    (any of them matches; empty = no filter). `release_id` matches found in, target or fixed in;
    `mine` = a user id: defects that user reported or is assigned. Sorted by `sort` (one of
    SORTS; severity and priority by rank), then id."""
    query, d, sortable = _listing()
    conditions: list[ColumnElement[bool]] = [d.c.project_id == project_id]
    for column, wanted in (("status", status), ("severity", severity), ("module", module)):
        if values := _values(wanted):
            conditions.append(d.c[column].in_(values))
    if releases := _ids(release_id):
        conditions.append(
            or_(
                d.c.found_in_release_id.in_(releases),
                d.c.target_release_id.in_(releases),
                d.c.fixed_in_release_id.in_(releases),
            )
        )
    if assignees := _ids(assignee_id):
        conditions.append(d.c.assignee_id.in_(assignees))
    if mine is not None:
        conditions.append(or_(d.c.reporter_id == mine, d.c.assignee_id == mine))
    if open_only:
        conditions.append(d.c.status.in_(metrics.OPEN_STATUSES))
    if sort not in sortable:
        raise ValueError(f"unknown sort {sort!r}")
    key = sortable[sort].desc() if descending else sortable[sort].asc()
    query = query.where(and_(*conditions)).order_by(key, d.c.id)
    return _frame(session.connection(), query, LIST_COLUMNS)


PROGRAMMER_WORK = ("reopened", "assigned", "in_progress")


def my_work(
    *, session: Session, project_id: int, user_id: int, role: Literal["programmer", "tester"]
) -> pd.DataFrame:
    """A programmer's work: defects assigned to them that they still have to fix (reopened first,
    then assigned, in progress; each by severity, priority, age). A tester's work: fixed or in
    retest defects they reported or took into retest, waiting for their retest, with the release
    containing the fix (`fixed_in`), oldest first. DefectPublic's columns."""
    query, d, sortable = _listing()
    if role == "programmer":
        rank = case({s: i for i, s in enumerate(PROGRAMMER_WORK)}, value=d.c.status, else_=9)
        query = query.where(
            d.c.project_id == project_id, d.c.assignee_id == user_id, d.c.status.in_(PROGRAMMER_WORK)
        ).order_by(rank, sortable["severity"], sortable["priority"], d.c.created_at, d.c.id)
    else:
        c = _table(DefectChange)
        took = exists().where(c.c.defect_id == d.c.id, c.c.to_status == "in_retest", c.c.by_id == user_id)
        query = query.where(
            d.c.project_id == project_id,
            d.c.status.in_(("fixed", "in_retest")),
            or_(d.c.reporter_id == user_id, took),
        ).order_by(d.c.updated_at, d.c.id)
    return _frame(session.connection(), query, LIST_COLUMNS)


TIMELINE_COLUMNS = ["at", "kind", "by", "from_status", "to_status", "release", "text"]


def timeline(*, session: Session, defect_id: int) -> pd.DataFrame:
    """One defect's history and comments in time order: at, kind ("change" or "comment"), by
    (name), from_status, to_status, release (name, for fixed/verified), text (comment)."""
    c, k = _table(DefectChange), _table(DefectComment)
    user, release = _table(UserAccount), _table(Release)
    changes = (
        select(
            c.c.at,
            literal_column("'change'", String).label("kind"),
            _user_name(user).label("by"),
            c.c.from_status,
            c.c.to_status,
            func.coalesce(release.c.name, "").label("release"),
            c.c.comment.label("text"),
            literal_column("0", Integer).label("sub"),
            c.c.id.label("row_id"),
        )
        .select_from(
            c.outerjoin(user, c.c.by_id == user.c.id).outerjoin(release, c.c.release_id == release.c.id)
        )
        .where(c.c.defect_id == defect_id)
    )
    comments = (
        select(
            k.c.at,
            literal_column("'comment'", String).label("kind"),
            _user_name(user).label("by"),
            sql_cast(null(), String).label("from_status"),
            sql_cast(null(), String).label("to_status"),
            literal_column("''", String).label("release"),
            k.c.body.label("text"),
            literal_column("1", Integer).label("sub"),
            k.c.id.label("row_id"),
        )
        .select_from(k.outerjoin(user, k.c.by_id == user.c.id))
        .where(k.c.defect_id == defect_id)
    )
    both = union_all(changes, comments).subquery()
    query = select(*(both.c[n] for n in TIMELINE_COLUMNS)).order_by(both.c.at, both.c.sub, both.c.row_id)
    frame = _frame(session.connection(), query, TIMELINE_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    frame["by"] = frame["by"].fillna("")
    return frame
