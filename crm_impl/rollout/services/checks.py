"""Validators shared by the rollout-plan services: dates that may arrive as ISO text (from a data
editor), people that must exist, names unique per project, bounded integers, partial updates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel, func, select

from crm_impl.core.errors import NotFound, ValidationError
from crm_impl.core.models import Person, Project


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from a pandas cell
        return True
    return isinstance(value, str) and not value.strip()


def a_date(value: Any, field: str, *, required: bool = False) -> date | None:
    if is_blank(value) or str(value) in {"NaT", "None"}:
        if required:
            raise ValidationError("error.required", field=field)
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as err:
        raise ValidationError("error.bad_date", field=field, value=value) from err


def integer(value: Any, field: str, *, low: int | None = None, high: int | None = None) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValidationError("error.number", field=field, value=value) from err
    if number != number or number != int(number):
        raise ValidationError("error.number", field=field, value=value)
    result = int(number)
    if low is not None and result < low or high is not None and result > high:
        if low == 0 and result < 0:
            raise ValidationError("error.negative", field=field)
        raise ValidationError("error.out_of_range", field=field, low=low, high=high)
    return result


def number(value: Any, field: str) -> float:
    try:
        result = float(str(value).replace(",", ".").replace(" ", ""))
    except (TypeError, ValueError) as err:
        raise ValidationError("error.number", field=field, value=value) from err
    if result != result or result in (float("inf"), float("-inf")):
        raise ValidationError("error.number", field=field, value=value)
    return result


def person(session: Session, person_id: Any, field: str, *, required: bool = False) -> int | None:
    """An existing person's id; an unknown one is a validation error naming the field."""
    if is_blank(person_id):
        if required:
            raise ValidationError("error.required", field=field)
        return None
    try:
        pid = int(person_id)
    except (TypeError, ValueError) as err:
        raise ValidationError("error.unknown_person", field=field, value=person_id) from err
    if session.get(Person, pid) is None:
        raise ValidationError("error.unknown_person", field=field, value=person_id)
    return pid


def project(session: Session, project_id: int) -> Project:
    found = session.get(Project, project_id)
    if found is None:
        raise NotFound("error.not_found", entity="project", id=project_id)
    return found


def unique_name(
    session: Session,
    model: type[SQLModel],
    column: str,
    value: str,
    *,
    project_id: int,
    field: str,
    exclude_id: int | None = None,
) -> None:
    col = getattr(model, column)
    query = select(model.id).where(model.project_id == project_id, func.lower(col) == value.lower())  # type: ignore[attr-defined]
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)  # type: ignore[attr-defined]
    if session.exec(query).first() is not None:
        raise ValidationError("error.duplicate", field=field, value=value)


def get(session: Session, model: type[SQLModel], row_id: int, entity: str) -> Any:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("error.not_found", entity=entity, id=row_id)
    return row


def merged(
    obj: SQLModel, changes: dict[str, Any], cleaners: dict[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    """The row's values with `changes` cleaned and applied, without touching the row yet (so a
    failing cross-field check leaves the session clean)."""
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
    values = obj.model_dump()
    for key, value in changes.items():
        values[key] = cleaners[key](value)
    return values


def apply(obj: SQLModel, values: dict[str, Any], keys: list[str] | set[str]) -> None:
    for key in keys:
        setattr(obj, key, values[key])


def flush(session: Session) -> None:
    """Flush, turning a lost optimistic-locking race (the row's version moved on between our read
    and our write) into the same ConflictError a stale form gets."""
    from sqlalchemy.orm.exc import StaleDataError

    from crm_impl.core.errors import ConflictError

    try:
        session.flush()
    except StaleDataError as err:
        raise ConflictError() from err
