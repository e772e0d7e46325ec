"""The adoption tables (issue 11).

Usage: in-app use is read from the audit log (every service write leaves an `AuditEntry`; the one
rule of which entries count as use is `crm_impl.adoption.vocabulary.USE_ENTITIES`), so nothing
is written twice. Use in *other* systems (a legacy CRM, a web server's access log) arrives as
imported `ActivityEvent` rows, one `UsageImport` per imported file; every event carries a
fingerprint (a hash of person, moment, action, entity and source) under a unique index, so the
same log imported twice adds nothing the second time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.adoption.registers_vocabulary import (  # noqa: F401  (re-exported for the services)
    ADKAR_ELEMENTS,
    BENEFIT_DIRECTIONS,
    BENEFIT_UNITS,
    LEGACY_KINDS,
)
from crm_impl.core.models import Update, Versioned, utcnow


class UsageImport(SQLModel, table=True):
    """One imported usage log: where it came from, who imported it, what it added and skipped."""

    __tablename__ = "usage_import"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    source: str = Field(max_length=60)  # the system the log came from, e.g. "legacy-crm"
    file_name: str = Field(default="", max_length=255)
    imported_at: datetime = Field(default_factory=utcnow)
    imported_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    added: int = Field(default=0)
    skipped_duplicates: int = Field(default=0)


class ActivityEvent(SQLModel, table=True):
    """One use of another system by one person, imported from its log."""

    __tablename__ = "activity_event"
    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint", name="uq_activity_event_fingerprint"),
        Index("ix_activity_event_project_at", "project_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    at: datetime
    action: str = Field(max_length=40)  # normalised: create, update, view, …
    entity: str = Field(default="", max_length=40)
    source: str = Field(max_length=60)
    import_id: int = Field(foreign_key="usage_import.id", index=True)
    fingerprint: str = Field(max_length=64)


class UsageDay(SQLModel, table=True):
    """The usage rollup: one row per source of use, subject and UTC day with its counts, so the
    usage figures read thousands of rows instead of every event. Kept by
    `crm_impl.adoption.rollup` in the same transaction as the events it counts: every audit
    entry that is use (`vocabulary.USE_ENTITIES`) as it is inserted, every imported event as its
    chunk is added; `rollup.rebuild` recomputes it from the events.

    In-app rows (`imported` false, source "app"): `subject_id` is the acting user account
    (0: none), `project_key` the entry's project (0: none — such use counts for every project);
    the person is looked up when the figures are read, as from the audit log. Imported rows:
    `subject_id` is the person, `project_key` the project, `source` the log's system."""

    __tablename__ = "usage_day"
    __table_args__ = (
        UniqueConstraint("imported", "project_key", "source", "subject_id", "day", name="uq_usage_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    imported: bool
    project_key: int  # the project's id, 0 for in-app use outside any project
    source: str = Field(max_length=60)
    subject_id: int  # in-app: the user account (0: none); imported: the person
    day: date  # UTC
    created: int = 0  # uses that created a record
    used: int = 0  # every use (created ones included)


# --- registers (ADKAR, legacy tools, benefits) ---
#
# The ADKAR survey: a round is one survey on one date; a response is one person's five scores,
# or one anonymous row of a department (person_id empty). The department is stored with every
# response (a person's department when the round was answered), so a later move to another
# department does not rewrite an earlier round.
#
# Legacy tools: what people still use instead of the CRM (a spreadsheet, paper, another program),
# who uses it, when it must go and when it went. Benefits: what the CRM gains, in a unit, from a
# baseline, measured on dates (the latest measurement is "current"); a benefit demonstration
# meeting links the benefits it showed (meeting_benefit).


class AdkarRound(Versioned, table=True):
    __tablename__ = "adkar_round"
    __table_args__ = (Index("ix_adkar_round_project_date", "project_id", "survey_date"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    title: str = Field(max_length=120)
    survey_date: date
    notes: str = Field(default="")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class AdkarResponse(Versioned, table=True):
    __tablename__ = "adkar_response"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="adkar_round.id", index=True)
    department: str = Field(max_length=80)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)  # None: anonymous
    awareness: int
    desire: int
    knowledge: int
    ability: int
    reinforcement: int
    created_at: datetime = Field(default_factory=utcnow)


class LegacyTool(Versioned, table=True):
    __tablename__ = "legacy_tool"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=12)  # LEGACY_KINDS
    notes: str = Field(default="")
    retire_by: date | None = None
    retired_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LegacyToolUser(SQLModel, table=True):
    __tablename__ = "legacy_tool_user"

    tool_id: int = Field(foreign_key="legacy_tool.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True, index=True)


class Benefit(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=10)  # BENEFIT_UNITS
    direction: str = Field(default="decrease", max_length=8)  # which way is a gain
    baseline: Decimal = Field(sa_type=Numeric(14, 2))
    baseline_on: date | None = None
    notes: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class BenefitMeasurement(Versioned, table=True):
    __tablename__ = "benefit_measurement"
    __table_args__ = (UniqueConstraint("benefit_id", "measured_on"),)

    id: int | None = Field(default=None, primary_key=True)
    benefit_id: int = Field(foreign_key="benefit.id", index=True)
    measured_on: date
    value: Decimal = Field(sa_type=Numeric(14, 2))
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class MeetingBenefit(SQLModel, table=True):
    """A benefit shown at a (benefit demonstration) meeting."""

    __tablename__ = "meeting_benefit"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True)
    benefit_id: int = Field(foreign_key="benefit.id", primary_key=True, index=True)


# ---- the typed inputs of the registers' services ----------------------------------------------


class AdkarRoundCreate(SQLModel):
    title: str
    survey_date: date
    notes: str = ""


class AdkarRoundUpdate(Update):
    title: str | None = None
    survey_date: date | None = None
    notes: str | None = None


class AdkarScores(SQLModel):
    """One line of a round: a person's scores, or a department's anonymous ones (person_id
    empty, department given). Values as typed (a grid cell, a CSV field): the service cleans."""

    department: Any = None
    person_id: Any = None
    awareness: Any = None
    desire: Any = None
    knowledge: Any = None
    ability: Any = None
    reinforcement: Any = None


class AdkarResponseUpdate(Update):
    awareness: int | None = None
    desire: int | None = None
    knowledge: int | None = None
    ability: int | None = None
    reinforcement: int | None = None


class LegacyToolCreate(SQLModel):
    name: str
    kind: str
    notes: str = ""
    retire_by: date | None = None
    retired_on: date | None = None
    user_ids: list[int] = []


class LegacyToolUpdate(Update):
    name: str | None = None
    kind: str | None = None
    notes: str | None = None
    retire_by: date | None = None
    retired_on: date | None = None
    user_ids: list[int] | None = None


class BenefitCreate(SQLModel):
    name: str
    unit: str
    direction: str = "decrease"
    baseline: Any
    baseline_on: date | None = None
    notes: str = ""


class BenefitUpdate(Update):
    name: str | None = None
    unit: str | None = None
    direction: str | None = None
    baseline: Any = None
    baseline_on: date | None = None
    notes: str | None = None


class MeasurementCreate(SQLModel):
    measured_on: date
    value: Any
    note: str = ""


# the rollup's listener on audit-entry inserts (registered with the tables, so any process that
# has the tables keeps the rollup); imported last: it reads the tables above
from crm_impl.adoption import rollup as _rollup  # noqa: E402, F401
