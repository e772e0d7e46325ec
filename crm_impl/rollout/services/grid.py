"""Saving an edited grid: every edited row through its entity's update service, all in the
caller's one transaction, so one bad row writes nothing and the error names that row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from crm_impl.core.errors import DomainError, RowError
from crm_impl.core.permissions import Actor
from crm_impl.rollout.services.checks import Fields


@dataclass(frozen=True)
class GridRow:
    """One edited row: its number as the user sees it (1-based), the row's id, the version the
    grid was loaded with, and the edited cells as the editor sent them (text, NaN, None)."""

    row: int
    id: int
    version: int | None
    cells: dict[str, Any] = field(default_factory=dict)


def save_rows(
    *,
    session: Session,
    actor: Actor,
    update: Callable[..., Any],
    fields: Fields[Any],
    id_arg: str,
    rows: list[GridRow],
) -> int:
    """Clean each row's cells into the entity's typed update and call `update(<id_arg>=id,
    expected_version=version, changes=...)`; the caller commits once. Returns the rows saved."""
    for r in rows:
        try:
            changes = fields.from_cells(r.cells)
            update(
                session=session, actor=actor, **{id_arg: r.id}, expected_version=r.version, changes=changes
            )
        except RowError:
            raise
        except DomainError as err:
            raise RowError(r.row, err) from err
    return len(rows)
