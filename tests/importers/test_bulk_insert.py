"""The import engine's bulk insert: timestamps handed over as a pandas Series (converted for the
driver in one vectorised step) are stored exactly as the per-value bind processors store Python
datetimes, NULLs included, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from crm_impl.importers.engine import insert_columns, reserve_ids
from crm_impl.pipeline.models import StageChange, StageDefinition
from crm_impl.pipeline.services.stages import ensure_default_stages

WARSAW = timezone(timedelta(hours=2))
STAMPS = [
    datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC),
    None,
    datetime(2026, 3, 2, 11, 30, tzinfo=WARSAW),  # stored as 09:30 UTC
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


def _deal_ids(session: Session, n: int) -> list[int]:
    ensure_default_stages(session=session)
    stage = session.exec(select(StageDefinition)).first()
    assert stage is not None
    from crm_impl.pipeline.models import Deal

    deals = {
        "version": [1] * n,
        "title": [f"D{i}" for i in range(n)],
        "value": [0] * n,
        "currency": ["PLN"] * n,
        "stage_id": [stage.id] * n,
        "created_at": pd.Series([s or STAMPS[0] for s in STAMPS[:n]], dtype="datetime64[ns, UTC]"),
        "stage_entered_at": [STAMPS[0]] * n,
        "last_touch_at": [STAMPS[0]] * n,
    }
    return reserve_ids(session.connection(), Deal.__table__, deals)  # type: ignore[attr-defined]


def test_a_series_of_timestamps_is_stored_as_python_datetimes_are(session):
    ids = _deal_ids(session, len(STAMPS))
    stage = session.exec(select(StageDefinition)).first()
    assert stage is not None
    table = StageChange.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    as_list = {"deal_id": ids, "to_stage_id": [stage.id] * 4, "at": [s or STAMPS[0] for s in STAMPS]}
    insert_columns(conn, table, as_list)
    series = pd.Series([s or STAMPS[0] for s in STAMPS]).astype("datetime64[ns, UTC]")
    insert_columns(conn, table, {"deal_id": ids, "to_stage_id": [stage.id] * 4, "at": series})
    raw = conn.execute(text("SELECT deal_id, CAST(at AS TEXT) FROM stage_change ORDER BY id")).all()
    assert [r[1] for r in raw[:4]] == [r[1] for r in raw[4:]]  # the same text / value in the database
    read = session.exec(select(StageChange).order_by(StageChange.id)).all()
    assert [c.at for c in read[:4]] == [c.at for c in read[4:]]
    assert read[6].at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_missing_timestamps_are_stored_as_null(session):
    from crm_impl.pipeline.models import Deal

    ids = _deal_ids(session, 2)
    closed = pd.Series([STAMPS[0], pd.NaT], dtype="datetime64[ns, UTC]")
    conn = session.connection()
    conn.execute(text("UPDATE deal SET closed_at = NULL"))
    # a third deal written with a NaT timestamp in a Series column
    more = reserve_ids(
        conn,
        Deal.__table__,  # type: ignore[attr-defined]
        {
            "version": [1, 1],
            "title": ["x", "y"],
            "value": [0, 0],
            "currency": ["PLN", "PLN"],
            "stage_id": [session.get(Deal, ids[0]).stage_id] * 2,  # type: ignore[union-attr]
            "created_at": pd.Series([STAMPS[0], STAMPS[3]], dtype="datetime64[ns, UTC]"),
            "stage_entered_at": [STAMPS[0]] * 2,
            "last_touch_at": [STAMPS[0]] * 2,
            "closed_at": closed,
        },
    )
    rows = {d.id: d for d in session.exec(select(Deal).where(Deal.id.in_(more))).all()}  # type: ignore[union-attr]
    assert rows[more[0]].closed_at == STAMPS[0]
    assert rows[more[1]].closed_at is None
    assert rows[more[1]].created_at == STAMPS[3]


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        from crm_impl.importers.engine import _timestamps

        _timestamps(pd.Series(pd.to_datetime(["2026-01-01"])), None, None)
