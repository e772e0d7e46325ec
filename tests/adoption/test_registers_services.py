"""The legacy tools and benefits services on both databases: permission refused, bad input refused
naming the field with nothing written, version conflicts, audit entries (the tool's users as a
set), one measurement per day; a benefit demonstration links the benefits it showed through the
meeting service (only a demonstration, only the project's benefits); the registers' part of the
report read back from the database; formula-safe exports."""

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.adoption.models import (
    BenefitCreate,
    BenefitUpdate,
    LegacyToolCreate,
    LegacyToolUpdate,
    MeasurementCreate,
)
from crm_impl.adoption.queries import registers as queries
from crm_impl.adoption.services import registers
from crm_impl.core import exporting
from crm_impl.core.auth import actor_for
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry, Person, ProjectCreate, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.rollout.services import projects
from crm_impl.training import services as training
from crm_impl.training.models import MeetingCreate, MeetingUpdate

TODAY = date.today()
TABLES = {
    "legacy_tool",
    "legacy_tool_user",
    "benefit",
    "benefit_measurement",
    "meeting_benefit",
    "audit_entry",
}


def _user(session: Session, name: str, role: str) -> Actor:
    user = UserAccount(username=name, roles=[role], display_name=name)
    session.add(user)
    session.flush()
    return actor_for(user)


def _counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
        if t.name in TABLES
    }


@pytest.fixture
def w(session: Session):  # type: ignore[no-untyped-def]
    project = projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Rollout"))
    other = projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Other"))
    people = [
        Person(full_name="Anna", side="client", department="Sales", licensed_user=True),
        Person(full_name="Jan", side="client", department="Sales", licensed_user=True),
        Person(full_name="Vendor guy", side="vendor", department="Delivery", licensed_user=False),
    ]
    session.add_all(people)
    session.flush()
    w = {
        "project": int(project.id or 0),
        "other": int(other.id or 0),
        "people": [int(p.id or 0) for p in people],
        "pm": _user(session, "pm", "pm_vendor"),
        "mgmt": _user(session, "boss", "management"),
        "analyst": _user(session, "analyst", "analyst"),
    }
    session.commit()
    return w


def _tool(session, w, **kw):  # type: ignore[no-untyped-def]
    data = {"name": "Offers sheet", "kind": "spreadsheet", "retire_by": TODAY - timedelta(days=3), **kw}
    return registers.create_tool(
        session=session, actor=w["pm"], project_id=w["project"], data=LegacyToolCreate(**data)
    )


def test_a_tool_with_its_users_is_audited_and_listed_overdue(session, w):
    anna, jan, _ = w["people"]
    tool = _tool(session, w, user_ids=[jan, anna, anna])
    session.commit()
    assert registers.tool_user_ids(session=session, tool_id=int(tool.id or 0)) == sorted([anna, jan])
    actions = [
        a.action for a in session.exec(select(AuditEntry).where(AuditEntry.entity == "legacy_tool")).all()
    ]
    assert actions == ["create", "users"]
    data = queries.report(session, w["project"])["legacy_tools"]
    assert (data["tools"], data["overdue"], data["retired"]) == (1, 1, 0)
    assert (
        data["overdue_tools"][0]["users"] == ["Anna", "Jan"] and data["overdue_tools"][0]["days_overdue"] == 3
    )


def test_retiring_a_tool_and_a_stale_edit(session, w):
    tool = _tool(session, w, user_ids=[w["people"][0]])
    session.commit()
    registers.update_tool(
        session=session,
        actor=w["mgmt"],
        tool_id=int(tool.id or 0),
        expected_version=1,
        data=LegacyToolUpdate(retired_on=TODAY, user_ids=[]),
    )
    session.commit()
    assert tool.version == 2
    with pytest.raises(ConflictError):
        registers.update_tool(
            session=session,
            actor=w["pm"],
            tool_id=int(tool.id or 0),
            expected_version=1,
            data=LegacyToolUpdate(notes="x"),
        )
    session.rollback()
    data = queries.report(session, w["project"])["legacy_tools"]
    assert (data["retired"], data["share_retired"], data["overdue"], data["still_used_by"]) == (1, 1.0, 0, 0)


