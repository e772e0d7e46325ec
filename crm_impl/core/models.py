"""Core tables every domain shares: users and sign-in throttle, the audit log, rollout projects
and the people on both sides; column helpers (UTC times, money, the version column)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from crm_impl.core import clock


def utcnow() -> datetime:
    """Now in UTC; inside `crm_impl.core.clock.at(moment)` that moment."""
    return clock.now()


def money_field(default: Decimal | None = Decimal("0"), **kw: Any) -> Any:
    return Field(default=default, sa_type=Numeric(14, 2), **kw)


class Versioned(SQLModel):
    """Rows users edit concurrently: SQLAlchemy refuses an UPDATE whose version is stale."""

    version: int = Field(default=1, nullable=False)

    @declared_attr  # type: ignore[arg-type]
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Update(SQLModel):
    """Base of every `XUpdate` model (see crm_impl.core.writes): all fields optional; only the
    fields a caller set count."""

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UserCreate(SQLModel):
    username: str
    password: str
    roles: list[str]
    display_name: str = ""
    email: str | None = None
    locale: str = "en"
    person_id: int | None = None


class UserUpdate(Update):
    """What an administrator edits on a user; `USER_FIELDS` is the form's field list."""

    roles: list[str] | None = None
    display_name: str | None = None
    email: str | None = None


class UserAccount(Versioned, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(default="", max_length=255)
    display_name: str = Field(default="", max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_active: bool = Field(default=True)
    locale: str = Field(default="en", max_length=5)
    active_project_id: int | None = Field(default=None, foreign_key="project.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None
    # Created by `crm-impl demo`: only such accounts get the one-click demo sign-in.
    is_demo: bool = Field(default=False)


USER_FIELDS: tuple[str, ...] = tuple(UserUpdate.model_fields)


class LoginThrottle(SQLModel, table=True):
    """Failed attempts per typed username (existing or not), so lockout reveals nothing."""

    __tablename__ = "login_throttle"

    username: str = Field(primary_key=True, max_length=64)
    failed_count: int = Field(default=0)
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None


class UserSession(SQLModel, table=True):
    """A signed-in browser. Its cookie holds an opaque random token; only the token's SHA-256
    lives here (crm_impl.core.sessions). Before the browser has the cookie, a one-time ticket
    (also hashed, valid for a minute) is what the cookie route exchanges for it."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    ticket_hash: str | None = Field(default=None, max_length=64, unique=True)
    ticket_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_reason: str = Field(default="", max_length=20)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entity", "entity", "entity_id"),
        Index("ix_audit_project_id", "project_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    username: str = Field(max_length=64)
    project_id: int | None = Field(default=None, foreign_key="project.id")
    entity: str = Field(max_length=40)
    entity_id: str = Field(default="", max_length=64)
    action: str = Field(max_length=40)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict | None = Field(default=None, sa_column=Column(JSON))


class DataVersion(SQLModel, table=True):
    """One row: a counter every committing write transaction raises by one (crm_impl.core.audit);
    the pages' caches are keyed by it."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    n: int = Field(default=0)


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


class ProjectCreate(SQLModel):
    name: str
    client_name: str = ""
    vendor_name: str = ""
    description: str = ""
    start_date: date | None = None
    go_live_date: date | None = None
    currency: str = "PLN"
    baseline_effort_days: Decimal = Decimal("0")
    baseline_cost: Decimal = Decimal("0")


class ProjectUpdate(Update):
    name: str | None = None
    client_name: str | None = None
    vendor_name: str | None = None
    description: str | None = None
    start_date: date | None = None
    go_live_date: date | None = None
    currency: str | None = None
    baseline_effort_days: Decimal | None = None
    baseline_cost: Decimal | None = None


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


class PersonCreate(SQLModel):
    full_name: str
    side: str
    department: str = ""
    email: str | None = None
    phone: str | None = None
    experience_years: int = 0
    licensed_user: bool = False


class PersonUpdate(Update):
    full_name: str | None = None
    side: str | None = None
    department: str | None = None
    email: str | None = None
    phone: str | None = None
    experience_years: int | None = None
    licensed_user: bool | None = None
    active: bool | None = None
