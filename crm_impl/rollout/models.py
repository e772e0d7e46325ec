"""The rollout plan: phases, baselines, milestones, RACI, goals, requirements, ideas, change
requests, integrations and risks (slides 6–9 and 11 of the seed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Versioned, money_field, utcnow

PHASE_KINDS = (
    "analysis",
    "programming",
    "testing",
    "deployment",
    "training",
    "modifications",
    "maintenance",
    "other",
)
PHASE_STATUSES = ("not_started", "in_progress", "done", "on_hold")
RACI_LETTERS = ("R", "A", "C", "I")
GOAL_DIRECTIONS = ("increase", "decrease")
REQUIREMENT_KINDS = ("core", "extension")
REQUIREMENT_STATUSES = ("proposed", "approved", "in_progress", "done", "deferred", "rejected")
IDEA_STATUSES = ("new", "accepted", "duplicate", "rejected")
CHANGE_STATUSES = ("pending", "approved", "rejected")
INTEGRATION_SYSTEMS = ("erp", "accounting", "eshop", "warehouse", "email", "telephony", "bi", "other")
INTEGRATION_DIRECTIONS = ("inbound", "outbound", "both")
INTEGRATION_METHODS = ("file", "api", "database")
INTEGRATION_FREQUENCIES = ("realtime", "hourly", "daily", "weekly", "monthly", "on_demand")
INTEGRATION_STATUSES = ("planned", "in_progress", "testing", "live", "cancelled")
RISK_STATUSES = ("open", "mitigating", "closed", "occurred")


class Phase(Versioned, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(default="other", max_length=20)
    name: str = Field(max_length=120)
    position: int = Field(default=0)
    planned_start: date
    planned_end: date
    actual_start: date | None = None
    actual_end: date | None = None
    percent_complete: int = Field(default=0)
    status: str = Field(default="not_started", max_length=20)
    owner_id: int | None = Field(default=None, foreign_key="person.id")


class PhaseBaseline(SQLModel, table=True):
    """A named, frozen copy of the schedule; never edited, only compared."""

    __tablename__ = "phase_baseline"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=64)


class BaselineItem(SQLModel, table=True):
    __tablename__ = "baseline_item"

    id: int | None = Field(default=None, primary_key=True)
    baseline_id: int = Field(foreign_key="phase_baseline.id", index=True)
    kind: str = Field(max_length=10)  # phase | milestone
    ref_id: int
    name: str = Field(max_length=120)
    start: date | None = None
    end: date


class Milestone(Versioned, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    phase_id: int | None = Field(default=None, foreign_key="phase.id")
    name: str = Field(max_length=120)
    due_date: date
    done_date: date | None = None
    # [{"text": "...", "done": false}, ...]: the gate may only be passed when every item is done
    gate_criteria: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RaciEntry(Versioned, table=True):
    __tablename__ = "raci_entry"
    __table_args__ = (UniqueConstraint("phase_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    phase_id: int = Field(foreign_key="phase.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    letter: str = Field(max_length=1)


class PlanSettings(Versioned, table=True):
    """Per-project thresholds for the plan screens (slide 9 scope, slide 11 moderation)."""

    __tablename__ = "plan_settings"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    scope_creep_limit: float = Field(default=0.10)
    changes_per_month_limit: int = Field(default=3)


class BusinessGoal(Versioned, table=True):
    __tablename__ = "business_goal"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=120)
    kpi: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=30)
    baseline_value: float = 0.0
    target_value: float = 0.0
    target_date: date | None = None
    direction: str = Field(default="increase", max_length=10)
    owner_id: int | None = Field(default=None, foreign_key="person.id")


class GoalMeasurement(SQLModel, table=True):
    __tablename__ = "goal_measurement"
    __table_args__ = (UniqueConstraint("goal_id", "measured_on"),)

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="business_goal.id", index=True)
    measured_on: date
    value: float
    note: str = Field(default="", max_length=200)


class Requirement(Versioned, table=True):
    __table_args__ = (UniqueConstraint("project_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="")
    business_process: str = Field(default="", max_length=120)
    kind: str = Field(default="core", max_length=10)
    business_owner_id: int | None = Field(default=None, foreign_key="person.id")
    phase_id: int | None = Field(default=None, foreign_key="phase.id")
    status: str = Field(default="proposed", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class Idea(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="")
    submitted_by_id: int = Field(foreign_key="person.id", index=True)
    submitted_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="new", max_length=12, index=True)
    duplicate_of_idea_id: int | None = Field(default=None, foreign_key="idea.id")
    duplicate_of_requirement_id: int | None = Field(default=None, foreign_key="requirement.id")
    requirement_id: int | None = Field(default=None, foreign_key="requirement.id")
    rejection_reason: str = Field(default="")
    triaged_by: str | None = Field(default=None, max_length=64)
    triaged_at: datetime | None = None


class ChangeRequest(Versioned, table=True):
    __tablename__ = "change_request"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    title: str = Field(max_length=200)
    reason: str = Field(default="")
    requested_by_id: int = Field(foreign_key="person.id")
    requested_at: datetime = Field(default_factory=utcnow)
    effort_days: Decimal = money_field()
    cost: Decimal = money_field()
    schedule_impact_days: int = Field(default=0)
    status: str = Field(default="pending", max_length=10, index=True)
    after_go_live: bool = Field(default=False)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = None
    decision_note: str = Field(default="")


class IntegrationInterface(Versioned, table=True):
    __tablename__ = "integration_interface"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=120)
    system: str = Field(default="erp", max_length=20)
    direction: str = Field(default="both", max_length=10)
    method: str = Field(default="api", max_length=10)
    frequency: str = Field(default="daily", max_length=12)
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    estimated_cost: Decimal = money_field()
    status: str = Field(default="planned", max_length=12)
    notes: str = Field(default="")


class Risk(Versioned, table=True):
    __table_args__ = (UniqueConstraint("project_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str | None = Field(default=None, max_length=40)  # the slide-8 presets, shown translated
    title: str = Field(max_length=200)
    description: str = Field(default="")
    probability: int = Field(default=3)  # 1..5
    impact: int = Field(default=3)  # 1..5
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    mitigation: str = Field(default="")
    status: str = Field(default="open", max_length=12)
    slide: int | None = None


PROJECT_ROLES = (
    "sponsor",
    "pm_vendor",
    "pm_client",
    "analyst",
    "consultant",
    "tester_vendor",
    "tester_client",
    "programmer",
    "trainer",
    "end_user",
)


class RoleAssignment(Versioned, table=True):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("project_id", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=20)
    reports_to_id: int | None = Field(default=None, foreign_key="person.id")
    responsibilities: str = Field(default="")
    is_client_contact: bool = Field(default=False)