def test_only_the_users_changing_still_moves_the_version(session, w):
    tool = _tool(session, w)
    session.commit()
    registers.update_tool(
        session=session,
        actor=w["pm"],
        tool_id=int(tool.id or 0),
        expected_version=1,
        data=LegacyToolUpdate(user_ids=[w["people"][1]]),
    )
    session.commit()
    assert tool.version == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": " "}, "Tool is required"),
        ({"kind": "napkin"}, "Kind"),
        ({"retired_on": TODAY + timedelta(days=1)}, "Retired on cannot be in the future"),
    ],
)
def test_bad_tool_input_is_refused_naming_the_field(session, w, data, words):
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        _tool(session, w, **data)
    assert words in err.value.message()
    session.rollback()
    assert _counts(session) == before


def test_a_user_outside_the_project_and_a_duplicate_name_are_refused(session, w):
    outsider = w["people"][2]
    with pytest.raises(ValidationError) as err:
        _tool(session, w, user_ids=[w["people"][0], outsider])
    assert (
        "Who still uses it" in err.value.message()
        and "not one of this project's people" in err.value.message()
    )
    session.rollback()
    _tool(session, w)
    session.commit()
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        _tool(session, w, name="offers SHEET")
    assert "already exists" in err.value.message()
    session.rollback()
    assert _counts(session) == before


def test_the_registers_need_the_right(session, w):
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        registers.create_tool(
            session=session,
            actor=w["analyst"],
            project_id=w["project"],
            data=LegacyToolCreate(name="x", kind="paper"),
        )
    with pytest.raises(PermissionDenied):
        registers.create_benefit(
            session=session,
            actor=w["analyst"],
            project_id=w["project"],
            data=BenefitCreate(name="x", unit="hours", baseline="1"),
        )
    assert _counts(session) == before


def _benefit(session, w, **kw):  # type: ignore[no-untyped-def]
    data = {"name": "Hours per offer", "unit": "hours", "direction": "decrease", "baseline": "2,5", **kw}
    return registers.create_benefit(
        session=session, actor=w["pm"], project_id=w["project"], data=BenefitCreate(**data)
    )


def test_a_benefit_with_measurements_gains(session, w):
    b = _benefit(session, w)
    for days, value in ((-20, "2"), (-5, "1,25")):
        registers.add_measurement(
            session=session,
            actor=w["pm"],
            benefit_id=int(b.id or 0),
            data=MeasurementCreate(measured_on=TODAY + timedelta(days=days), value=value),
        )
    session.commit()
    item = queries.report(session, w["project"])["benefits"]["items"][0]
    assert (item["baseline"], item["current"], item["measurements"]) == (2.5, 1.25, 2)
    assert item["gain"] == pytest.approx(1.25) and item["gain_share"] == pytest.approx(0.5)
    entities = {a.entity for a in session.exec(select(AuditEntry)).all()}
    assert {"benefit", "benefit_measurement"} <= entities


def test_bad_benefit_input_and_a_second_measurement_the_same_day(session, w):
    before = _counts(session)
    for data, words in (
        ({"baseline": "lots"}, "Baseline"),
        ({"unit": "furlongs"}, "Unit"),
        ({"direction": "sideways"}, "Direction"),
        ({"baseline": None}, "Baseline is required"),
    ):
        with pytest.raises(ValidationError) as err:
            _benefit(session, w, **data)
        assert words in err.value.message()
        session.rollback()
    assert _counts(session) == before
    b = _benefit(session, w)
    registers.add_measurement(
        session=session,
        actor=w["pm"],
        benefit_id=int(b.id or 0),
        data=MeasurementCreate(measured_on=TODAY, value="2"),
    )
    session.commit()
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        registers.add_measurement(
            session=session,
            actor=w["pm"],
            benefit_id=int(b.id or 0),
            data=MeasurementCreate(measured_on=TODAY, value="1"),
        )
    assert "already has a measurement" in err.value.message()
    with pytest.raises(ValidationError) as err:
        registers.add_measurement(
            session=session,
            actor=w["pm"],
            benefit_id=int(b.id or 0),
            data=MeasurementCreate(measured_on=TODAY + timedelta(days=2), value="1"),
        )
    assert "Measured on cannot be in the future" in err.value.message()
    session.rollback()
    assert _counts(session) == before
    with pytest.raises(ConflictError):
        registers.update_benefit(
            session=session,
            actor=w["pm"],
            benefit_id=int(b.id or 0),
            expected_version=0,
            data=BenefitUpdate(name="n"),
        )


