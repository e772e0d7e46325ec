"""The data-quality tables: the settings of the scan and the daily snapshots of the scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Update, Versioned, utcnow
from crm_impl.data_quality.vocabulary import (
    DEFAULT_BURST_COUNT,
    DEFAULT_BURST_MINUTES,
    DEFAULT_REQUIRED,
    DEFAULT_SECTORS,
    DEFAULT_STALE_DAYS,
)


class DqSettings(Versioned, table=True):
    """One row (id 1): the required fields per entity, N days for timeliness, the burst limits
    and the known sectors. Missing row: the defaults."""

    __tablename__ = "dq_settings"

    id: int = Field(default=1, primary_key=True)
    required_account: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED["account"]), sa_column=Column(JSON, nullable=False)
    )
    required_contact: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED["contact"]), sa_column=Column(JSON, nullable=False)
    )
    required_deal: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REQUIRED["deal"]), sa_column=Column(JSON, nullable=False)
    )
    stale_days: int = Field(default=DEFAULT_STALE_DAYS)
    burst_count: int = Field(default=DEFAULT_BURST_COUNT)
    burst_minutes: int = Field(default=DEFAULT_BURST_MINUTES)
    sectors: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SECTORS), sa_column=Column(JSON, nullable=False)
    )


class DqSettingsUpdate(Update):
    required_account: list[str] | None = None
    required_contact: list[str] | None = None
    required_deal: list[str] | None = None
    stale_days: int | str | None = None
    burst_count: int | str | None = None
    burst_minutes: int | str | None = None
    sectors: list[str] | str | None = None


SETTINGS_FIELDS: tuple[str, ...] = tuple(DqSettingsUpdate.model_fields)


class DqSnapshot(SQLModel, table=True):
    """The scores of one day, frozen: one row per entity ("all" for every entity together) and
    dimension ("overall" for the weighted score). Written once per day, never updated."""

    __tablename__ = "dq_snapshot"
    __table_args__ = (UniqueConstraint("day", "entity", "dimension"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    entity: str = Field(max_length=20)
    dimension: str = Field(max_length=20)
    score: float | None = None
    checked: int = Field(default=0)
    failing: int = Field(default=0)
    taken_at: datetime = Field(default_factory=utcnow)
    taken_by: str = Field(default="", max_length=64)


# --- duplicates ---


class DqDismissedPair(SQLModel, table=True):
    """A pair a user marked "not a duplicate" (left_id < right_id): no longer flagged. Audited
    when created and when withdrawn. No foreign keys: a merged record's id stays a plain number."""

    __tablename__ = "dq_dismissed_pair"
    __table_args__ = (UniqueConstraint("kind", "left_id", "right_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # "account" or "contact"
    left_id: int
    right_id: int
    dismissed_at: datetime = Field(default_factory=utcnow)
    dismissed_by: str = Field(default="", max_length=64)


class DqMerge(SQLModel, table=True):
    """A record merged into another and removed: its id stays resolvable (`merged_id` →
    `kept_id`, chains followed) and its last state is kept, so old links and audit entries still
    read. Written once per merge, never updated."""

    __tablename__ = "dq_merge"
    __table_args__ = (UniqueConstraint("kind", "merged_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    merged_id: int
    kept_id: int = Field(index=True)
    merged_at: datetime = Field(default_factory=utcnow)
    merged_by: str = Field(default="", max_length=64)
    snapshot: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    repointed: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
