"""Read the pipeline into DataFrames: one query per table, timestamps parsed vectorised.

Every analytic screen and report starts here and hands the frames to `crm_impl.metrics`.
Rows are fetched through the driver (no ORM objects, no per-row type conversion) because
the dashboard reads every deal and every stage change; SQLite returns timestamps as ISO text
and PostgreSQL as aware datetimes, both become UTC `datetime64` columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection
from sqlmodel import Session


def _epoch(column: str, dialect: str) -> str:
    """Seconds since 1970 computed by the database: a float reads faster than a timestamp text
    and needs no parsing."""
    if dialect == "sqlite":
        return f"(julianday({column}) - 2440587.5) * 86400.0"
    return f"EXTRACT(EPOCH FROM {column})"


STAGE_SQL = (
    "SELECT id, key, position, name_en, name_pl, kind, probability, stage_cost, rot_days, active "
    "FROM stage_definition ORDER BY position"
)
DEAL_SQL = (
    "SELECT id, account_id, owner_id, stage_id, value, probability, expected_close, {created_at}, "
    "{closed_at}, {last_touch_at}, {stage_entered_at}, promised_delivery, actual_delivery, lost_reason, "
    "parent_deal_id FROM deal"
)
DEAL_COLUMNS = [
    "id",
    "account_id",
    "owner_id",
    "stage_id",
    "value",
    "probability",
    "expected_close",
    "created_at",
    "closed_at",
    "last_touch_at",
    "stage_entered_at",
    "promised_delivery",
    "actual_delivery",
    "lost_reason",
    "parent_deal_id",
]
# sorted by deal and time: the metrics rely on it (stays in a stage end at the next row)
CHANGE_SQL = "SELECT deal_id, from_stage_id, to_stage_id, {at} FROM stage_change ORDER BY deal_id, at, id"
CHANGE_COLUMNS = ["deal_id", "from_stage_id", "to_stage_id", "at"]
BUDGET_SQL = "SELECT month, amount FROM sales_budget ORDER BY month"

DEAL_TIMES = ("created_at", "closed_at", "last_touch_at", "stage_entered_at")
DEAL_DATES = ("expected_close", "promised_delivery", "actual_delivery")


@dataclass(frozen=True)
class PipelineFrames:
    stages: pd.DataFrame
    deals: pd.DataFrame
    changes: pd.DataFrame
    budget: pd.DataFrame


def _read(conn: Connection, sql: str, columns: list[str]) -> pd.DataFrame:
    # The DBAPI cursor hands back plain tuples; SQLAlchemy's Row objects cost more than the read.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _columns(sql: str) -> list[str]:
    head = sql.split(" FROM ")[0].removeprefix("SELECT ")
    return [c.strip() for c in head.split(",")]


def _queries(conn: Connection) -> list[tuple[str, list[str]]]:
    dialect = conn.dialect.name
    deal = DEAL_SQL.format(**{c: _epoch(c, dialect) for c in DEAL_TIMES})
    change = CHANGE_SQL.format(at=_epoch("at", dialect))
    return [
        (STAGE_SQL, _columns(STAGE_SQL)),
        (deal, DEAL_COLUMNS),
        (change, CHANGE_COLUMNS),
        (BUDGET_SQL, _columns(BUDGET_SQL)),
    ]


def to_utc(col: pd.Series) -> pd.Series:
    """Epoch seconds (as read by `_epoch`) to UTC datetimes."""
    return pd.to_datetime(pd.to_numeric(col, errors="coerce"), unit="s", utc=True)


def to_day(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, format="ISO8601").astype("datetime64[s]")


def raw_read(session: Session) -> dict[str, pd.DataFrame]:
    """The same rows as `load`, without any parsing: the benchmark's lower bound."""
    conn = session.connection()
    return {sql: _read(conn, sql, columns) for sql, columns in _queries(conn)}


def load(session: Session) -> PipelineFrames:
    conn = session.connection()
    (stage_sql, stage_cols), (deal_sql, deal_cols), (change_sql, change_cols), _ = _queries(conn)
    stages = _read(conn, stage_sql, stage_cols)
    stages["stage_cost"] = stages["stage_cost"].astype(float)
    stages["probability"] = stages["probability"].astype(float)
    stages["active"] = stages["active"].astype(bool)
    deals = _read(conn, deal_sql, deal_cols)
    deals["value"] = deals["value"].astype(float)
    deals["probability"] = deals["probability"].astype(float)
    for col in ("account_id", "owner_id", "parent_deal_id"):
        deals[col] = deals[col].astype("Int64")
    for col in DEAL_TIMES:
        deals[col] = to_utc(deals[col])
    for col in DEAL_DATES:
        deals[col] = to_day(deals[col])
    changes = _read(conn, change_sql, change_cols)
    changes["from_stage_id"] = changes["from_stage_id"].astype("Int64")
    changes["at"] = to_utc(changes["at"])
    budget = _read(conn, BUDGET_SQL, _columns(BUDGET_SQL))
    budget["month"] = to_day(budget["month"])
    budget["amount"] = budget["amount"].astype(float)
    return PipelineFrames(stages=stages, deals=deals, changes=changes, budget=budget)
