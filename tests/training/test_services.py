"""The training and meeting services on both databases: permissions, audit, version conflicts and
bad input refused with a translated message naming the field and nothing written; coverage read
back through the queries rises when a trainer records attendance."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.core.auth import actor_for
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import AuditEntry, Person, ProjectCreate, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.rollout.services import projects
from crm_impl.training import queries, services
from crm_impl.training.models import (
    AttendanceRecord,
    MeetingCreate,
    MeetingUpdate,
    TrainingSessionCreate,
    TrainingSessionUpdate,
)

TODAY = date.today()


def _user(session: Session, name: str, role: str, person: Person | None = None) -> Actor:
    user = UserAccount(
        username=name, roles=[role], display_name=name, person_id=person.id if person else None
    )
    session.add(user)
    session.flush()
    return actor_for(user)


@pytest.fixture
def w(session: Session):  # type: ignore[no-untyped-def]
    project = projects.create_project(
        session=session,
        actor=SYSTEM,
        data=ProjectCreate(name="Rollout", go_live_date=TODAY + timedelta(days=30)),
    )
    staff = [
        Person(full_name=f"Rep {i}", side="client", department="Sales", licensed_user=True) for i in range(4)
    ]
    session.add_all(staff)
    session.flush()
    actors = {
        "trainer": _user(session, "trainer", "trainer"),
        "pm": _user(session, "pm", "pm_client"),
        "rep": _user(session, "rep", "sales_rep", staff[0]),
        "analyst": _user(session, "analyst", "analyst"),
        "consultant": _user(session, "consultant", "consultant"),
    }
    session.commit()
    return {"project": int(project.id or 0), "people": [int(p.id or 0) for p in staff], **actors}


def _counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
        if t.name in {"training_session", "attendance", "meeting", "meeting_attendee", "audit_entry"}
    }


def _held_session(session: Session, w, invited: list[int]):  # type: ignore[no-untyped-def]
    row = services.create_session(
        session=session,
        actor=w["trainer"],
        project_id=w["project"],
        data=TrainingSessionCreate(
            title="CRM basics", module="Basics", session_date=TODAY - timedelta(days=1), audience=["Sales"]
        ),
    )
    services.invite(session=session, actor=w["trainer"], session_id=int(row.id or 0), person_ids=invited)
    return services.update_session(
        session=session,
        actor=w["trainer"],
        session_id=int(row.id or 0),
        expected_version=row.version,
        data=TrainingSessionUpdate(status="held"),
    )


def test_trainer_records_attendance_and_coverage_rises(session, w):
    pid = w["project"]
    before = queries.report(session, pid)["coverage"]
    assert before == {"licensed": 4, "trained": 0, "share": 0.0}
    held = _held_session(session, w, w["people"][:3])
    rows = {a.person_id: a for a in services.attendance_of(session=session, session_id=int(held.id or 0))}
    services.record_attendance(
        session=session,
        actor=w["trainer"],
        session_id=int(held.id or 0),
        records=[
            AttendanceRecord(
                person_id=w["people"][0],
                attended=True,
                score=85,
                expected_version=rows[w["people"][0]].version,
            ),
            AttendanceRecord(person_id=w["people"][1], attended=True, score=55, expected_version=1),
            AttendanceRecord(person_id=w["people"][2], attended=False, expected_version=1),
        ],
    )
    session.commit()
    data = queries.report(session, pid)
    assert data["coverage"] == {"licensed": 4, "trained": 2, "share": 0.5}
    assert [p["name"] for p in data["untrained"]] == ["Rep 2", "Rep 3"]
    assert data["scores"]["mean"] == 70 and data["scores"]["pass_share"] == 0.5
    assert data["sessions"]["held"] == 1
    audits = session.exec(select(AuditEntry.action).where(AuditEntry.entity == "attendance")).all()
    assert sorted(audits) == ["invite"] * 3 + ["record"] * 3


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"person": 3, "attended": True, "score": 90}, "Attendance: Rep 3 was not invited to this session."),
        ({"person": 0, "attended": True, "score": 120}, "Score must be between 0 and 100."),
        ({"person": 0, "attended": True, "score": -5}, "Score must be between 0 and 100."),
        ({"person": 0, "attended": False, "score": 50}, "Score: only someone who attended has a score."),
    ],
)
def test_bad_attendance_is_refused_and_nothing_is_written(session, w, record, message):
    held = _held_session(session, w, w["people"][:2])
    session.commit()
    before = _counts(session)
    good = AttendanceRecord(person_id=w["people"][1], attended=True, score=70, expected_version=1)
    bad = AttendanceRecord(
        person_id=w["people"][record["person"]],
        attended=record["attended"],
        score=record["score"],
        expected_version=1,
    )
    with pytest.raises(ValidationError) as err:
        services.record_attendance(
            session=session, actor=w["trainer"], session_id=int(held.id or 0), records=[good, bad]
        )
    assert err.value.message() == message
    session.rollback()
    assert _counts(session) == before
    set_locale("pl")
    assert err.value.message().startswith(("Obecność:", "Wynik"))  # the field named in Polish


def test_negative_duration_and_other_bad_session_input(session, w):
    before = _counts(session)
    bad = {
        "duration_minutes": (-30, "Duration (minutes) cannot be negative."),
        "title": ("  ", "Title is required."),
        "trainer_id": (99999, "Trainer: there is no person #99999."),
    }
    for name, (value, message) in bad.items():
        values = {"title": "Offers", "session_date": TODAY, name: value}
        with pytest.raises(ValidationError) as err:
            services.create_session(
                session=session,
                actor=w["trainer"],
                project_id=w["project"],
                data=TrainingSessionCreate(**values),
            )
        assert err.value.message() == message
    assert _counts(session) == before


def test_held_needs_its_date_and_attendance_needs_held(session, w):
    row = services.create_session(
        session=session,
        actor=w["trainer"],
        project_id=w["project"],
        data=TrainingSessionCreate(title="Later", session_date=TODAY + timedelta(days=3)),
    )
    with pytest.raises(ValidationError) as err:
        services.update_session(
            session=session,
            actor=w["trainer"],
            session_id=int(row.id or 0),
            expected_version=1,
            data=TrainingSessionUpdate(status="held"),
        )
    assert "future" in err.value.message()
    services.invite(
        session=session, actor=w["trainer"], session_id=int(row.id or 0), person_ids=w["people"][:1]
    )
    with pytest.raises(ValidationError) as err:
        services.record_attendance(
            session=session,
            actor=w["trainer"],
            session_id=int(row.id or 0),
            records=[AttendanceRecord(person_id=w["people"][0], attended=True, expected_version=1)],
        )
    assert "held" in err.value.message()


def test_stale_versions_are_conflicts(session, w):
    held = _held_session(session, w, w["people"][:1])
    session.commit()
    with pytest.raises(ConflictError):
        services.update_session(
            session=session,
            actor=w["pm"],
            session_id=int(held.id or 0),
            expected_version=1,
            data=TrainingSessionUpdate(title="Renamed"),
        )
    record = AttendanceRecord(person_id=w["people"][0], attended=True, score=90, expected_version=1)
    services.record_attendance(
        session=session, actor=w["trainer"], session_id=int(held.id or 0), records=[record]
    )
    session.commit()
    with pytest.raises(ConflictError):  # the same form sent again: the row is at version 2 now
        services.record_attendance(
            session=session,
            actor=w["trainer"],
            session_id=int(held.id or 0),
            records=[record.model_copy(update={"score": 40})],
        )


def test_only_training_roles_edit_training(session, w):
    data = TrainingSessionCreate(title="x", session_date=TODAY)
    for who in ("rep", "analyst", "consultant"):
        with pytest.raises(PermissionDenied):
            services.create_session(session=session, actor=w[who], project_id=w["project"], data=data)
    assert services.create_session(session=session, actor=w["pm"], project_id=w["project"], data=data).id


def test_organiser_edits_own_meeting_pm_edits_any(session, w):
    meeting = services.create_meeting(
        session=session,
        actor=w["analyst"],
        project_id=w["project"],
        data=MeetingCreate(
            kind="workshop", title="Offer process", meeting_date=TODAY, attendee_ids=w["people"][:2]
        ),
    )
    mid = int(meeting.id or 0)
    assert services.attendee_ids(session=session, meeting_id=mid) == sorted(w["people"][:2])
    with pytest.raises(PermissionDenied) as err:
        services.update_meeting(
            session=session,
            actor=w["consultant"],
            meeting_id=mid,
            expected_version=1,
            data=MeetingUpdate(notes="mine now"),
        )
    assert "organiser" in err.value.message() and "not allowed" in err.value.message()
    services.update_meeting(
        session=session,
        actor=w["analyst"],
        meeting_id=mid,
        expected_version=1,
        data=MeetingUpdate(attendee_ids=w["people"][:3]),
    )
    row = services.update_meeting(
        session=session,
        actor=w["pm"],
        meeting_id=mid,
        expected_version=2,
        data=MeetingUpdate(decisions="Keep the offer approval in the CRM", management_present=True),
    )
    assert row.version == 3 and row.management_present
    assert services.attendee_ids(session=session, meeting_id=mid) == sorted(w["people"][:3])
    actions = session.exec(
        select(AuditEntry.action).where(AuditEntry.entity == "meeting").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "attendees", "update", "attendees", "update"]
    with pytest.raises(ConflictError):
        services.update_meeting(
            session=session, actor=w["pm"], meeting_id=mid, expected_version=2, data=MeetingUpdate(notes="x")
        )
    with pytest.raises(PermissionDenied):
        services.create_meeting(
            session=session,
            actor=w["rep"],
            project_id=w["project"],
            data=MeetingCreate(kind="steering", title="x", meeting_date=TODAY),
        )


def test_bad_meeting_input_names_the_field(session, w):
    before = _counts(session)
    for values, message in (
        ({"kind": "party"}, "Kind: “party” is not one of the allowed values."),
        ({"attendee_ids": [424242]}, "Attendees: there is no person #424242."),
    ):
        data = MeetingCreate(**{"kind": "steering", "title": "SC", "meeting_date": TODAY, **values})
        with pytest.raises(ValidationError) as err:
            services.create_meeting(session=session, actor=w["pm"], project_id=w["project"], data=data)
        assert err.value.message() == message
    assert _counts(session) == before
