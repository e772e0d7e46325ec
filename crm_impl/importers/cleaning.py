"""Vectorised cleaning of one chunk: strip, value-map, null values, then per-field checks.

Every check works on whole columns (pandas string methods), and only failing cells are turned
into RowErrors. Text is stored as typed; it is never rendered as HTML, and cells that would run
as spreadsheet formulas or carry HTML/script are rejected instead of being stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from crm_impl.core.validation import MAX_AMOUNT, nip_valid, parse_decimal
from crm_impl.importers.reading import MAX_CELL_CHARS
from crm_impl.importers.report import RowError

TEXT_KINDS = {"text", "ref", "email", "nip", "phone"}
NUMBER_KINDS = {"money", "signed_money", "number"}
_FORMULA_ANY = r"^[=@\t\r]"
_FORMULA_SIGN = r"^[+\-]."
_PHONE_OK = r"^\+?[\d\s().\-/]+$"
_MARKUP = r"<\s*/?\s*[A-Za-z!?]|javascript\s*:"
_EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
# dates a CRM meets; well inside what pandas and both databases hold (pandas: 1677-2262)
FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31 23:59:59")
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M",
    "%d-%m-%Y %H:%M",
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str = "text"  # text, ref, email, nip, phone, money, signed_money, number, date
    required: bool = False
    max_len: int = 200


def parse_numbers(
    text: pd.Series, decimal: str = "auto", locale: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Numbers as typed in either convention ("1 234,50", "1.234,50", "1,234.50", "1234.5"),
    read by the one parser forms use too (`crm_impl.core.validation.parse_decimal`): `decimal`
    "," or "." fixes the separator, "auto" lets the language decide an ambiguous "1,234".
    Each distinct value is parsed once. Returns (floats with NaN where unreadable, exact
    decimal text)."""
    sep = decimal if decimal in (",", ".") else None
    parsed = {v: parse_decimal(v, locale=locale, decimal=sep) for v in text.unique() if v != ""}
    exact = text.map(lambda v: parsed.get(v))
    norm = exact.map(lambda d: "" if d is None else str(d)).astype(object)
    numbers = exact.map(lambda d: np.nan if d is None else float(d)).astype("float64")
    return numbers, norm


def parse_dates(text: pd.Series, fmt: str = "auto") -> pd.Series:
    """Dates: one explicit format, or ISO first and then the day-first forms (never month-first).
    Always microsecond datetimes; a date outside FIRST_DATE..LAST_DATE is NaT here and flagged
    by `clean`."""
    return _parse_dates(text, fmt).where(lambda d: (d >= FIRST_DATE) & (d <= LAST_DATE))


def _parse_dates(text: pd.Series, fmt: str) -> pd.Series:
    filled = text.where(text != "", None)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    formats = (fmt,) if fmt and fmt != "auto" else DATE_FORMATS
    for candidate in formats:
        missing = out.isna() & filled.notna()
        if not missing.any():
            break
        # each value on its own resolution: "9999-12-31" does not fit nanoseconds, so no
        # common unit is forced on the column before the range check
        parsed = pd.to_datetime(filled[missing], format=candidate, errors="coerce")
        out[missing] = parsed.astype("datetime64[us]")
    return out


def suggest(value: str, choices: list[str], cutoff: float = 60) -> str | None:
    """The closest known value to an unknown one ("GTXPro" -> "GTX Pro"), or None."""
    if not value or not choices:
        return None
    best = process.extractOne(
        value, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=cutoff
    )
    return best[0] if best else None


class ErrorSink:
    def __init__(self, index: pd.Index, lines: list[int]) -> None:
        self.bad = pd.Series(False, index=index)
        self.errors: list[RowError] = []
        self.lines = pd.Series(lines, index=index)
        self._taken: set[tuple[int, str]] = set()

    def flag(
        self,
        mask: pd.Series,
        column: str,
        key: str,
        values: pd.Series | None = None,
        suggestions: dict[str, str | None] | None = None,
        **params: object,
    ) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        self.bad |= mask
        for idx in mask[mask].index:
            line = int(self.lines[idx])
            if (line, column) in self._taken:  # first reason per cell is enough
                continue
            self._taken.add((line, column))
            value = "" if values is None else str(values[idx])[:200]
            suggestion = suggestions.get(value) if suggestions else None
            self.errors.append(RowError(line, column, key, value, dict(params), suggestion))


