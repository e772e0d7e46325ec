"""Small validators shared by services; each raises ValidationError naming the field's i18n key."""

from __future__ import annotations

import re
from datetime import date, datetime
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


_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")  # the importer's rule for a phone cell (importers.cleaning)


def phone(value: Any, field: str, *, max_len: int = 40) -> str | None:
    """A phone number as typed ("+48 601 234 567", "(22) 123-45-67"): digits with spaces,
    dashes, dots, slashes or brackets, an optional leading +, 6 to 15 digits (E.164). Empty is
    None; anything else is a translated ValidationError naming the field."""
    cleaned = str(value or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > max_len:
        raise ValidationError("error.too_long", field=field, max=max_len)
    digits = sum(ch.isdigit() for ch in cleaned)
    if not _PHONE.match(cleaned) or not 6 <= digits <= 15:
        raise ValidationError("error.phone", field=field, value=cleaned)
    return cleaned


def username(value: Any) -> str:
    cleaned = str(value or "").strip().lower()
    if not _USERNAME.match(cleaned):
        raise ValidationError("error.username")
    return cleaned


_CURRENCY = r"(?:zł|pln|eur|usd|gbp|chf|€|\$|£)"
_AFFIX = re.compile(rf"(?i)^{_CURRENCY}\s*|\s*{_CURRENCY}\.?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’]")  # thousands separators that are never decimal
_SHAPE = re.compile(r"([+-]?)([\d.,]*\d[\d.,]*|[.,]\d+)([eE][+-]?\d+)?")


def decimal_symbol(locale: str | None = None) -> str:
    """The decimal separator of a language ("en" -> ".", "pl" -> ","), from babel (CLDR)."""
    from babel.numbers import get_decimal_symbol

    from crm_impl.core.i18n import get_locale

    return str(get_decimal_symbol(locale or get_locale()))


def parse_decimal(value: Any, *, locale: str | None = None, decimal: str | None = None) -> Decimal | None:
    """A number as people type it, in either convention: "1.234,50", "1 234,56" (spaces, NBSP or
    narrow NBSP between thousands), "1,234.50", "-12,5", "1234.5", with a currency sign around
    it. `decimal` ("," or ".") says which separator is the decimal one; otherwise the last of two
    different separators is, a separator seen twice groups thousands, and a lone separator
    followed by exactly three digits ("1,234") is decided by the language's decimal symbol.
    None for anything else: garbage, NaN, infinity, wrong grouping ("1,2,3"). A huge value
    ("1E+999999999999") is returned as it is (never expanded) for the caller's range check.
    The one parser behind forms (`amount`) and imports (`importers.cleaning.parse_numbers`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        number = Decimal(value)
        return number if number.is_finite() else None
    if isinstance(value, float):
        return parse_decimal(repr(value), decimal=".")
    text = _AFFIX.sub("", str(value or "").strip()).replace("\u2212", "-")
    match = _SHAPE.fullmatch(_SPACES.sub("", text))
    if not match:
        return None
    sign, body, exponent = match.groups()
    dec = decimal if decimal in (",", ".") else _decimal_of(body, locale)
    group = "." if dec == "," else ","
    whole, _, fraction = body.partition(dec)
    if dec in fraction or group in fraction:
        return None
    if group in whole:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+", whole):
            return None
        whole = whole.replace(group, "")
    try:
        number = Decimal(f"{sign}{whole or '0'}{'.' + fraction if fraction else ''}{exponent or ''}")
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _decimal_of(body: str, locale: str | None) -> str:
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if not commas and not dots:
        return "."
    sep = "," if commas else "."
    if commas + dots > 1:  # "1.234.567": the separator groups, the other one is decimal
        return "." if sep == "," else ","
    whole, fraction = body.split(sep)
    if len(fraction) == 3 and whole not in ("", "0"):  # "1,234": the language decides
        return sep if decimal_symbol(locale) == sep else ("." if sep == "," else ",")
    return sep


def number(value: Any, field: str, *, locale: str | None = None, decimal: str | None = None) -> Decimal:
    """`parse_decimal`, or a translated ValidationError naming the field."""
    parsed = parse_decimal(value, locale=locale, decimal=decimal)
    if parsed is None:
        raise ValidationError("error.number", field=field, value=value)
    return parsed


def amount(
    value: Any,
    field: str,
    *,
    allow_negative: bool = False,
    locale: str | None = None,
    decimal: str | None = None,
) -> Decimal:
    """Money as typed in a form ("1 234,50" in Polish, "1,234.50" in English), to the cent."""
    parsed = number(value, field, locale=locale, decimal=decimal)
    if not allow_negative and parsed < 0:
        raise ValidationError("error.negative", field=field)
    if parsed.copy_abs() > MAX_AMOUNT:  # copy_abs: no context, so 1E+999999999999 cannot overflow
        raise ValidationError("error.too_large", field=field)
    return parsed.quantize(Decimal("0.01"))


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAY_FIRST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)  # a typo (year 20177, 0017) is refused


def day(value: Any, field: str, *, required: bool = False) -> date | None:
    """A calendar date as a form or a caller gives it: a `date`, a `datetime` (its date), or
    text in ISO form ("2017-02-28") or day first ("28.02.2017", "28-02-2017", "28/02/2017";
    never month first). Empty is None (or "required"); an impossible day ("31-02-2017"), any
    other text or type, or a date outside 1900–2199 is a translated ValidationError naming the
    field, never a TypeError from the database driver."""
    blank = isinstance(value, str) and not value.strip()
    if value is None or blank or (isinstance(value, float | datetime) and value != value):  # NaN, NaT
        if required:
            raise ValidationError("error.required", field=field)
        return None
    parsed: date | None = None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = date.fromisoformat(text) if _ISO_DAY.fullmatch(text) else None
            match = _DAY_FIRST.fullmatch(text) if parsed is None else None
            if match:
                parsed = date(int(match[4]), int(match[3]), int(match[1]))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError("error.bad_date", field=field, value=value)
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValidationError(
            "error.out_of_range", field=field, low=FIRST_DAY.isoformat(), high=LAST_DAY.isoformat()
        )
    return parsed


def date_order(start: date | None, end: date | None, field: str) -> None:
    if start and end and end < start:
        raise ValidationError("error.date_order", field=field)


def nip_valid(value: str | None) -> bool:
    """Polish tax id: ten digits (spaces and dashes aside) with a valid checksum, checked by
    python-stdnum (`stdnum.pl.nip`). The one NIP rule: services, importer and data quality."""
    from stdnum.pl import nip as std_nip

    digits = re.sub(r"[\s-]", "", value or "")
    return bool(re.fullmatch(r"\d{10}", digits)) and bool(std_nip.is_valid(digits))


def nip(value: Any, field: str = "field.nip") -> str | None:
    cleaned = re.sub(r"[\s-]", "", str(value or ""))
    if not cleaned:
        return None
    if not nip_valid(cleaned):
        raise ValidationError("error.nip", field=field, value=value)
    return cleaned


def regon(value: Any, field: str = "field.regon") -> str | None:
    """A REGON as stored (digits only), None when empty; a wrong checksum is refused."""
    from crm_impl.core import registry_ids

    cleaned = registry_ids.normal_regon(value)
    if not cleaned:
        return None
    if not registry_ids.regon_valid(cleaned):
        raise ValidationError("error.regon", field=field, value=value)
    return cleaned


def iban(value: Any, field: str = "field.iban") -> str | None:
    """A bank account as stored (IBAN in capitals without spaces; 26 digits get "PL")."""
    from crm_impl.core import registry_ids

    cleaned = registry_ids.normal_iban(value)
    if not cleaned:
        return None
    if not registry_ids.iban_valid(cleaned):
        raise ValidationError("error.iban", field=field, value=value)
    return cleaned


def postal_code(value: Any, field: str) -> str | None:
    """A Polish postal code as stored, NN-NNN ("00950" and "00 950" are accepted as 00-950)."""
    from crm_impl.core import registry_ids

    cleaned = registry_ids.normal_postal_code(value)
    if not cleaned:
        return None
    if not registry_ids.postal_code_valid(cleaned):
        raise ValidationError("error.postal_code", field=field, value=value)
    return cleaned


def expect_version(current: int, expected: int | None) -> None:
    """The form was loaded at `expected`; anything else means somebody saved in between.
    (Kept for callers not yet moved; the one implementation is `crm_impl.core.writes`.)"""
    from crm_impl.core import writes

    writes.expect_version(current, expected)
