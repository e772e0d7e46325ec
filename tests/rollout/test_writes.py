"""The rollout's one write path on SQLite and PostgreSQL: typed updates through core.writes
(stale version refused, audit before/after, a failed cross-field check leaves the row as it
was) and a grid save that writes all its rows or none, naming the row that failed."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, RowError, ValidationError
from crm_impl.core.i18n import t
from crm_impl.core.models import AuditEntry, PersonCreate, ProjectCreate
from crm_impl.core.permissions import SYSTEM
from crm_impl.rollout.models import (
    ChangeRequest,
    ChangeRequestCreate,
    ChangeRequestUpdate,
    Phase,
    PhaseCreate,
    PhaseUpdate,
)
from crm_impl.rollout.services import changes, grid, plan, projects


@pytest.fixture
def pid(engine):
    with UnitOfWork(engine) as uow:
        project = projects.create_project(
            session=uow.session, actor=SYSTEM, data=ProjectCreate(name="Rollout", start_date=date(2026, 1, 1))
        )
        for name, start, end in (
            ("Analysis", "2026-01-01", "2026-02-01"),
            ("Testing", "2026-02-02", "2026-03-01"),
        ):
            plan.create_phase(
                session=uow.session,
                actor=SYSTEM,
                project_id=int(project.id),
                data=PhaseCreate(name=name, planned_start=start, planned_end=end),
            )
        uow.commit()
        return int(project.id)


def _phases(engine):
    with Session(engine) as s:
        return {p.name: p.model_dump() for p in s.exec(select(Phase)).all()}


def _audits(engine, entity):
    with Session(engine) as s:
        return s.exec(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)).all()


def _phase_id(engine, name):
    return _phases(engine)[name]["id"]


def test_typed_phase_update_audits_before_and_after(engine, pid):
    pid_ = _phase_id(engine, "Analysis")
    with UnitOfWork(engine) as uow:
        plan.update_phase(
            session=uow.session,
            actor=SYSTEM,
            phase_id=pid_,
            expected_version=1,
            changes=PhaseUpdate(percent_complete=100, actual_start=date(2026, 1, 5)),
        )
        uow.commit()
    row = _phases(engine)["Analysis"]
    assert (row["percent_complete"], row["status"], row["version"]) == (100, "done", 2)
    entry = _audits(engine, "phase")[-1]
    assert entry.action == "update" and entry.entity_id == str(pid_) and entry.project_id == pid
    assert entry.before == {
        "actual_start": None,
        "percent_complete": 0,
        "status": "not_started",
        "version": 1,
    }
    assert entry.after == {
        "actual_start": "2026-01-05",
        "percent_complete": 100,
        "status": "done",
        "version": 2,
    }


def test_stale_phase_update_is_refused_and_writes_nothing(engine, pid):
    pid_ = _phase_id(engine, "Analysis")
    with UnitOfWork(engine) as uow:
        plan.update_phase(
            session=uow.session,
            actor=SYSTEM,
            phase_id=pid_,
            expected_version=1,
            changes=PhaseUpdate(name="Analysis 1"),
        )
        uow.commit()
    before, audits = _phases(engine), len(_audits(engine, "phase"))
    with UnitOfWork(engine) as uow, pytest.raises(ConflictError):
        plan.update_phase(
            session=uow.session,
            actor=SYSTEM,
            phase_id=pid_,
            expected_version=1,
            changes=PhaseUpdate(name="Stale"),
        )
    assert _phases(engine) == before and len(_audits(engine, "phase")) == audits


def test_failed_cross_field_check_leaves_the_phase_unchanged(engine, pid):
    pid_ = _phase_id(engine, "Analysis")
    before, audits = _phases(engine), len(_audits(engine, "phase"))
    with UnitOfWork(engine) as uow:
        with pytest.raises(ValidationError) as err:
            plan.update_phase(
                session=uow.session,
                actor=SYSTEM,
                phase_id=pid_,
                expected_version=1,
                changes=PhaseUpdate(planned_end=date(2025, 12, 1), percent_complete=50),
            )
        assert err.value.key == "error.date_order" and err.value.params["field"] == "plan.field.planned_end"
        row = uow.session.get(Phase, pid_)  # nothing was set on the row in the session either
        assert (row.planned_end, row.percent_complete) == (date(2026, 2, 1), 0)
        assert not uow.session.dirty
    assert _phases(engine) == before and len(_audits(engine, "phase")) == audits


def _change(engine, pid):
    with UnitOfWork(engine) as uow:
        person = projects.create_person(
            session=uow.session, actor=SYSTEM, data=PersonCreate(full_name="Sales manager", side="client")
        )
        change = changes.request_change(
            session=uow.session,
            actor=SYSTEM,
            project_id=pid,
            data=ChangeRequestCreate(
                title="Map", reason="Field sales", effort_days=5, requested_by_id=person.id
            ),
        )
        uow.commit()
        return int(change.id)


def _change_row(engine, change_id):
    with Session(engine) as s:
        return s.get(ChangeRequest, change_id).model_dump()


def test_typed_change_request_update_stale_and_audited(engine, pid):
    cid = _change(engine, pid)
    with UnitOfWork(engine) as uow:
        changes.update_change(
            session=uow.session,
            actor=SYSTEM,
            change_id=cid,
            expected_version=1,
            changes=ChangeRequestUpdate(effort_days=Decimal("7.5"), schedule_impact_days=3),
        )
        uow.commit()
    row = _change_row(engine, cid)
    assert (row["effort_days"], row["schedule_impact_days"], row["version"]) == (Decimal("7.50"), 3, 2)
    entry = _audits(engine, "change_request")[-1]
    assert entry.action == "update"
    assert entry.before == {"effort_days": "5.00", "schedule_impact_days": 0, "version": 1}
    assert entry.after == {"effort_days": "7.50", "schedule_impact_days": 3, "version": 2}
    with UnitOfWork(engine) as uow, pytest.raises(ConflictError):
        changes.update_change(
            session=uow.session,
            actor=SYSTEM,
            change_id=cid,
            expected_version=1,
            changes=ChangeRequestUpdate(cost=1),
        )
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        changes.update_change(
            session=uow.session,
            actor=SYSTEM,
            change_id=cid,
            expected_version=2,
            changes=ChangeRequestUpdate(effort_days=Decimal("-1")),
        )
    assert err.value.key == "error.negative"
    assert _change_row(engine, cid) == row


def test_rejecting_without_a_note_fails_the_cross_field_check_and_changes_nothing(engine, pid, make_user):
    boss = make_user("boss", "management")
    cid = _change(engine, pid)
    before, audits = _change_row(engine, cid), len(_audits(engine, "change_request"))
    with UnitOfWork(engine) as uow:
        with pytest.raises(ValidationError) as err:
            changes.decide_change(
                session=uow.session, actor=boss, change_id=cid, expected_version=1, approve=False
            )
        assert err.value.params["field"] == "plan.field.decision_note"
        row = uow.session.get(ChangeRequest, cid)
        assert (row.status, row.decided_by) == ("pending", None)
    assert _change_row(engine, cid) == before and len(_audits(engine, "change_request")) == audits
    with UnitOfWork(engine) as uow:
        changes.decide_change(
            session=uow.session, actor=boss, change_id=cid, expected_version=1, approve=False, note="Not core"
        )
        uow.commit()
    assert _change_row(engine, cid)["status"] == "rejected"
    assert _audits(engine, "change_request")[-1].action == "reject"
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:  # decided: no more edits
        changes.update_change(
            session=uow.session,
            actor=SYSTEM,
            change_id=cid,
            expected_version=2,
            changes=ChangeRequestUpdate(cost=1),
        )
    assert err.value.key == "error.change_decided"


def test_grid_cells_are_cleaned_into_the_typed_update():
    update = plan.PHASE_FIELDS.from_cells(
        {
            "planned_end": "2026-03-01",
            "actual_start": None,
            "percent_complete": 40.0,
            "owner_id": float("nan"),
        }
    )
    assert update.changes() == {
        "planned_end": date(2026, 3, 1),
        "actual_start": None,
        "percent_complete": 40,
        "owner_id": None,
    }
    with pytest.raises(ValidationError) as err:
        plan.PHASE_FIELDS.from_cells({"planned_end": "31.02.2026"})
    assert err.value.key == "error.bad_date"
    with pytest.raises(ValidationError):
        plan.PHASE_FIELDS.from_cells({"version": 7})  # only the Update model's fields are editable
    assert "position" in plan.PHASE_FIELDS.names and "project_id" not in plan.PHASE_FIELDS.names


def test_grid_save_with_one_bad_row_writes_nothing_and_names_the_row(engine, pid):
    ids = _phases(engine)
    before, audits = ids, len(_audits(engine, "phase"))
    rows = [
        grid.GridRow(1, ids["Analysis"]["id"], 1, {"percent_complete": 30, "status": "in_progress"}),
        grid.GridRow(2, ids["Testing"]["id"], 1, {"planned_end": "2026-01-15"}),  # before its start
    ]
    with UnitOfWork(engine) as uow, pytest.raises(RowError) as err:
        grid.save_rows(
            session=uow.session,
            actor=SYSTEM,
            update=plan.update_phase,
            fields=plan.PHASE_FIELDS,
            id_arg="phase_id",
            rows=rows,
        )
        uow.commit()
    assert err.value.params["row"] == 2 and err.value.cause.key == "error.date_order"
    assert err.value.message().startswith("Row 2: ") and t("plan.field.planned_end") in err.value.message()
    assert _phases(engine) == before and len(_audits(engine, "phase")) == audits
    rows[1] = grid.GridRow(2, ids["Testing"]["id"], 1, {"planned_end": "2026-03-15"})
    with UnitOfWork(engine) as uow:
        assert (
            grid.save_rows(
                session=uow.session,
                actor=SYSTEM,
                update=plan.update_phase,
                fields=plan.PHASE_FIELDS,
                id_arg="phase_id",
                rows=rows,
            )
            == 2
        )
        uow.commit()
    after = _phases(engine)
    assert after["Analysis"]["status"] == "in_progress" and after["Testing"]["planned_end"] == date(
        2026, 3, 15
    )
    with Session(engine) as s:
        assert (
            s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "phase")).one()
            == audits + 2
        )