@dataclass
class Cleaned:
    values: dict[str, pd.Series]  # field -> cleaned text, numbers (float) or datetimes
    amounts: dict[str, pd.Series]  # money field -> normalised decimal text ("1234.50")
    sink: ErrorSink  # .bad: bool per row (at least one error); .errors: the reasons
    text: dict[str, pd.Series] = field(default_factory=dict)  # field -> cleaned text as typed


def clean(
    df: pd.DataFrame,
    lines: list[int],
    specs: list[FieldSpec],
    sources: dict[str, str],
    values_map: dict[str, dict[str, str]],
    *,
    null_values: list[str],
    decimal: str,
    date_format: str,
    locale: str | None = None,
) -> Cleaned:
    """Clean the mapped columns of one chunk. `sources` maps field -> source column."""
    sink = ErrorSink(df.index, lines)
    out: dict[str, pd.Series] = {}
    amounts: dict[str, pd.Series] = {}
    texts: dict[str, pd.Series] = {}
    nulls = set(null_values)
    for spec in specs:
        column = sources.get(spec.name)
        if column is None:
            continue
        raw = df[column].astype(str).str.strip()
        if spec.name in values_map and values_map[spec.name]:
            raw = raw.replace(values_map[spec.name])
        s = raw.where(~raw.isin(nulls), "")
        empty = s == ""
        # PostgreSQL cannot store NUL in text, and no real value holds one: refused everywhere
        sink.flag(
            s.str.contains("\x00", regex=False), column, "imports.error.nul", s.str.replace("\x00", "␀")
        )
        texts[spec.name] = s
        sink.flag(
            s.str.len() > MAX_CELL_CHARS,
            column,
            "imports.error.huge",
            s.str.slice(0, 40) + "…",
            max=MAX_CELL_CHARS,
        )
        sink.flag(s.str.contains(_FORMULA_ANY, regex=True), column, "imports.error.formula", s)
        if spec.kind in TEXT_KINDS:
            sign = s.str.contains(_FORMULA_SIGN, regex=True)
            if spec.kind == "phone":
                sign &= ~s.str.fullmatch(_PHONE_OK)
            sink.flag(sign, column, "imports.error.formula", s)
            sink.flag(s.str.contains(_MARKUP, regex=True, case=False), column, "imports.error.markup", s)
        if spec.required:
            sink.flag(empty, column, "imports.error.required", s)
        if spec.kind in TEXT_KINDS:
            sink.flag(
                s.str.len() > spec.max_len,
                column,
                "imports.error.too_long",
                s.str.slice(0, 40) + "…",
                max=spec.max_len,
            )
            if spec.kind == "email":
                sink.flag(~empty & ~s.str.fullmatch(_EMAIL), column, "imports.error.email", s)
                s = s.str.lower()
            elif spec.kind == "nip":
                s = s.str.replace(r"[\s-]", "", regex=True)
                # bool even when every cell is empty (an empty map keeps the text dtype)
                checks = s[~empty].map(nip_valid).astype(bool)
                sink.flag(~checks.reindex(s.index, fill_value=True), column, "imports.error.nip", s)
            out[spec.name] = s
        elif spec.kind in NUMBER_KINDS:
            numbers, norm = parse_numbers(s, decimal, locale)
            sink.flag(~empty & numbers.isna(), column, "imports.error.number", s)
            limit = float(MAX_AMOUNT) if spec.kind != "number" else 1e9
            sink.flag(numbers.abs() > limit, column, "imports.error.too_large", s, max=f"{limit:,.0f}")
            if spec.kind == "money":
                sink.flag(numbers < 0, column, "imports.error.negative", s)
            out[spec.name] = numbers
            amounts[spec.name] = norm
        elif spec.kind == "date":
            parsed = _parse_dates(s, date_format)
            far = parsed.notna() & ((parsed < FIRST_DATE) | (parsed > LAST_DATE))
            parsed = parsed.where(~far)
            sink.flag(far, column, "imports.error.date_range", s, first=1900, last=2199)
            sink.flag(~empty & parsed.isna() & ~far, column, "imports.error.date", s)
            out[spec.name] = parsed
    return Cleaned(out, amounts, sink, texts)


def to_decimal(norm: pd.Series, numbers: pd.Series) -> list[Decimal | None]:
    """Exact money values from the normalised text (no float rounding)."""
    cent = Decimal("0.01")
    limit = float(MAX_AMOUNT)
    return [
        None if np.isnan(n) or abs(n) > limit else Decimal(t).quantize(cent)  # bad rows are flagged
        for t, n in zip(norm.tolist(), numbers.tolist(), strict=True)
    ]
