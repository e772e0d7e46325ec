"""Small validators shared by services; each raises ValidationError naming the field's i18n key."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_impl.core.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_AMOUNT = Decimal("999999999999.99")


def text(value: Any, field: str, *, max_len: int, required: bool = True) -> str:
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise ValidationError("error.required", field=field)
    if len(cleaned) > max_len:
        raise ValidationError("error.too_long", field=field, max=max_len)
    return cleaned


def choice(value: Any, field: str, options: tuple[str, ...] | list[str]) -> str:
    if value not in options:
        raise ValidationError("error.choice", field=field, value=value)
    return str(value)


def email(value: Any, field: str = "field.email", *, required: bool = False) -> str | None:
    cleaned = str(value or "").strip()
    if not cleaned:
        if required:
            raise ValidationError("error.required", field=field)
        return None
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise ValidationError("error.email", field=field, value=cleaned)
    return cleaned.lower()


def username(value: Any) -> str:
    cleaned = str(value or "").strip().lower()
    if not _USERNAME.match(cleaned):
        raise ValidationError("error.username")
    return cleaned


def amount(value: Any, field: str, *, allow_negative: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).replace(" ", "").replace(",", ".")) if value != "" else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError("error.number", field=field, value=value)
    if not allow_negative and number < 0:
        raise ValidationError("error.negative", field=field)
    if abs(number) > MAX_AMOUNT:
        raise ValidationError("error.too_large", field=field)
    return number.quantize(Decimal("0.01"))


def date_order(start: date | None, end: date | None, field: str) -> None:
    if start and end and end < start:
        raise ValidationError("error.date_order", field=field)


def nip_valid(value: str | None) -> bool:
    """Polish tax id checksum (weights 6,5,7,2,3,4,5,6,7; mod 11)."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{10}", digits):
        return False
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    check = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    return check != 10 and check == int(digits[9])


def nip(value: Any, field: str = "field.nip") -> str | None:
    cleaned = re.sub(r"[\s-]", "", str(value or ""))
    if not cleaned:
        return None
    if not nip_valid(cleaned):
        raise ValidationError("error.nip", field=field, value=value)
    return cleaned


def expect_version(current: int, expected: int | None) -> None:
    """The form was loaded at `expected`; anything else means somebody saved in between."""
    from crm_impl.core.errors import ConflictError

    if expected is not None and current != expected:
        raise ConflictError()
