"""Shared column helpers. Times are timezone-aware UTC (SQLModel stores them as UTC on every backend)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def money_field(default: Decimal | None = Decimal("0"), **kw: Any) -> Any:
    return Field(default=default, sa_type=Numeric(14, 2), **kw)


class Versioned(SQLModel):
    """Rows users edit concurrently: SQLAlchemy refuses an UPDATE whose version is stale."""

    version: int = Field(default=1, nullable=False)

    @declared_attr  # type: ignore[arg-type]
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
