"""The append-only audit log: one row per write, with the state before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from crm_impl.models.base import utcnow


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
