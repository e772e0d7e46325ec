"""Training sessions with their attendance, and meetings with their attendees (issue 10; slides 6,
8, 10, 11 of the lecture: invest in training, management visibly involved, meetings that show
employees the real gains).

An attendance row is an invitation: a person is invited to a session (row created), and the
trainer later records whether they attended and their assessment score. Recording attendance for
someone without a row is refused ("not invited"). `XUpdate`'s fields are the one list of
editable fields: the service takes it and the forms build it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Update, Versioned, utcnow
from crm_impl.training.vocabulary import (  # noqa: F401  (re-exported: the vocabularies live in a pure module)
    MEETING_KINDS,
    PASS_SCORE,
    SESSION_STATUSES,
)


class TrainingSession(Versioned, table=True):
    __tablename__ = "training_session"
    __table_args__ = (Index("ix_training_session_project_date", "project_id", "session_date"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    title: str = Field(max_length=200)
    module: str = Field(default="", max_length=80)
    session_date: date
    duration_minutes: int = Field(default=60)
    trainer_id: int | None = Field(default=None, foreign_key="person.id")
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    online: bool = Field(default=False)
    venue: str = Field(default="", max_length=200)  # a room, or the link / tool when online
    status: str = Field(default="planned", max_length=10)
    notes: str = Field(default="")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class Attendance(Versioned, table=True):
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_session.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    attended: bool | None = None  # None: invited, not recorded yet
    score: int | None = None  # assessment 0–100, only for someone who attended
    invited_at: datetime = Field(default_factory=utcnow)
    recorded_at: datetime | None = None


class Meeting(Versioned, table=True):
    __table_args__ = (Index("ix_meeting_project_date", "project_id", "meeting_date"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    kind: str = Field(max_length=14)
    title: str = Field(max_length=200)
    meeting_date: date
    organiser_id: int | None = Field(default=None, foreign_key="user_account.id")
    management_present: bool = Field(default=False)
    decisions: str = Field(default="")
    notes: str = Field(default="")
    benefits_shown: str = Field(default="")  # free text (older meetings); the register: meeting_benefit
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MeetingAttendee(SQLModel, table=True):
    __tablename__ = "meeting_attendee"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)


# ---- the typed inputs of the services -------------------------------------------------------


class TrainingSessionCreate(SQLModel):
    title: str
    module: str = ""
    session_date: date
    duration_minutes: int = 60
    trainer_id: int | None = None
    audience: list[str] = []
    online: bool = False
    venue: str = ""
    notes: str = ""


class TrainingSessionUpdate(Update):
    title: str | None = None
    module: str | None = None
    session_date: date | None = None
    duration_minutes: int | None = None
    trainer_id: int | None = None
    audience: list[str] | None = None
    online: bool | None = None
    venue: str | None = None
    status: str | None = None
    notes: str | None = None


class AttendanceRecord(SQLModel):
    """The trainer's entry for one invited person: attended or not, and the score (0–100,
    only with attended; blank for none)."""

    person_id: int
    attended: bool
    score: int | None = None
    expected_version: int | None = None


class MeetingCreate(SQLModel):
    kind: str
    title: str
    meeting_date: date
    management_present: bool = False
    decisions: str = ""
    notes: str = ""
    benefits_shown: str = ""
    attendee_ids: list[int] = []
    benefit_ids: list[int] = []  # a benefit demonstration's benefits (crm_impl.adoption's register)


class MeetingUpdate(Update):
    kind: str | None = None
    title: str | None = None
    meeting_date: date | None = None
    management_present: bool | None = None
    decisions: str | None = None
    notes: str | None = None
    benefits_shown: str | None = None
    attendee_ids: list[int] | None = None
    benefit_ids: list[int] | None = None
