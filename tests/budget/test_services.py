"""Budget services on both databases: PMs and management edit, others are refused with nothing
written; every write audits; bad input (negative or zero amounts, a posting to a closed line, a
phase or line of another project, an unknown category) is refused naming the field with nothing
written; stale versions are conflicts; snapshots freeze a closed month once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crm_impl.budget import queries, services
from crm_impl.budget.models import (
    BudgetLine,
    BudgetLineCreate,
    BudgetLineUpdate,
    BudgetSettingsUpdate,
    CostPosting,
    CostPostingCreate,
    CostPostingUpdate,
    EvSnapshot,
)
from crm_impl.core import clock
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def _line(w, name="Build", planned="59 000", **kw) -> BudgetLine:  # type: ignore[no-untyped-def]
    data = BudgetLineCreate(name=name, category=kw.pop("category", "programming"), planned=planned, **kw)
    return services.create_line(session=w.session, actor=w["pm"], project_id=w.project_id, data=data)


def _post(w, line: BudgetLine, amount="1 234,56", who="pm", **kw) -> CostPosting:  # type: ignore[no-untyped-def]
    data = CostPostingCreate(
        line_id=int(line.id or 0), posted_on=kw.pop("posted_on", date(2026, 2, 15)), amount=amount, **kw
    )
    return services.add_posting(session=w.session, actor=w[who], project_id=w.project_id, data=data)


@pytest.mark.parametrize("who", ["pm", "pm_client", "boss", "admin"])
def test_pms_management_and_the_admin_edit_the_budget(budget_world, who):
    w = budget_world
    line = services.create_line(
        session=w.session,
        actor=w[who],
        project_id=w.project_id,
        data=BudgetLineCreate(
            name="Tests", category="testing", planned="50000", phase_id=w.phases["programming"]
        ),
    )
    posting = _post(w, line, "12 500,00", who=who, supplier="Softronik", document_number="FV/1")
    assert posting.amount == Decimal("12500.00") and posting.line_id == line.id
    audits = w.session.exec(select(AuditEntry.entity, AuditEntry.action, AuditEntry.username)).all()
    assert ("budget_line", "create", who) in audits and ("cost_posting", "create", who) in audits


@pytest.mark.parametrize("who", ["consultant", "tester", "rep"])
def test_everyone_else_is_refused_with_nothing_written(budget_world, who):
    w = budget_world
    line = _line(w)
    w.session.commit()
    before = (_count(w.session, BudgetLine), _count(w.session, CostPosting), _count(w.session, AuditEntry))
    with pytest.raises(PermissionDenied):
        services.create_line(
            session=w.session,
            actor=w[who],
            project_id=w.project_id,
            data=BudgetLineCreate(name="X", planned="1"),
        )
    with pytest.raises(PermissionDenied):
        _post(w, line, who=who)
    with pytest.raises(PermissionDenied):
        services.take_snapshot(
            session=w.session, actor=w[who], project_id=w.project_id, month=date(2026, 1, 1)
        )
    after = (_count(w.session, BudgetLine), _count(w.session, CostPosting), _count(w.session, AuditEntry))
    assert after == before


def test_reading_the_budget_needs_budget_read(budget_world):
    w = budget_world
    assert queries.budget_report(session=w.session, actor=w["consultant"], project_id=w.project_id)["totals"]
    for who in ("tester", "rep"):
        with pytest.raises(PermissionDenied):
            queries.budget_report(session=w.session, actor=w[who], project_id=w.project_id)


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-10", "cannot be negative"), ("0", "more than zero"), ("abc", "not a number"), ("", "is required")],
)
def test_a_bad_amount_is_refused_naming_the_field(budget_world, amount, message):
    w = budget_world
    line = _line(w)
    w.session.commit()
    before = _count(w.session, CostPosting)
    with pytest.raises(ValidationError) as err:
        _post(w, line, amount)
    assert "Amount" in err.value.message() and message in err.value.message()
    assert _count(w.session, CostPosting) == before


def test_negative_plan_and_unknown_category_are_refused(budget_world):
    w = budget_world
    with pytest.raises(ValidationError) as err:
        _line(w, planned="-1")
    assert "Planned" in err.value.message()
    with pytest.raises(ValidationError) as err:
        _line(w, category="beer")
    assert "Category" in err.value.message()
    assert _count(w.session, BudgetLine) == 0


def test_nothing_is_posted_to_a_closed_line(budget_world):
    w = budget_world
    line = _line(w)
    posting = _post(w, line)
    services.update_line(
        session=w.session,
        actor=w["pm"],
        line_id=int(line.id or 0),
        expected_version=line.version,
        data=BudgetLineUpdate(status="closed"),
    )
    w.session.commit()
    with pytest.raises(ValidationError) as err:
        _post(w, line)
    assert "“Build” is closed" in err.value.message() and "Budget line" in err.value.message()
    with pytest.raises(ValidationError):  # nor corrected or deleted there
        services.update_posting(
            session=w.session,
            actor=w["pm"],
            posting_id=int(posting.id or 0),
            expected_version=posting.version,
            data=CostPostingUpdate(amount="5"),
        )
    with pytest.raises(ValidationError):
        services.delete_posting(
            session=w.session,
            actor=w["pm"],
            posting_id=int(posting.id or 0),
            expected_version=posting.version,
        )
    assert _count(w.session, CostPosting) == 1


def test_a_phase_or_line_of_another_project_is_refused(budget_world):
    w = budget_world
    with pytest.raises(ValidationError) as err:
        _line(w, phase_id=w.other_phase_id)
    assert "Phase" in err.value.message() and "does not belong" in err.value.message()
    foreign = services.create_line(
        session=w.session,
        actor=w["pm"],
        project_id=w.other_project_id,
        data=BudgetLineCreate(name="Theirs", planned="1"),
    )
    with pytest.raises(ValidationError) as err:
        _post(w, foreign)
    assert "Budget line" in err.value.message()


def test_a_stale_line_or_posting_is_a_conflict(budget_world):
    w = budget_world
    line = _line(w)
    posting = _post(w, line)
    v_line, v_post = line.version, posting.version
    services.update_line(
        session=w.session,
        actor=w["boss"],
        line_id=int(line.id or 0),
        expected_version=v_line,
        data=BudgetLineUpdate(forecast="64 000"),
    )
    services.update_posting(
        session=w.session,
        actor=w["boss"],
        posting_id=int(posting.id or 0),
        expected_version=v_post,
        data=CostPostingUpdate(amount="2000"),
    )
    w.session.commit()
    with pytest.raises(ConflictError):
        services.update_line(
            session=w.session,
            actor=w["pm"],
            line_id=int(line.id or 0),
            expected_version=v_line,
            data=BudgetLineUpdate(planned="1"),
        )
    with pytest.raises(ConflictError):
        services.update_posting(
            session=w.session,
            actor=w["pm"],
            posting_id=int(posting.id or 0),
            expected_version=v_post,
            data=CostPostingUpdate(amount="1"),
        )
    w.session.refresh(line)
    assert line.forecast == Decimal("64000.00") and line.planned == Decimal("59000.00")
    before = w.session.exec(
        select(AuditEntry).where(AuditEntry.entity == "budget_line", AuditEntry.action == "update")
    ).one()
    assert before.before["forecast"] is None and before.after["forecast"] in ("64000.00", 64000.0, "64000")


def test_the_training_band_is_a_project_setting_with_its_source(budget_world):
    w = budget_world
    assert services.budget_settings(session=w.session, project_id=w.project_id).training_share_low == 0.15
    saved = services.update_settings(
        session=w.session,
        actor=w["pm"],
        project_id=w.project_id,
        expected_version=0,
        data=BudgetSettingsUpdate(
            training_share_low=12, training_share_high=18, training_source="Vendor offer 2026"
        ),
    )
    assert (saved.training_share_low, saved.training_share_high) == (0.12, 0.18)
    with pytest.raises(ValidationError) as err:
        services.update_settings(
            session=w.session,
            actor=w["pm"],
            project_id=w.project_id,
            expected_version=saved.version,
            data=BudgetSettingsUpdate(training_share_low=0.3),
        )
    assert "lower end" in err.value.message()
    report = queries.report(w.session, w.project_id)
    assert report["band"] == {"low": 0.12, "high": 0.18, "source": "Vendor offer 2026"}


def test_a_snapshot_freezes_a_closed_month_once_and_ignores_later_edits(budget_world):
    w = budget_world
    from crm_impl.rollout.models import Phase

    _line(w, name="Analysis", category="analysis", planned="10000", phase_id=w.phases["analysis"])
    build = _line(w, planned="59000", phase_id=w.phases["programming"])
    _line(w, name="Licences", category="licences", planned="9000")
    _post(w, build, "20 000", posted_on=date(2026, 2, 15))
    with clock.at(datetime.combine(date(2026, 3, 2), time(7), UTC)):
        with pytest.raises(ValidationError) as err:  # March has not ended
            services.take_snapshot(
                session=w.session, actor=w["pm"], project_id=w.project_id, month=date(2026, 3, 1)
            )
        assert "has not ended" in err.value.message()
        snap = services.freeze_last_month(session=w.session, actor=w["pm"], project_id=w.project_id)
        assert snap is not None and snap.month == date(2026, 2, 1)
        # the worked example of test_metrics (without the analysis posting): PV 43,900, EV 37,982.61
        assert (snap.bac, snap.pv, snap.ev, snap.ac) == (
            Decimal("78000.00"),
            Decimal("43900.00"),
            Decimal("37982.61"),
            Decimal("20000.00"),
        )
        assert services.freeze_last_month(session=w.session, actor=w["pm"], project_id=w.project_id) is None
        with pytest.raises(ValidationError):
            services.take_snapshot(
                session=w.session, actor=w["pm"], project_id=w.project_id, month=date(2026, 2, 1)
            )
    phase = w.session.get(Phase, w.phases["programming"])
    phase.percent_complete = 90  # edited later: February's history stays
    w.session.add(phase)
    w.session.flush()
    report = queries.report(w.session, w.project_id, today=date(2026, 3, 10))
    feb = report["history"].iloc[0]
    assert feb["month"] == date(2026, 2, 1) and feb["ev"] == pytest.approx(37_982.61) and not feb["partial"]
    assert report["history"].iloc[-1]["partial"] and report["history"].iloc[-1]["ev"] > 37_982.61
    assert _count(w.session, EvSnapshot) == 1
