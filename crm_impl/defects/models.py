"""Defects, releases, test runs and acceptance (slide 9 of the lecture; anchors: Bugzilla's
VERIFIED after RESOLVED with severity apart from priority, MantisBT's reproducibility and fixed-in
version, Jira's affects/fix version, TestRail's test runs per release).

`XUpdate`'s fields are the one list of editable fields: the service takes it, the forms build it
and a grid's editable columns are its fields.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Update, Versioned, utcnow
from crm_impl.core.saved_filters import SavedFilter  # noqa: F401  (the defect list's saved filters)
from crm_impl.defects.vocabulary import (  # noqa: F401  (re-exported: the vocabularies live in a pure module)
    ACCEPTANCE_DECISIONS,
    ENVIRONMENTS,
    OPEN_STATUSES,
    PRIORITIES,
    RELEASE_STATUSES,
    REPRODUCIBILITY,
    RESOLVED_WITHOUT_FIX,
    SEVERITIES,
    SIDES,
    STATUSES,
)


class Release(Versioned, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=40)
    planned_date: date | None = None
    released_on: date | None = None
    status: str = Field(default="planned", max_length=12)
    notes: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class Defect(Versioned, table=True):
    __table_args__ = (
        Index("ix_defect_project_status", "project_id", "status"),
        Index("ix_defect_assignee", "assignee_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(max_length=200)
    steps: str = Field(default="")
    expected: str = Field(default="")
    actual: str = Field(default="")
    severity: str = Field(default="major", max_length=10)
    priority: str = Field(default="P3", max_length=2)
    module: str = Field(default="", max_length=80)
    reproducibility: str = Field(default="always", max_length=10)
    environment: str = Field(default="test_data", max_length=10)
    found_in_release_id: int | None = Field(default=None, foreign_key="release.id")
    target_release_id: int | None = Field(default=None, foreign_key="release.id")
    fixed_in_release_id: int | None = Field(default=None, foreign_key="release.id")
    reporter_id: int | None = Field(default=None, foreign_key="user_account.id")
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id")
    requirement_id: int | None = Field(default=None, foreign_key="requirement.id")
    duplicate_of_id: int | None = Field(default=None, foreign_key="defect.id")
    links: str = Field(default="")  # links / attachment references, as text
    status: str = Field(default="new", max_length=12)
    resolution: str = Field(default="")
    client_signoff_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    client_signoff_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class DefectChange(SQLModel, table=True):
    """One transition of a defect's status: who, when, from, to, with what comment and, for
    fixed / verified / reopened, on which release."""

    __tablename__ = "defect_change"
    __table_args__ = (Index("ix_defect_change_defect_at", "defect_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    defect_id: int = Field(foreign_key="defect.id")
    at: datetime = Field(default_factory=utcnow)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str = Field(max_length=12)
    release_id: int | None = Field(default=None, foreign_key="release.id")
    comment: str = Field(default="")


class DefectComment(SQLModel, table=True):
    __tablename__ = "defect_comment"

    id: int | None = Field(default=None, primary_key=True)
    defect_id: int = Field(foreign_key="defect.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    body: str = Field(default="")


class TestRun(Versioned, table=True):
    __tablename__ = "test_run"
    __test__ = False  # not a pytest test class

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    release_id: int = Field(foreign_key="release.id", index=True)
    tester_id: int | None = Field(default=None, foreign_key="user_account.id")
    side: str = Field(default="vendor", max_length=6)
    environment: str = Field(default="test_data", max_length=10)
    run_on: date = Field(default_factory=lambda: utcnow().date())
    passed: int = Field(default=0)
    failed: int = Field(default=0)
    blocked: int = Field(default=0)
    notes: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class Acceptance(Versioned, table=True):
    """The client tester's acceptance of one business process (from the rollout's requirements)
    on one release, on real data."""

    __table_args__ = (UniqueConstraint("release_id", "business_process"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    release_id: int = Field(foreign_key="release.id")
    business_process: str = Field(max_length=120)
    decision: str = Field(max_length=24)
    remarks: str = Field(default="")
    by_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow)


# ---- the typed inputs of the services -------------------------------------------------------


class ReleaseCreate(SQLModel):
    name: str
    planned_date: date | None = None
    notes: str = ""


class ReleaseUpdate(Update):
    name: str | None = None
    planned_date: date | None = None
    released_on: date | None = None
    notes: str | None = None


class DefectCreate(SQLModel):
    title: str
    steps: str = ""
    expected: str = ""
    actual: str = ""
    severity: str = "major"
    priority: str = "P3"
    module: str = ""
    reproducibility: str = "always"
    environment: str = "test_data"
    found_in_release_id: int | None = None
    target_release_id: int | None = None
    requirement_id: int | None = None
    links: str = ""


class DefectUpdate(Update):
    """The fields a tester or PM edits; status, assignee and releases move by transitions."""

    title: str | None = None
    steps: str | None = None
    expected: str | None = None
    actual: str | None = None
    severity: str | None = None
    priority: str | None = None
    module: str | None = None
    reproducibility: str | None = None
    environment: str | None = None
    found_in_release_id: int | None = None
    target_release_id: int | None = None
    requirement_id: int | None = None
    links: str | None = None


class DefectTransition(SQLModel):
    """Move a defect to `to_status`. `assignee_id` with assigned; `release_id` with fixed (the
    release that contains the fix) and verified (the release the retest ran on); `duplicate_of_id`
    with duplicate; `comment` is required for rejected, duplicate and won't fix."""

    to_status: str
    comment: str = ""
    assignee_id: int | None = None
    release_id: int | None = None
    duplicate_of_id: int | None = None


class DefectPublic(SQLModel):
    id: int
    version: int
    title: str
    severity: str
    priority: str
    module: str
    environment: str
    status: str
    reporter: str = ""
    assignee: str = ""
    found_in: str = ""
    target: str = ""
    fixed_in: str = ""
    created_at: datetime
    updated_at: datetime


class TestRunCreate(SQLModel):
    __test__ = False

    release_id: int
    side: str = "vendor"
    environment: str = "test_data"
    run_on: date | None = None
    passed: int = 0
    failed: int = 0
    blocked: int = 0
    notes: str = ""


class TestRunUpdate(Update):
    __test__ = False

    passed: int | None = None
    failed: int | None = None
    blocked: int | None = None
    notes: str | None = None


class AcceptanceCreate(SQLModel):
    release_id: int
    business_process: str
    decision: str
    remarks: str = ""
