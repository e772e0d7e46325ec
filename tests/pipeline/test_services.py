"""Pipeline services on SQLite and PostgreSQL: who may do what, validation messages, stage
moves and their history, concurrent moves, activities, stage admin, ERP flags, reports."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry, utcnow
from crm_impl.pipeline.models import (
    AccountCreate,
    ActivityCreate,
    Deal,
    DealCreate,
    DealProductLine,
    DealUpdate,
    ErpBalance,
    LostReasonCreate,
    Product,
    SalesBudgetCreate,
    StageChange,
    StageDefinition,
    StageDefinitionCreate,
    StageDefinitionUpdate,
)
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settings as stage_admin
from crm_impl.pipeline.services import settlements


def run(engine, fn, actor, **kwargs):
    with UnitOfWork(engine) as uow:
        result = fn(session=uow.session, actor=actor, **kwargs)
        uow.commit()
    return result


@pytest.fixture
def people(make_user):
    return {
        "rep": make_user("rep", "sales_rep"),
        "rep2": make_user("rep2", "sales_rep"),
        "boss": make_user("boss", "sales_manager"),
        "dev": make_user("dev", "programmer"),
    }


@pytest.fixture
def account(engine, people):
    return run(
        engine,
        pipeline.create_account,
        people["rep"],
        data=AccountCreate(name="Budmax sp. z o.o.", nip="5260250274"),
    ).id


def history(session, deal_id):
    rows = session.exec(
        select(StageChange).where(StageChange.deal_id == deal_id).order_by(StageChange.id)
    ).all()
    keys = {s.id: s.key for s in session.exec(select(StageDefinition)).all()}
    return [keys[r.to_stage_id] for r in rows]


def test_only_deal_writers_create_and_reps_work_only_their_own(engine, people, account):
    with pytest.raises(PermissionDenied):
        run(engine, pipeline.create_deal, people["dev"], data=DealCreate(title="X"))
    deal = run(
        engine, pipeline.create_deal, people["rep"], data=DealCreate(title="Cement", value="12 500,50")
    )
    assert deal.owner_id == people["rep"].id and deal.value == Decimal("12500.50")
    with pytest.raises(PermissionDenied) as err:
        run(
            engine,
            pipeline.move_deal,
            people["rep2"],
            deal_id=deal.id,
            expected_version=1,
            to_stage_key="contact_made",
        )
    assert "only work your own deals" in err.value.message()
    moved = run(
        engine,
        pipeline.move_deal,
        people["boss"],
        deal_id=deal.id,
        expected_version=1,
        to_stage_key="contact_made",
    )
    assert moved.version == 2
    with pytest.raises(PermissionDenied):
        run(
            engine,
            pipeline.create_deal,
            people["rep"],
            data=DealCreate(title="For someone else", owner_id=people["rep2"].id),
        )


def test_validation_messages(engine, people, account):
    with pytest.raises(ValidationError) as err:
        run(engine, pipeline.create_deal, people["rep"], data=DealCreate(title="  "))
    assert err.value.message() == "Title is required."
    with pytest.raises(ValidationError) as err:
        run(
            engine,
            pipeline.create_deal,
            people["rep"],
            data=DealCreate(title="Tiles", stage_key="needs_analysis"),
        )
    assert "account is required from Needs analysis on" in err.value.message()
    with pytest.raises(ValidationError) as err:
        run(engine, pipeline.create_deal, people["rep"], data=DealCreate(title="Tiles", value="-5"))
    assert err.value.message() == "Value cannot be negative."
    with pytest.raises(ValidationError) as err:
        run(engine, pipeline.create_deal, people["rep"], data=DealCreate(title="Tiles", probability=1.5))
    assert err.value.message() == "Probability must be between 0 and 1."
    with pytest.raises(ValidationError):
        run(
            engine, pipeline.create_account, people["rep"], data=AccountCreate(name="Other", nip="5260250274")
        )  # duplicate NIP


def test_moves_skip_go_back_close_and_reopen(engine, people, account):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Steel", account_id=account))
    old_touch = deal.last_touch_at
    d = run(
        engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=1, to_stage_key="offer"
    )  # skip
    assert d.last_touch_at >= old_touch and d.closed_at is None
    d = run(
        engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=2, to_stage_key="needs_analysis"
    )  # back
    d = run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=3, to_stage_key="contract")
    won_at = d.closed_at
    assert won_at is not None
    d = run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=4, to_stage_key="completed")
    assert d.closed_at == won_at  # closed when it first entered a won stage
    with UnitOfWork(engine) as uow:
        assert history(uow.session, deal.id) == [
            "prospect",
            "offer",
            "needs_analysis",
            "contract",
            "completed",
        ]
        moves = uow.session.exec(
            select(AuditEntry).where(AuditEntry.entity == "deal", AuditEntry.action == "move")
        ).all()
        assert len(moves) == 4
    with pytest.raises(ValidationError) as err:
        run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=5, to_stage_key="completed")
    assert "already in this stage" in err.value.message()


def test_lost_needs_a_configured_reason(engine, people):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Bricks"))
    with pytest.raises(ValidationError) as err:
        run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=1, to_stage_key="lost")
    assert err.value.message() == "Lost reason is required."
    with pytest.raises(ValidationError):
        run(
            engine,
            pipeline.move_deal,
            rep,
            deal_id=deal.id,
            expected_version=1,
            to_stage_key="lost",
            lost_reason="weather",
        )
    d = run(
        engine,
        pipeline.move_deal,
        rep,
        deal_id=deal.id,
        expected_version=1,
        to_stage_key="lost",
        lost_reason="price",
    )
    assert d.lost_reason == "price" and d.closed_at is not None
    d = run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=2, to_stage_key="contact_made")
    assert d.lost_reason is None and d.closed_at is None  # reopened


def test_concurrent_moves_one_conflict_no_lost_history(engine, people):
    rep, boss = people["rep"], people["boss"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Windows"))
    with UnitOfWork(engine) as first, UnitOfWork(engine) as second:
        seen_first = pipeline._deal(first.session, deal.id).version
        seen_second = pipeline._deal(second.session, deal.id).version
        pipeline.move_deal(
            session=first.session,
            actor=rep,
            deal_id=deal.id,
            expected_version=seen_first,
            to_stage_key="contact_made",
        )
        first.commit()
        with pytest.raises(ConflictError) as err:
            pipeline.move_deal(
                session=second.session,
                actor=boss,
                deal_id=deal.id,
                expected_version=seen_second,
                to_stage_key="offer",
            )
            second.commit()
    assert "changed by someone else" in err.value.message()
    with pytest.raises(ConflictError):  # a form loaded before the move is refused up front too
        run(engine, pipeline.move_deal, boss, deal_id=deal.id, expected_version=1, to_stage_key="offer")
    with UnitOfWork(engine) as uow:
        assert history(uow.session, deal.id) == ["prospect", "contact_made"]
        assert uow.session.get(Deal, deal.id).version == 2


def test_update_deal_with_stale_version_is_refused(engine, people):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Roof"))
    run(engine, pipeline.update_deal, rep, deal_id=deal.id, expected_version=1, data=DealUpdate(value=900))
    with pytest.raises(ConflictError):
        run(
            engine, pipeline.update_deal, rep, deal_id=deal.id, expected_version=1, data=DealUpdate(value=950)
        )


def test_repeat_business_and_products(engine, people, account):
    rep = people["rep"]
    deal = run(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="Cement", account_id=account, stage_key="negotiation"),
    )
    with pytest.raises(ValidationError):
        run(engine, pipeline.repeat_business, rep, deal_id=deal.id)
    run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=1, to_stage_key="completed")
    follow = run(engine, pipeline.repeat_business, rep, deal_id=deal.id)
    assert follow.parent_deal_id == deal.id and follow.account_id == account
    with UnitOfWork(engine) as uow:
        assert history(uow.session, follow.id) == ["needs_analysis"]
        uow.session.add(Product(name="Cement CEM I", price=Decimal("30")))
        uow.commit()
        product_id = uow.session.exec(select(Product.id)).one()
    rows = run(
        engine,
        pipeline.set_deal_products,
        rep,
        deal_id=follow.id,
        expected_version=follow.version,
        items=[DealProductLine(product_id=product_id, quantity=10)],
        update_value=True,
    )
    assert rows[0].unit_price == Decimal("30")
    with UnitOfWork(engine) as uow:
        assert uow.session.get(Deal, follow.id).value == Decimal("300.00")


def test_done_activity_resets_the_rot_timer(engine, people):
    rep = people["rep"]
    deal = run(engine, pipeline.create_deal, rep, data=DealCreate(title="Tiles"))
    with UnitOfWork(engine) as uow:
        d = uow.session.get(Deal, deal.id)
        d.last_touch_at = utcnow() - timedelta(days=90)
        uow.session.add(d)
        uow.commit()
    act = run(
        engine,
        pipeline.create_activity,
        rep,
        data=ActivityCreate(deal_id=deal.id, subject="Call back", kind="call"),
    )
    with UnitOfWork(engine) as uow:
        assert pipeline_report.pipeline_report(session=uow.session, actor=rep)["stale_deals"] == 1
    run(engine, pipeline.complete_activity, rep, activity_id=act.id, expected_version=1)
    with UnitOfWork(engine) as uow:
        assert pipeline_report.pipeline_report(session=uow.session, actor=rep)["stale_deals"] == 0
    with pytest.raises(ValidationError):
        run(
            engine,
            pipeline.create_activity,
            rep,
            data=ActivityCreate(deal_id=deal.id, subject="x", kind="fax"),
        )


def test_stage_admin_is_for_configurers(engine, people):
    rep, boss = people["rep"], people["boss"]
    with UnitOfWork(engine) as uow:
        offer = uow.session.exec(select(StageDefinition).where(StageDefinition.key == "offer")).one()
        uow.session.expunge(offer)
    with pytest.raises(PermissionDenied):
        run(
            engine,
            stage_admin.update_stage,
            rep,
            stage_id=offer.id,
            expected_version=offer.version,
            data=StageDefinitionUpdate(name_en="Quote"),
        )
    s = run(
        engine,
        stage_admin.update_stage,
        boss,
        stage_id=offer.id,
        expected_version=offer.version,
        data=StageDefinitionUpdate(name_en="Quote", rot_days=10, stage_cost="650"),
    )
    assert (s.name_en, s.rot_days, s.stage_cost) == ("Quote", 10, Decimal("650.00"))
    with pytest.raises(ValidationError):
        run(
            engine,
            stage_admin.update_stage,
            boss,
            stage_id=offer.id,
            expected_version=s.version,
            data=StageDefinitionUpdate(rot_days=0),
        )
    added = run(
        engine,
        stage_admin.add_stage,
        boss,
        data=StageDefinitionCreate(
            key="demo", name_en="Demo", name_pl="Prezentacja", after_key="needs_analysis", probability=0.3
        ),
    )
    with UnitOfWork(engine) as uow:
        order = [
            r.key for r in uow.session.exec(select(StageDefinition).order_by(StageDefinition.position)).all()
        ]
    assert order[2:5] == ["needs_analysis", "demo", "offer"] and added.position == 4
    with pytest.raises(ValidationError):
        run(engine, stage_admin.reorder_stages, boss, keys=["prospect"])
    reason = run(
        engine,
        stage_admin.create_lost_reason,
        boss,
        data=LostReasonCreate(key="quality", name_en="Quality", name_pl="Jakość"),
    )
    assert reason.active
    row = run(
        engine, stage_admin.set_budget, boss, data=SalesBudgetCreate(month=date(2026, 3, 17), amount="150000")
    )
    assert row.month == date(2026, 3, 1)
    again = run(
        engine, stage_admin.set_budget, boss, data=SalesBudgetCreate(month=date(2026, 3, 1), amount="160000")
    )
    assert again.id == row.id and again.amount == Decimal("160000.00")


def test_erp_flags_use_the_latest_balance(engine, people, account):
    with UnitOfWork(engine) as uow:
        uow.session.add(
            ErpBalance(
                account_id=account,
                as_of=date(2026, 1, 31),
                receivable=Decimal(100),
                overdue=Decimal(50),
                balance=Decimal(50),
            )
        )
        uow.session.add(
            ErpBalance(
                account_id=account,
                as_of=date(2026, 2, 28),
                receivable=Decimal(100),
                overdue=Decimal(0),
                balance=Decimal(-20),
            )
        )
        uow.commit()
        flags = settlements.account_flags(session=uow.session, account_ids=[account, 9999])
    assert list(flags) == [account]
    assert (
        flags[account]["negative_balance"]
        and not flags[account]["overdue"]
        and flags[account]["balance"] == -20
    )


def test_report_and_board_from_sql(engine, people, account):
    rep = people["rep"]
    for i in range(3):
        run(engine, pipeline.create_deal, rep, data=DealCreate(title=f"D{i}", value=100 * (i + 1)))
    won = run(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="Won", account_id=account, stage_key="negotiation", value=1000),
    )
    run(engine, pipeline.move_deal, rep, deal_id=won.id, expected_version=1, to_stage_key="contract")
    with UnitOfWork(engine) as uow:
        report = pipeline_report.pipeline_report(session=uow.session, actor=rep)
        stage_ids = [s.id for s in uow.session.exec(select(StageDefinition)).all()]
        totals, cards = pipeline.board(session=uow.session, actor=rep, stage_ids=stage_ids, limit=2)
        forecast = pipeline_report.forecast_report(session=uow.session, actor=rep)
    assert report["deals"] == {"open": 3, "won": 1, "lost": 0}
    assert report["win_rate"] == 1.0 and report["pipeline_value"] == 600 and report["won_value"] == 1000
    prospect = next(s for s in report["stages"] if s["key"] == "prospect")
    assert prospect["open_deals"] == 3 and prospect["share"] == 1.0 and prospect["weighted_value"] == 30
    by_stage = totals.set_index("stage_id")
    assert int(by_stage["deals"].max()) == 3 and len(cards) == 3  # 2 prospect cards (capped) + 1 contract
    assert sorted(cards[cards["rn"] <= 2]["value"])[-1] == 1000
    # won this month (no complete month yet) and no open deal has an expected close: nothing to
    # forecast from, and the forecast says so rather than inventing numbers
    assert forecast["won_value_history"] == [] and forecast["weighted_by_close_month"] == []
    assert forecast["forecast"] == [] and forecast["backtest"]["months"] == 0
    assert forecast["status"] == "too_short" and forecast["method"] is None
    assert all(m["mae"] is None for m in forecast["backtest"]["methods"])
    assert forecast["month_in_progress"]["value"] == 1000  # this month's win: reported, not fitted


def test_dashboard_from_sql_reads_history_in_time_order(engine, people, account):
    """The loader hands the metrics the stage changes sorted by time (not by insertion), money
    and dates as numbers: time in stage, funnel, stage cost and on-time come out right on both
    databases."""
    rep = people["rep"]
    t0 = utcnow().replace(microsecond=0) - timedelta(days=60)
    deal = run(
        engine,
        pipeline.create_deal,
        rep,
        data=DealCreate(title="Re-entry", account_id=account, value=Decimal("1234.50")),
    )
    for version, key in enumerate(["contact_made", "needs_analysis", "contact_made", "needs_analysis"], 1):
        run(engine, pipeline.move_deal, rep, deal_id=deal.id, expected_version=version, to_stage_key=key)
    # recorded (by id) as prospect, contact, needs, contact, needs; moved to these days, the
    # history in time order is prospect 0, contact 2, needs 5, contact 9, needs 10
    with UnitOfWork(engine) as uow:
        rows = uow.session.exec(
            select(StageChange).where(StageChange.deal_id == deal.id).order_by(StageChange.id)
        ).all()
        for row, day in zip(rows, [0, 9, 5, 2, 10], strict=True):
            row.at = t0 + timedelta(days=day)
        d = uow.session.get(Deal, deal.id)
        d.stage_entered_at = t0 + timedelta(days=10)
        d.promised_delivery, d.actual_delivery = date(2026, 3, 1), date(2026, 3, 4)
        uow.commit()
    with UnitOfWork(engine) as uow:
        frames = pipeline_data.load(uow.session)
    dash = pipeline_report.dashboard_from_frames(frames)
    assert frames.changes["at"].is_monotonic_increasing
    assert frames.deals["value"].tolist() == [1234.5]
    tis = dash["time_in_stage"].set_index("key")
    assert tis.loc["prospect", "latest_median"] == pytest.approx(2)
    assert tis.loc["contact_made", "latest_median"] == pytest.approx(1)  # its last stay: 9 -> 10
    assert tis.loc["contact_made", "cumulative_median"] == pytest.approx(4)  # 3 + 1
    assert tis.loc["needs_analysis", "latest_median"] == pytest.approx(4)  # the open stay is not counted
    funnel = dash["funnel"].set_index("key")["reached"]
    assert (funnel["needs_analysis"], funnel["offer"]) == (1, 0)
    cost = dash["stage_cost"].set_index("key")["deals_entered"]
    assert (cost["contact_made"], cost["needs_analysis"], cost["offer"]) == (1, 1, 0)
    assert dash["on_time"] == {
        "delivered": 1,
        "on_time": 0,
        "late": 1,
        "on_time_rate": 0.0,
        "mean_delay_days": 3.0,
    }
