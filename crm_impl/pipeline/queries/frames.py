"""Read the pipeline into DataFrames: one query per table, straight into typed numpy arrays.

Every analytic screen and report starts here and hands the frames to `crm_impl.metrics`.
Rows are fetched through the driver (no ORM objects) and only in the shape the metrics use:
the database turns every timestamp and date into epoch seconds (`julianday` on SQLite,
`EXTRACT(EPOCH …)` on PostgreSQL) and money into a float, so a whole result is one float64
array (NULL becomes NaN) and nothing is parsed or converted per row in Python. A stage change
arrives as two numbers: the (deal, stage) key the metrics group by and the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection
from sqlmodel import Session

from crm_impl.core import arrow as core_arrow
from crm_impl.pipeline.queries import values

STAGE_SLOTS = 1 << 20  # deal id × this + stage id: one int64 key per (deal, stage), as in metrics


def _epoch(column: str, dialect: str) -> str:
    """Seconds since 1970 as a float, computed by the database (UTC; a date is its midnight)."""
    if dialect == "sqlite":
        return f"(julianday({column}) - 2440587.5) * 86400.0"
    return f"CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION)"


def _float(column: str, dialect: str) -> str:
    # NUMERIC would come back as Decimal on PostgreSQL: one Python object per value
    return f"CAST({column} AS {'REAL' if dialect == 'sqlite' else 'DOUBLE PRECISION'})"


STAGE_SQL = (
    "SELECT id, key, position, name_en, name_pl, kind, probability, stage_cost, rot_days, active "
    "FROM stage_definition ORDER BY position"
)
BUDGET_SQL = "SELECT month, amount FROM sales_budget ORDER BY month"
# every user with the team they are in: the department of the person behind the account
OWNER_SQL = (
    "SELECT u.id, COALESCE(p.department, '') FROM user_account u LEFT JOIN person p ON p.id = u.person_id"
)

DEAL_IDS = ("id", "stage_id")
DEAL_REFS = ("account_id", "owner_id")  # nullable: Int64
DEAL_TIMES = ("created_at", "closed_at", "last_touch_at", "stage_entered_at")
DEAL_DATES = ("expected_close", "promised_delivery", "actual_delivery")
DEAL_COLUMNS = [*DEAL_IDS, *DEAL_REFS, "value", "probability", *DEAL_TIMES, *DEAL_DATES]

# The rows the loader used to read as they are stored (every column, ISO text, Decimal): the
# benchmark's raw read, kept so its lower bound stays comparable between versions.
RAW_DEAL_SQL = (
    "SELECT id, account_id, owner_id, stage_id, value, probability, expected_close, {created_at}, "
    "{closed_at}, {last_touch_at}, {stage_entered_at}, promised_delivery, actual_delivery, lost_reason, "
    "parent_deal_id FROM deal"
)
RAW_DEAL_COLUMNS = [
    "id",
    "account_id",
    "owner_id",
    "stage_id",
    "value",
    "probability",
    "expected_close",
    *DEAL_TIMES,
    "promised_delivery",
    "actual_delivery",
    "lost_reason",
    "parent_deal_id",
]
RAW_CHANGE_SQL = "SELECT deal_id, from_stage_id, to_stage_id, {at} FROM stage_change ORDER BY deal_id, at, id"


@dataclass(frozen=True)
class PipelineFrames:
    stages: pd.DataFrame
    deals: pd.DataFrame
    changes: pd.DataFrame
    budget: pd.DataFrame
    # open deals in another currency than the pipeline's, left out of every sum (values.py)
    other_currencies: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"currency": [], "deals": [], "value": []})
    )
    # id, team of every user (`read_owners`): the dashboard's team filter
    owners: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"id": pd.Series(dtype="int64"), "team": pd.Series(dtype=str)})
    )


def _rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    # The DBAPI cursor hands back plain tuples; SQLAlchemy's Row objects cost more than the read.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _read(conn: Connection, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(_rows(conn, sql), columns=columns, coerce_float=True)


def _matrix(conn: Connection, sql: str, width: int) -> np.ndarray:
    """A numeric result as one float64 array of shape (rows, width); NULL is NaN."""
    rows = _rows(conn, sql)
    return np.array(rows, dtype=float).reshape(len(rows), width)


def _columns(sql: str) -> list[str]:
    head = sql.split(" FROM ")[0].removeprefix("SELECT ")
    return [c.strip() for c in head.split(",")]


def to_utc(col: pd.Series | np.ndarray) -> pd.Series:
    """Epoch seconds (as read by `_epoch`) to UTC datetimes."""
    return pd.Series(pd.to_datetime(pd.to_numeric(col, errors="coerce"), unit="s", utc=True))


def to_day(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, format="ISO8601").astype("datetime64[s]")


_NS_LIMIT = 9.2e9  # epoch seconds past which (year 2262) nanoseconds overflow int64


def _utc(seconds: np.ndarray) -> pd.DatetimeIndex:
    """Epoch seconds (float, NaN for none) to UTC datetimes, the values `pd.to_datetime(seconds,
    unit="s", utc=True)` gives (whole seconds and the fraction rounded to 9 digits apart, as
    pandas does), about 2.5x faster than it (tests/pipeline/test_frames_read.py); seconds past
    the nanosecond range are left to pandas (which then picks a coarser unit)."""
    known = ~np.isnan(seconds)
    if len(seconds) and np.abs(seconds[known]).max(initial=0.0) >= _NS_LIMIT:
        return pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True))
    values = np.where(known, seconds, 0.0)
    whole = values.astype(np.int64)
    ns = whole * 1_000_000_000 + (np.round(values - whole, 9) * 1e9).astype(np.int64)
    ns[~known] = np.iinfo(np.int64).min  # NaT
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _ints(values: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


def _days(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds of dates to naive datetime64[s] (any year, unlike nanoseconds); NaN is NaT."""
    out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[s]")
    known = ~np.isnan(seconds)
    out[known] = np.round(seconds[known]).astype("int64").astype("datetime64[s]")
    return out


