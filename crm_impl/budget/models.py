"""Budget lines, cost postings, the project's budget settings and the monthly earned-value
snapshots (issue 10; slide 10 of the lecture: a budget that covers every stage, with a proper
share for thorough training).

`XUpdate`'s fields are the one list of editable fields: the service takes it, the forms build it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.budget.vocabulary import (  # noqa: F401  (re-exported: the vocabularies live in a pure module)
    CATEGORIES,
    DEFAULT_TRAINING_HIGH,
    DEFAULT_TRAINING_LOW,
    DEFAULT_TRAINING_SOURCE,
    LINE_STATUSES,
    SEED_STAGES,
)
from crm_impl.core.models import Update, Versioned, money_field, utcnow


class BudgetLine(Versioned, table=True):
    """One line of a project's budget: a category, optionally a rollout phase, what is planned,
    what is committed (orders signed), and the forecast at completion (blank: the larger of
    planned, committed and actual)."""

    __tablename__ = "budget_line"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=120)
    category: str = Field(default="other", max_length=20)
    phase_id: int | None = Field(default=None, foreign_key="phase.id")
    planned: Decimal = money_field()
    committed: Decimal = money_field()
    forecast: Decimal | None = money_field(default=None, nullable=True)
    status: str = Field(default="open", max_length=10)
    notes: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class CostPosting(Versioned, table=True):
    """An actual cost booked against a budget line (from accounting or typed in)."""

    __tablename__ = "cost_posting"
    __table_args__ = (
        Index("ix_cost_posting_project_date", "project_id", "posted_on"),
        Index("ix_cost_posting_line", "line_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    line_id: int = Field(foreign_key="budget_line.id")
    posted_on: date
    amount: Decimal = money_field()
    supplier: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=500)
    document_number: str = Field(default="", max_length=60)
    created_at: datetime = Field(default_factory=utcnow)


class BudgetSettings(Versioned, table=True):
    """Per-project benchmark band for the training share of the budget, and its source."""

    __tablename__ = "budget_settings"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    training_share_low: float = Field(default=DEFAULT_TRAINING_LOW)
    training_share_high: float = Field(default=DEFAULT_TRAINING_HIGH)
    training_source: str = Field(default=DEFAULT_TRAINING_SOURCE)


class EvSnapshot(SQLModel, table=True):
    """The earned-value figures of one project as of the end of one month, frozen when taken so
    that editing a phase's % complete later does not rewrite the history. Never updated."""

    __tablename__ = "ev_snapshot"
    __table_args__ = (UniqueConstraint("project_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    month: date  # the first day of the month; the figures are as of its last day
    bac: Decimal = money_field()
    pv: Decimal = money_field()
    ev: Decimal = money_field()
    ac: Decimal = money_field()
    taken_at: datetime = Field(default_factory=utcnow)
    taken_by: str = Field(default="", max_length=64)


# ---- the typed inputs of the services -------------------------------------------------------


class BudgetLineCreate(SQLModel):
    name: str
    category: str = "other"
    phase_id: int | None = None
    planned: Decimal | str | float = Decimal("0")
    committed: Decimal | str | float = Decimal("0")
    forecast: Decimal | str | float | None = None
    notes: str = ""


class BudgetLineUpdate(Update):
    name: str | None = None
    category: str | None = None
    phase_id: int | None = None
    planned: Decimal | str | float | None = None
    committed: Decimal | str | float | None = None
    forecast: Decimal | str | float | None = None
    status: str | None = None
    notes: str | None = None


class CostPostingCreate(SQLModel):
    line_id: int
    posted_on: date | str | None = None
    amount: Decimal | str | float = Decimal("0")
    supplier: str = ""
    description: str = ""
    document_number: str = ""


class CostPostingUpdate(Update):
    line_id: int | None = None
    posted_on: date | str | None = None
    amount: Decimal | str | float | None = None
    supplier: str | None = None
    description: str | None = None
    document_number: str | None = None


class BudgetSettingsUpdate(Update):
    training_share_low: float | None = None
    training_share_high: float | None = None
    training_source: str | None = None