def _demo(session, w, **kw):  # type: ignore[no-untyped-def]
    data = {"kind": "benefit_demo", "title": "What we gain", "meeting_date": TODAY, **kw}
    return training.create_meeting(
        session=session, actor=w["pm"], project_id=w["project"], data=MeetingCreate(**data)
    )


def test_a_benefit_demonstration_links_the_benefits_it_showed(session, w):
    b1, b2 = _benefit(session, w), _benefit(session, w, name="Minutes per balance", unit="minutes")
    meeting = _demo(session, w, benefit_ids=[int(b2.id or 0)])
    session.commit()
    mid = int(meeting.id or 0)
    assert queries.benefits_of_meeting(session, mid) == [b2.id]
    training.update_meeting(
        session=session,
        actor=w["pm"],
        meeting_id=mid,
        expected_version=meeting.version,
        data=MeetingUpdate(benefit_ids=[int(b1.id or 0), int(b2.id or 0)]),
    )
    session.commit()
    assert queries.benefits_of_meeting(session, mid) == sorted([b1.id, b2.id])
    audits = session.exec(
        select(AuditEntry).where(AuditEntry.entity == "meeting", AuditEntry.action == "benefits")
    ).all()
    assert [a.after for a in audits] == [{"benefit_ids": [b2.id]}, {"benefit_ids": sorted([b1.id, b2.id])}]
    items = {i["name"]: i["meetings"] for i in queries.report(session, w["project"])["benefits"]["items"]}
    assert items == {"Hours per offer": 1, "Minutes per balance": 1}
    # no longer a demonstration: it shows no benefits
    training.update_meeting(
        session=session,
        actor=w["pm"],
        meeting_id=mid,
        expected_version=meeting.version,
        data=MeetingUpdate(kind="steering"),
    )
    session.commit()
    assert queries.benefits_of_meeting(session, mid) == []


def test_a_meeting_refuses_benefits_of_another_project_or_on_a_steering_meeting(session, w):
    mine = _benefit(session, w)
    theirs = registers.create_benefit(
        session=session,
        actor=w["pm"],
        project_id=w["other"],
        data=BenefitCreate(name="x", unit="hours", baseline="1"),
    )
    session.commit()
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        _demo(session, w, benefit_ids=[int(theirs.id or 0)])
    assert "not in this project's register" in err.value.message()
    session.rollback()
    with pytest.raises(ValidationError) as err:
        _demo(session, w, kind="steering", benefit_ids=[int(mine.id or 0)])
    assert "only a benefit demonstration" in err.value.message()
    session.rollback()
    assert _counts(session) == before
    plain = _demo(session, w, benefits_shown="Old free text")  # older meetings keep their text
    session.commit()
    assert (
        plain.benefits_shown == "Old free text"
        and queries.benefits_of_meeting(session, int(plain.id or 0)) == []
    )


def test_exports_defuse_formulas(session, w):
    _tool(session, w, name='=HYPERLINK("http://x")')
    session.commit()
    frames = queries.load(session, w["project"])
    csv = exporting.to_csv_bytes(frames.tools[["name", "kind"]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv
    assert isinstance(frames.tools, pd.DataFrame)
