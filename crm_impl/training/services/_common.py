"""Cleaners shared by the training and meeting services: each turns a form value, a grid cell or
an import field into the typed value or raises a translated ValidationError naming the field."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from crm_impl.core import validation
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person
from crm_impl.rollout.services import checks as chk

SCORE_RANGE = (0, 100)
MAX_MINUTES = 2400  # a training of several days is several sessions


def field(name: str) -> str:
    return f"training.field.{name}"


def score(value: Any) -> int | None:
    """An assessment score: blank -> none, else a whole number 0–100."""
    if chk.is_blank(value):
        return None
    number = chk.integer(value, field("score"))
    low, high = SCORE_RANGE
    if not low <= number <= high:
        raise ValidationError("error.out_of_range", field=field("score"), low=low, high=high)
    return number


def duration(value: Any) -> int:
    """Minutes, at least one (a negative duration is refused as negative)."""
    minutes = chk.integer(value, field("duration_minutes"), low=0, high=MAX_MINUTES)
    if minutes == 0:
        raise ValidationError("error.out_of_range", field=field("duration_minutes"), low=1, high=MAX_MINUTES)
    return minutes


def departments(value: Any) -> list[str]:
    """The audience: department names, trimmed, each once, in the order given."""
    if chk.is_blank(value):
        return []
    items = [value] if isinstance(value, str) else list(value)
    cleaned = [validation.text(v, field("audience"), max_len=80, required=False) for v in items]
    return list(dict.fromkeys(d for d in cleaned if d))


def people(session: Session, value: Any, name: str) -> list[int]:
    """Existing person ids, each once; an unknown one is refused naming the field."""
    if chk.is_blank(value):
        return []
    ids = [chk.an_id(v, field(name)) for v in (value if isinstance(value, list | tuple | set) else [value])]
    wanted = list(dict.fromkeys(i for i in ids if i is not None))
    if not wanted:
        return []
    found = set(session.exec(select(Person.id).where(col(Person.id).in_(wanted))).all())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationError("error.unknown_person", field=field(name), value=missing[0])
    return wanted
