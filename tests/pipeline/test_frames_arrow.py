"""The pipeline's frames read through Arrow (crm_impl.core.arrow) are the frames the session's
cursor reads, NULLs and all, on SQLite and PostgreSQL; uncommitted writes are read through the
session's own cursor (Arrow reads through a second connection and would miss them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import Session, select

from crm_impl.core import arrow
from crm_impl.core.models import UserAccount
from crm_impl.pipeline.models import Account, Deal, StageChange, StageDefinition
from crm_impl.pipeline.queries import frames

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def committed(engine) -> None:
    with Session(engine) as s:  # test setup, not under test
        stage = {st.key: st.id for st in s.exec(select(StageDefinition)).all()}
        owner = UserAccount(username="rep", display_name="Rep", roles=["sales_rep"])
        account = Account(name="Żwirex")
        s.add_all([owner, account])
        s.flush()
        rows = [
            # stage, value, probability, account, owner, expected close, delivered, closed
            ("prospect", "1000.50", None, account.id, owner.id, None, None, None),
            ("offer", "20000", 0.4, None, None, date(2026, 6, 30), None, None),
            ("contract", "7000", None, account.id, None, date(1999, 12, 31), date(2026, 5, 1), T0),
            ("offer", "300", None, None, owner.id, None, None, None, "EUR"),
        ]
        for i, row in enumerate(rows):
            key, value, prob, acc, own, close, delivered, closed, *cur = row
            deal = Deal(
                title=f"D{i}",
                stage_id=stage[key],
                value=Decimal(value),
                probability=prob,
                account_id=acc,
                owner_id=own,
                expected_close=close,
                actual_delivery=delivered,
                closed_at=closed,
                currency=cur[0] if cur else "PLN",
                created_at=T0 - timedelta(days=40 - i),
                stage_entered_at=T0,
                last_touch_at=T0 + timedelta(hours=i),
            )
            s.add(deal)
            s.flush()
            for step, to in enumerate(("prospect", key)):
                at = T0 + timedelta(days=step, seconds=i)
                s.add(StageChange(deal_id=deal.id, to_stage_id=stage[to], at=at))
        s.commit()


def test_arrow_and_cursor_read_the_same_frames(engine, committed):
    with Session(engine) as session:
        # committed, no transaction: Arrow may read (the app on PostgreSQL; on SQLite only a
        # benchmark's limit, core.arrow.target says why)
        where = arrow.target(session, sqlite=True)
        assert where is not None
        dialect = session.get_bind().dialect.name
        assert arrow.columns(where, [frames.deal_sql(dialect), frames.change_sql(dialect)]) is not None
        fast = frames.load(session)
    with Session(engine) as session:
        slow = frames.load(session, arrow=False)
    assert len(fast.deals) == 4 and len(fast.changes) == 8
    pd.testing.assert_frame_equal(fast.deals, slow.deals)
    pd.testing.assert_frame_equal(fast.changes, slow.changes)
    assert fast.deals["value"].isna().sum() == 1  # the EUR deal: no value in the PLN sums
    assert fast.deals["account_id"].isna().sum() == 2 and fast.deals["owner_id"].isna().sum() == 2
    assert str(fast.deals["expected_close"].min().date()) == "1999-12-31"


def test_uncommitted_writes_are_read_through_the_session(engine, committed):
    with Session(engine) as session:
        stage = session.exec(select(StageDefinition)).first()
        assert stage is not None
        session.add(Deal(title="not committed yet", stage_id=stage.id, value=Decimal(1)))
        session.flush()
        assert arrow.target(session) is None
        assert len(frames.load(session).deals) == 5
        session.rollback()


def test_an_empty_pipeline_reads_empty_frames(engine):
    with Session(engine) as session:
        fast = frames.load(session)
    with Session(engine) as session:
        slow = frames.load(session, arrow=False)
    assert fast.deals.empty and fast.changes.empty
    pd.testing.assert_frame_equal(fast.deals, slow.deals, check_dtype=False)


def test_deals_only_and_a_failed_deals_read_fall_back_to_the_same_frames(engine, committed, monkeypatch):
    # the page without stage history reads the deals on this thread; with the history they come
    # from a second thread, and when Arrow cannot read them there the cursor reads them here
    with Session(engine) as session:
        slow = frames.load(session, arrow=False)
    with Session(engine) as session:
        deals_only = frames.load(session, changes=False)
    pd.testing.assert_frame_equal(deals_only.deals, slow.deals)
    assert deals_only.changes.empty and list(deals_only.changes.columns) == ["deal_id", "to_stage_id", "at"]

    real = arrow.columns
    asked: list[str] = []

    def no_deals(where, sqls):  # type: ignore[no-untyped-def]
        asked.extend(sqls)
        return None if "FROM deal" in sqls[0] else real(where, sqls)

    monkeypatch.setattr(arrow, "columns", no_deals)
    with Session(engine) as session:
        fell_back = frames.load(session)
    if engine.dialect.name == "postgresql":  # SQLite: the app's own driver reads everything
        assert any("FROM deal" in sql for sql in asked) and any("FROM stage_change" in sql for sql in asked)
    else:
        assert asked == []
    pd.testing.assert_frame_equal(fell_back.deals, slow.deals)
    pd.testing.assert_frame_equal(fell_back.changes, slow.changes)
