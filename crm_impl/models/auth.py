"""Sign-in: user accounts with app roles, and the failed-attempt throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from crm_impl.models.base import Versioned, utcnow


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


class LoginThrottle(SQLModel, table=True):
    """Failed attempts per typed username (existing or not), so lockout reveals nothing."""

    __tablename__ = "login_throttle"

    username: str = Field(primary_key=True, max_length=64)
    failed_count: int = Field(default=0)
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None
