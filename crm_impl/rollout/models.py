"""The rollout plan: phases, baselines, milestones, RACI, goals, requirements, ideas, change
requests, integrations and risks (slides 6–9 and 11 of the seed)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Update, Versioned, money_field, utcnow

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


# ---------------------------------------------------------------- model families
# Per editable entity: `XCreate` (what a new row needs), `XUpdate` (every editable field, all
# optional; only the fields a caller sets are written), `XPublic` (the columns a page shows).
# `XUpdate`'s fields are the one list of editable fields: the service takes it, the forms build
# it and a grid's editable columns are its fields (see crm_impl.rollout.services.checks.Fields).


class PhaseCreate(SQLModel):
    name: str
    planned_start: date
    planned_end: date
    kind: str = "other"
    position: int | None = None  # None: after the last phase
    actual_start: date | None = None
    actual_end: date | None = None
    percent_complete: int = 0
    status: str = "not_started"
    owner_id: int | None = None


class PhaseUpdate(Update):
    name: str | None = None
    kind: str | None = None
    position: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    percent_complete: int | None = None
    status: str | None = None
    owner_id: int | None = None


class PhasePublic(SQLModel):
    id: int
    version: int
    position: int
    kind: str
    name: str
    planned_start: date
    planned_end: date
    actual_start: date | None
    actual_end: date | None
    percent_complete: int
    status: str
    owner_id: int | None
    owner: str = ""


class MilestoneCreate(SQLModel):
    name: str
    due_date: date
    phase_id: int | None = None
    done_date: date | None = None
    gate_criteria: list[dict[str, Any]] | str | None = None  # text: one open criterion per line


class MilestoneUpdate(Update):
    name: str | None = None
    phase_id: int | None = None
    due_date: date | None = None
    done_date: date | None = None
    gate_criteria: list[dict[str, Any]] | str | None = None


class MilestonePublic(SQLModel):
    id: int
    version: int
    name: str
    phase_id: int | None
    due_date: date
    done_date: date | None
    gate_criteria: list[dict[str, Any]]


class RaciCreate(SQLModel):
    phase_id: int
    person_id: int
    letter: str


class RaciUpdate(Update):
    letter: str | None = None


class RaciCell(SQLModel):
    """One edited cell of the RACI grid: the letter now (empty: none) and the letter the grid
    was loaded with (`was`; a different letter in the database means someone saved meanwhile)."""

    phase_id: int
    person_id: int
    letter: str = ""
    was: str = ""


class PlanSettingsCreate(SQLModel):
    scope_creep_limit: float = 0.10
    changes_per_month_limit: int = 3


class PlanSettingsUpdate(Update):
    scope_creep_limit: float | None = None
    changes_per_month_limit: int | None = None


class BusinessGoalCreate(SQLModel):
    name: str
    kpi: str = ""
    unit: str = ""
    baseline_value: float = 0.0
    target_value: float = 0.0
    target_date: date | None = None
    direction: str = "increase"
    owner_id: int | None = None


class BusinessGoalUpdate(Update):
    name: str | None = None
    kpi: str | None = None
    unit: str | None = None
    baseline_value: float | None = None
    target_value: float | None = None
    target_date: date | None = None
    direction: str | None = None
    owner_id: int | None = None


class BusinessGoalPublic(SQLModel):
    id: int
    version: int
    name: str
    kpi: str
    unit: str
    baseline_value: float
    target_value: float
    target_date: date | None
    direction: str
    owner_id: int | None
    owner: str = ""


class GoalMeasurementCreate(SQLModel):
    measured_on: date
    value: float
    note: str = ""


class RequirementCreate(SQLModel):
    title: str
    description: str = ""
    business_process: str = ""
    kind: str = "core"
    business_owner_id: int | None = None
    phase_id: int | None = None
    status: str = "proposed"


class RequirementUpdate(Update):
    title: str | None = None
    description: str | None = None
    business_process: str | None = None
    kind: str | None = None
    business_owner_id: int | None = None
    phase_id: int | None = None
    status: str | None = None


class RequirementPublic(SQLModel):
    id: int
    version: int
    title: str
    business_process: str
    kind: str
    status: str
    business_owner_id: int | None
    phase_id: int | None
    description: str
    owner: str = ""
    phase: str = ""


class IdeaCreate(SQLModel):
    title: str
    description: str = ""
    submitted_by_id: int | None = None  # None: the acting user's own person


class IdeaUpdate(Update):
    """What triage writes on an idea (the decision itself is `triage_idea`'s argument)."""

    status: str | None = None
    duplicate_of_idea_id: int | None = None
    duplicate_of_requirement_id: int | None = None
    requirement_id: int | None = None
    rejection_reason: str | None = None
    triaged_by: str | None = None
    triaged_at: datetime | None = None


class IdeaPublic(SQLModel):
    id: int
    version: int
    title: str
    description: str
    status: str
    submitted_at: datetime
    submitted_by_id: int
    duplicate_of_idea_id: int | None
    duplicate_of_requirement_id: int | None
    requirement_id: int | None
    rejection_reason: str
    triaged_by: str | None
    triaged_at: datetime | None
    submitted_by: str = ""
    department: str = ""


class ChangeRequestCreate(SQLModel):
    title: str
    reason: str
    effort_days: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    schedule_impact_days: int = 0
    requested_by_id: int | None = None  # None: the acting user's own person


class ChangeRequestUpdate(Update):
    """What may be edited on a change request while it is pending."""

    title: str | None = None
    reason: str | None = None
    effort_days: Decimal | None = None
    cost: Decimal | None = None
    schedule_impact_days: int | None = None


class ChangeRequestDecision(Update):
    """What a decision writes (set by `decide_change`, never typed by a user)."""

    status: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None


class ChangeRequestPublic(SQLModel):
    id: int
    version: int
    title: str
    reason: str
    requested_at: datetime
    effort_days: Decimal
    cost: Decimal
    schedule_impact_days: int
    status: str
    after_go_live: bool
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    requested_by: str = ""


class IntegrationInterfaceCreate(SQLModel):
    name: str
    system: str = "erp"
    direction: str = "both"
    method: str = "api"
    frequency: str = "daily"
    owner_id: int | None = None
    estimated_cost: Decimal = Decimal("0")
    status: str = "planned"
    notes: str = ""


class IntegrationInterfaceUpdate(Update):
    name: str | None = None
    system: str | None = None
    direction: str | None = None
    method: str | None = None
    frequency: str | None = None
    owner_id: int | None = None
    estimated_cost: Decimal | None = None
    status: str | None = None
    notes: str | None = None


class IntegrationInterfacePublic(SQLModel):
    id: int
    version: int
    name: str
    system: str
    direction: str
    method: str
    frequency: str
    owner_id: int | None
    estimated_cost: Decimal
    status: str
    notes: str
    owner: str = ""


class RiskCreate(SQLModel):
    title: str
    key: str | None = None  # a slide-8 preset, shown translated
    description: str = ""
    probability: int = 3
    impact: int = 3
    owner_id: int | None = None
    mitigation: str = ""
    status: str = "open"
    slide: int | None = None


class RiskUpdate(Update):
    title: str | None = None
    description: str | None = None
    probability: int | None = None
    impact: int | None = None
    owner_id: int | None = None
    mitigation: str | None = None
    status: str | None = None


class RiskPublic(SQLModel):
    id: int
    version: int
    key: str | None
    title: str
    description: str
    probability: int
    impact: int
    owner_id: int | None
    mitigation: str
    status: str
    slide: int | None
    owner: str = ""


class RoleAssignmentCreate(SQLModel):
    person_id: int
    role: str
    reports_to_id: int | None = None
    responsibilities: str = ""
    is_client_contact: bool = False


class RoleAssignmentUpdate(Update):
    reports_to_id: int | None = None
    responsibilities: str | None = None
    is_client_contact: bool | None = None


class RoleAssignmentPublic(SQLModel):
    id: int
    version: int
    person_id: int
    full_name: str
    side: str
    department: str
    role: str
    reports_to_id: int | None
    reports_to: str
    responsibilities: str
    is_client_contact: bool


class PersonPublic(SQLModel):
    id: int
    version: int
    full_name: str
    side: str
    department: str
    email: str | None
    experience_years: int
    licensed_user: bool
    active: bool


def columns(model: type[SQLModel]) -> list[str]:
    """The column names of a `XPublic` model, in order (a page's frame has exactly these)."""
    return list(model.model_fields)