def deal_sql(dialect: str) -> str:
    """A deal in another currency than the pipeline's reads with no value (NaN): every sum then
    leaves it out, as `values.open_totals` does in SQL. The code is checked to be [A-Z]{3}."""
    base = values.base_currency()
    cols = [
        *DEAL_IDS,
        *DEAL_REFS,
        f"CASE WHEN currency = '{base}' THEN {_float('value', dialect)} END",
        "probability",
        *(_epoch(c, dialect) for c in (*DEAL_TIMES, *DEAL_DATES)),
    ]
    return f"SELECT {', '.join(cols)} FROM deal"


def change_sql(dialect: str) -> str:
    # sorted by deal and time: the metrics rely on it (a stay in a stage ends at the next row)
    key = f"CAST(deal_id AS BIGINT) * {STAGE_SLOTS} + to_stage_id"
    return f"SELECT {key}, {_epoch('at', dialect)} FROM stage_change ORDER BY deal_id, at, id"


def read_stages(conn: Connection) -> pd.DataFrame:
    stages = _read(conn, STAGE_SQL, _columns(STAGE_SQL))
    stages["stage_cost"] = stages["stage_cost"].astype(float)
    stages["probability"] = stages["probability"].astype(float)
    stages["active"] = stages["active"].astype(bool)
    return stages


def deals_frame(columns: list[np.ndarray]) -> pd.DataFrame:
    """The deals frame from the numeric columns of `deal_sql` (as the cursor or Arrow read them)."""
    col = dict(zip(DEAL_COLUMNS, columns, strict=True))
    data: dict[str, object] = {c: col[c].astype("int64") for c in DEAL_IDS}
    data |= {c: _ints(col[c]) for c in DEAL_REFS}
    data |= {"value": col["value"], "probability": col["probability"]}
    data |= {c: _utc(col[c]) for c in DEAL_TIMES}
    data |= {c: _days(col[c]) for c in DEAL_DATES}
    return pd.DataFrame(data)


def changes_frame(key: np.ndarray, at: np.ndarray) -> pd.DataFrame:
    """deal_id, to_stage_id, at from the two numeric columns of `change_sql`."""
    key = key.astype("int64")
    return pd.DataFrame(
        {
            "deal_id": key // STAGE_SLOTS,
            "to_stage_id": key % STAGE_SLOTS,
            "at": _utc(at),
        }
    )


def read_deals(conn: Connection) -> pd.DataFrame:
    m = _matrix(conn, deal_sql(conn.dialect.name), len(DEAL_COLUMNS))
    return deals_frame(list(m.T))


