"""The one write path every service uses: create a row, or update a versioned row
(get -> check the version the form was loaded with -> snapshot -> apply a typed update ->
flush -> audit entry with before and after), all in the caller's transaction.

A stale write surfaces as `ConflictError` in exactly one place (`stale_as_conflict`), whether the
form's version was already old when the service checked it or the row moved on between the
service's read and its flush (a lost race that SQLAlchemy's version counter catches).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from crm_impl.core import audit
from crm_impl.core.errors import ConflictError, NotFound, ValidationError
from crm_impl.core.models import Update  # defined beside the tables (UserUpdate needs it there)
from crm_impl.core.permissions import Actor

T = TypeVar("T", bound=SQLModel)


@contextmanager
def stale_as_conflict() -> Iterator[None]:
    """Turn SQLAlchemy's refused stale UPDATE into the translated "changed by someone else"."""
    try:
        yield
    except StaleDataError as err:
        raise ConflictError() from err


def flush(session: Session) -> None:
    with stale_as_conflict():
        session.flush()


def expect_version(current: int, expected: int | None) -> None:
    """The form was loaded at `expected`; anything else means somebody saved in between."""
    if expected is not None and current != expected:
        raise ConflictError()


def get(session: Session, model: type[T], row_id: Any, entity: str) -> T:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("error.not_found", entity=entity, id=row_id)
    return row


def create(
    *,
    session: Session,
    actor: Actor,
    row: T,
    entity: str,
    project_id: int | None = None,
    action: str = "create",
) -> T:
    """Insert `row` and audit it with its full state as "after"."""
    session.add(row)
    flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=getattr(row, "id", None),
        action=action,
        after=audit.snapshot(row),
        project_id=project_id,
    )
    return row


def update_versioned(
    *,
    session: Session,
    actor: Actor,
    row: T,
    expected_version: int | None,
    changes: Update | dict[str, Any],
    entity: str,
    project_id: int | None = None,
    action: str = "update",
    check: Callable[[dict[str, Any]], None] | None = None,
) -> T:
    """Apply `changes` to a versioned `row` and audit before/after.

    `check` sees the row's values with the changes merged in *before* anything is set, so a
    failing cross-field rule (raise ValidationError) leaves the row and the session untouched.
    Unknown field names are refused rather than silently ignored.
    """
    expect_version(getattr(row, "version"), expected_version)  # noqa: B009  (every versioned row)
    data = changes.changes() if isinstance(changes, Update) else dict(changes)
    columns = set(type(row).model_fields)
    unknown = set(data) - columns
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
    if check is not None:
        check({**row.model_dump(), **data})
    before = audit.snapshot(row)
    for name, value in data.items():
        setattr(row, name, value)
    session.add(row)
    flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=getattr(row, "id", None),
        action=action,
        before=before,
        after=audit.snapshot(row),
        project_id=project_id,
    )
    return row


def update_by_id(
    *,
    session: Session,
    actor: Actor,
    model: type[T],
    row_id: Any,
    expected_version: int | None,
    changes: Callable[[], dict[str, Any]] | dict[str, Any],
    entity: str,
    project_id: int | None = None,
) -> T:
    """get -> version check -> `update_versioned`, for a service with nothing to check on the row
    itself. `changes` may be a callable (the service's cleaner) so a stale form is refused as a
    conflict before its values are validated."""
    row = get(session, model, row_id, entity)
    expect_version(getattr(row, "version"), expected_version)  # noqa: B009
    return update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=changes() if callable(changes) else changes,
        entity=entity,
        project_id=project_id,
    )


def delete(
    *, session: Session, actor: Actor, row: SQLModel, entity: str, project_id: int | None = None
) -> None:
    """Delete `row`, keeping its last state in the audit log."""
    before = audit.snapshot(row)
    row_id = getattr(row, "id", None)
    session.delete(row)
    flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity=entity,
        entity_id=row_id,
        action="delete",
        before=before,
        project_id=project_id,
    )
