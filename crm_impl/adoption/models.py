"""The adoption tables (issue 11).

Usage: in-app use is read from the audit log (every service write leaves an `AuditEntry`; the one
rule of which entries count as use is `crm_impl.adoption.vocabulary.USE_ENTITIES`), so nothing
is written twice. Use in *other* systems (a legacy CRM, a web server's access log) arrives as
imported `ActivityEvent` rows, one `UsageImport` per imported file; every event carries a
fingerprint (a hash of person, moment, action, entity and source) under a unique index, so the
same log imported twice adds nothing the second time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import utcnow


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


# --- registers (ADKAR, legacy tools, benefits) ---