def read_changes(conn: Connection) -> pd.DataFrame:
    """deal_id, to_stage_id, at: one row per entry into a stage, sorted by deal and time."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(change_sql(conn.dialect.name))
        rows: Iterable[tuple[float, float]] = cursor  # type: ignore[assignment]  # DBAPI rows are tuples
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64)
    finally:
        cursor.close()
    return changes_frame(flat[0::2], flat[1::2])


def read_budget(conn: Connection) -> pd.DataFrame:
    budget = _read(conn, BUDGET_SQL, _columns(BUDGET_SQL))
    budget["month"] = to_day(budget["month"])
    budget["amount"] = budget["amount"].astype(float)
    return budget


def read_owners(conn: Connection) -> pd.DataFrame:
    """id, team: every user and the department of the person behind the account ('' for none)."""
    owners = _read(conn, OWNER_SQL, ["id", "team"])
    owners["id"] = owners["id"].astype("int64")
    owners["team"] = owners["team"].fillna("").astype(str).str.strip()
    return owners


def raw_read(session: Session) -> dict[str, pd.DataFrame]:
    """The benchmark's lower bound: one raw read into pandas of every row the dashboard needs
    (stages, deals, stage changes, budget) as the loader used to read them (all columns, no
    parsing)."""
    conn = session.connection()
    dialect = conn.dialect.name
    deal = RAW_DEAL_SQL.format(**{c: _epoch(c, dialect) for c in DEAL_TIMES})
    change = RAW_CHANGE_SQL.format(at=_epoch("at", dialect))
    queries = [
        (STAGE_SQL, _columns(STAGE_SQL)),
        (deal, RAW_DEAL_COLUMNS),
        (change, ["deal_id", "from_stage_id", "to_stage_id", "at"]),
        (BUDGET_SQL, _columns(BUDGET_SQL)),
    ]
    return {sql: _read(conn, sql, columns) for sql, columns in queries}


_NO_CHANGES = pd.DataFrame(
    {
        "deal_id": pd.Series(dtype="int64"),
        "to_stage_id": pd.Series(dtype="int64"),
        "at": pd.Series(dtype="datetime64[ns, UTC]"),
    }
)


def _arrow_deals(where: core_arrow.Target | None, dialect: str) -> pd.DataFrame | None:
    """The deals frame through Arrow (None: the cursor must read them)."""
    fast = core_arrow.columns(where, [deal_sql(dialect)]) if where is not None else None
    return deals_frame(fast[0]) if fast is not None else None


def load(session: Session, *, changes: bool = True, arrow: bool = True) -> PipelineFrames:
    """Stages, deals, budget and (unless `changes=False`, for pages that only look at deals) the
    stage changes. The deals and the stage changes, nearly all the rows, come through Arrow when
    it can read them (crm_impl.core.arrow: committed data, PostgreSQL, the
    drivers installed; `arrow=False`: always the session's cursor).

    With the stage changes, the deals are read and turned into a frame in a second thread, on a
    connection of their own, while this one reads the changes and the small tables: the drivers
    step through the rows in C with the GIL released, so the two large reads take about as long
    as the larger one (0.33 -> 0.20 s at 100,000 deals / 617,589 changes, 2 cores, measured
    with Arrow on SQLite before the app stopped reading SQLite through it; PostgreSQL 0.52 -> 0.43 s).
    The two connections each see what was committed when their query ran, not one snapshot: a
    write in between shows in one frame and not yet in the other until the next data version's
    read."""
    dialect = session.get_bind().dialect.name
    where = core_arrow.target(session) if arrow else None
    conn = session.connection()
    with ThreadPoolExecutor(max_workers=1) as pool:  # no thread starts without a task
        # beside the changes, when Arrow reads (else the cursor reads both here, in turn)
        deals_read = pool.submit(_arrow_deals, where, dialect) if changes and where is not None else None
        if changes:
            fast = core_arrow.columns(where, [change_sql(dialect)]) if where is not None else None
            stage_changes = changes_frame(*fast[0]) if fast is not None else read_changes(conn)
        else:
            stage_changes = _NO_CHANGES.copy()
        small = {
            "stages": read_stages(conn),
            "budget": read_budget(conn),
            "other_currencies": values.other_currencies(session=session),
            "owners": read_owners(conn),
        }
        deals = deals_read.result() if deals_read is not None else _arrow_deals(where, dialect)
    if deals is None:  # Arrow could not read them
        deals = read_deals(conn)
    return PipelineFrames(deals=deals, changes=stage_changes, **small)
