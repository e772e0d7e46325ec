"""English and Polish strings, and locale-aware formatting of numbers, money and dates.

Catalogues live in `i18n/<lang>/<area>.toml`; TOML tables nest, so `[auth] invalid = "…"`
is the key `auth.invalid`. Every file of one language is merged into one flat catalogue.

Plural entries are inline tables of CLDR plural categories, read with `tn(key, n)`:
`won_count = { one = "{n} deal", other = "{n} deals" }` in English and
`won_count = { one = "{n} szansa", few = "{n} szanse", many = "{n} szans", other = "{n} szansy" }`
in Polish. Such an entry is one key (its `other` form is what `t(key)` returns).
"""

from __future__ import annotations

import tomllib
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import numbers as babel_numbers
from babel.dates import format_date, format_datetime

LANGUAGES = ("en", "pl")
LANGUAGE_NAMES = {"en": "English", "pl": "Polski"}


def language_name(code: str) -> str:
    """A language's own name, for language pickers."""
    return LANGUAGE_NAMES.get(code, code)


_BABEL_LOCALE = {"en": "en_GB", "pl": "pl_PL"}
_HERE = Path(__file__).parent
_current: ContextVar[str] = ContextVar("crm_impl_locale", default="en")


PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


def _is_plural(value: object) -> bool:
    return isinstance(value, dict) and "other" in value and set(value) <= PLURAL_CATEGORIES


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested tables to dotted keys; a plural entry counts as one key (its `other` form)."""
    flat: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if _is_plural(value):
            flat[full] = str(value["other"])
        elif isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = str(value)
    return flat


def _plural_entries(table: dict[str, Any], prefix: str = "") -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if _is_plural(value):
            found[full] = {str(k): str(v) for k, v in value.items()}
        elif isinstance(value, dict):
            found.update(_plural_entries(value, full + "."))
    return found


def _load(lang: str) -> list[dict[str, Any]]:
    tables = []
    for path in sorted((_HERE / lang).glob("*.toml")):
        with path.open("rb") as fh:
            tables.append(tomllib.load(fh))
    return tables


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for table in _load(lang):
        merged.update(_flatten(table))
    return merged


@cache
def plurals(lang: str) -> dict[str, dict[str, str]]:
    """Every plural entry of a language: key -> {CLDR category: text}."""
    merged: dict[str, dict[str, str]] = {}
    for table in _load(lang):
        merged.update(_plural_entries(table))
    return merged


def plural_categories(lang: str) -> set[str]:
    """The CLDR plural categories a language needs (en: one, other; pl: one, few, many, other)."""
    return set(Locale.parse(_BABEL_LOCALE[lang]).plural_form.tags) | {"other"}


def set_locale(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else "en")


def get_locale() -> str:
    return _current.get()


def t(key: str, /, **params: Any) -> str:
    """The string for `key` in the current language; the key itself if missing (tests catch it)."""
    text = catalogue(get_locale()).get(key) or catalogue("en").get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def tn(key: str, n: float | int | Decimal, /, **params: Any) -> str:
    """The plural form of `key` for the count `n` in the current language (babel's CLDR rules:
    Polish "1 szansa, 2 szanse, 5 szans", English "1 deal, 2 deals"). `{n}` is the count
    formatted for the language unless `n=` is passed explicitly."""
    lang = get_locale()
    if key not in catalogue(lang):
        lang = "en"
    whole = float(n).is_integer()
    count: int | Decimal = int(n) if whole else Decimal(str(n))  # 2.0 counts like 2, not like 2.5
    values = {"n": fmt_number(count, 0 if whole else 1), **params}
    forms = plurals(lang).get(key)
    if forms is None:  # a plain string: no plural forms needed in this language
        return t(key, **values)
    category = Locale.parse(_BABEL_LOCALE[lang]).plural_form(-count if count < 0 else count)
    text = forms.get(category) or forms["other"]
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return text


def has_key(key: str) -> bool:
    return key in catalogue("en")


def _missing(value: object) -> bool:
    """None, NaN and NaT all mean "no value" (pandas hands us NaT/NaN for empty cells)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the only values unequal to themselves
    except (TypeError, ValueError):
        return False


def _babel() -> str:
    return _BABEL_LOCALE[get_locale()]


def fmt_number(value: float | int | Decimal | None, digits: int = 0) -> str:
    if value is None or _missing(value):
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=fmt, locale=_babel())


def fmt_money(value: float | int | Decimal | None, currency: str = "PLN", digits: int = 0) -> str:
    if value is None or _missing(value):
        return "–"
    return babel_numbers.format_currency(
        value,
        currency,
        locale=_babel(),
        format_type="standard",
        currency_digits=False,
        decimal_quantization=True,
        format="#,##0 ¤" if digits == 0 else None,
    )


def fmt_money_short(value: float | int | Decimal | None, currency: str = "PLN") -> str:
    """Money for tight spaces such as metric tiles: 19.5M PLN / 19,5 mln zł."""
    if value is None or _missing(value):
        return "–"
    if abs(float(value)) < 100_000:
        return fmt_money(value, currency)
    number = babel_numbers.format_compact_decimal(value, locale=_babel(), fraction_digits=1)
    symbol = babel_numbers.get_currency_symbol(currency, locale=_babel())
    return f"{number}\xa0{symbol}"


def fmt_pct(value: float | None, digits: int = 0) -> str:
    if value is None or _missing(value):
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    return babel_numbers.format_percent(value, format=fmt, locale=_babel())


def _tz() -> ZoneInfo:
    from crm_impl.core.config import get_settings

    return ZoneInfo(get_settings().timezone)


def fmt_date(value: date | datetime | None) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(_tz()).date() if value.tzinfo else value.date()
    return format_date(value, format="medium", locale=_babel())


def fmt_month(value: date | datetime | None) -> str:
    """A month as people say it: "December 2026" / "grudzień 2026"."""
    if _missing(value):
        return "–"
    return format_date(value, format="LLLL yyyy", locale=_babel())


def fmt_datetime(value: datetime | None) -> str:
    if _missing(value):
        return "–"
    return format_datetime(value, format="short", tzinfo=_tz(), locale=_babel())
