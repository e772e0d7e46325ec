"""Rollout projects, the people on both sides, and who holds which project role."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from crm_impl.models.base import Versioned, money_field, utcnow

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
SIDES = ("client", "vendor")


class Project(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    client_name: str = Field(default="", max_length=120)
    vendor_name: str = Field(default="", max_length=120)
    description: str = Field(default="")
    start_date: date | None = None
    go_live_date: date | None = None
    currency: str = Field(default="PLN", max_length=3)
    baseline_effort_days: Decimal = money_field()
    baseline_cost: Decimal = money_field()
    created_at: datetime = Field(default_factory=utcnow)


class Person(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=120, index=True)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    side: str = Field(default="client", max_length=10)
    department: str = Field(default="", max_length=80)
    experience_years: int = Field(default=0)
    licensed_user: bool = Field(default=False)
    active: bool = Field(default=True)


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
