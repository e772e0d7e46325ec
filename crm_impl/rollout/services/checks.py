"""Validators shared by the rollout services: dates that may arrive as ISO text (from a data
editor), people that must exist, names unique per project, bounded integers, and `Fields` (an
entity's editable fields with the cleaner of each)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, func, select

from crm_impl.core import writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, Project

U = TypeVar("U", bound=writes.Update)


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
    return writes.get(session, Project, project_id, "project")


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
    table = inspect(model).local_table  # the columns of any project-scoped table
    query = select(table.c.id).where(
        table.c.project_id == project_id, func.lower(table.c[column]) == value.lower()
    )
    if exclude_id is not None:
        query = query.where(table.c.id != exclude_id)
    if session.exec(query).first() is not None:
        raise ValidationError("error.duplicate", field=field, value=value)


Cleaner = Callable[[Any], Any]


def an_id(value: Any, field: str) -> int | None:
    """A reference picked in a form or a grid cell (int, float from pandas, text); blank -> None.
    Whether it exists is the service's check (it needs the session)."""
    if is_blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValidationError("error.choice", field=field, value=value) from err
    if number != int(number):
        raise ValidationError("error.choice", field=field, value=value)
    return int(number)


def flag(value: Any) -> bool:
    """A checkbox cell: NaN/None/empty -> False."""
    return False if is_blank(value) else bool(value)


class Fields(Generic[U]):
    """One entity's editable fields: its `XUpdate` model (names and types, defined once) and the
    cleaner of each field, which turns a form value or a grid cell (text, NaN, None) into the
    typed value, or raises a translated ValidationError naming the field. The service cleans
    every value it is given with the same cleaners, so a form, a grid, the CLI and the demo
    meet the same rules. Cleaners of create-only fields may be listed too."""

    def __init__(self, update: type[U], cleaners: dict[str, Cleaner]) -> None:
        missing = set(update.model_fields) - set(cleaners)
        if missing:
            raise TypeError(f"{update.__name__}: no cleaner for {sorted(missing)}")
        self.update = update
        self.cleaners = cleaners

    @property
    def names(self) -> list[str]:
        """The editable fields (a grid's editable columns, a form's inputs)."""
        return list(self.update.model_fields)

    def clean(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.cleaners)
        if unknown:
            raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
        return {name: self.cleaners[name](value) for name, value in values.items()}

    def cleaned(self, changes: U) -> U:
        """The same update with every set field cleaned (still only those fields set)."""
        return self.update(**self.clean(changes.changes()))

    def from_cells(self, cells: dict[str, Any]) -> U:
        """A grid row's edited cells as a typed update."""
        unknown = set(cells) - set(self.names)
        if unknown:
            raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
        return self.update(**self.clean(cells))
