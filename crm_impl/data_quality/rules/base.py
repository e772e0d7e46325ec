"""What a rule is, what it is given, and the one meaning of "empty" (pure: no DB, no streamlit).

A rule is a small declared check: an id (`<entity>.<name>`, also its message key
`dq.rule.<entity>.<name>` in both languages), the entity it checks, its dimension and severity,
the field a user fixes, the columns it needs, and a vectorised check that takes the entity's
whole frame and returns the failing mask (optionally with a value and a hint per row for the
message). A rule never loops over rows in Python; text checks run once per distinct value and
are mapped back (`per_value`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import pandas as pd

from crm_impl.data_quality import vocabulary as v

# "Empty" everywhere (completeness, and every rule that skips empty cells): blank after trimming,
# or a placeholder people type instead of nothing. The importer's default null values
# (importers.mapping.DEFAULT_OPTIONS, not imported: it pulls in the database) are part of it, so a
# value the importer would have stored as empty is empty here too (tests/data_quality check it).
EMPTY_TOKENS = frozenset(
    {"", "null", "none", "n/a", "#n/a"}
    | {"", "n/a", "na", "n.a.", "tbd", "tba", "null", "none", "nil", "nan", "-", "--", "---", "—", "–"}
    | {"?", "??", "???", ".", "x", "brak", "b/d", "bd", "brak danych", "nie dotyczy", "nd", "#n/a", "unknown"}
)


def empty(values: pd.Series) -> pd.Series:
    """True where a cell is missing, blank, or an empty-meaning placeholder ("N/A", "TBD", "brak",
    "-", "null"…). Numbers and dates are empty only when missing (NaN/NaT)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip().str.lower()
        return (text.isna() | text.isin(EMPTY_TOKENS)).astype(bool)
    return values.isna().astype(bool)


def text(values: pd.Series) -> pd.Series:
    """Trimmed text with empty-meaning cells as "" (object dtype, never NA)."""
    s = values.astype("string").str.strip().fillna("")
    return s.where(~empty(values), "").astype(object)


def per_value(values: pd.Series, fn: Callable[[Any], Hashable]) -> pd.Series:
    """`fn` applied once per distinct value and mapped back (a checksum over 300,000 rows with
    80,000 distinct values runs 80,000 times, never in a loop over the frame)."""
    uniques = pd.unique(values.to_numpy())
    lookup = {u: fn(u) for u in uniques}
    return values.map(lookup)


@dataclass(frozen=True)
class ScanSettings:
    required: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(v.DEFAULT_REQUIRED))
    stale_days: int = v.DEFAULT_STALE_DAYS
    burst_count: int = v.DEFAULT_BURST_COUNT
    burst_minutes: int = v.DEFAULT_BURST_MINUTES
    sectors: tuple[str, ...] = v.DEFAULT_SECTORS


@dataclass(frozen=True)
class Context:
    """What the rules know besides the records: today, the settings, the product catalogue,
    the lost reasons, and the frames of the other entities (for references)."""

    today: date
    settings: ScanSettings = field(default_factory=ScanSettings)
    catalogue: tuple[str, ...] = ()
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    duplicate_threshold: float = 90.0
    # per kind ("account", "contact"): pairs (left_id, right_id) a user marked "not a duplicate"
    dismissed: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self.today, tz="UTC") + pd.Timedelta(days=1)  # the end of today


class Finding(NamedTuple):
    failing: pd.Series  # bool per row
    value: pd.Series | None = None  # what is wrong (shown in the message as {value})
    hint: pd.Series | None = None  # e.g. the suggestion ("did you mean …") as {hint}


Check = Callable[[pd.DataFrame, Context], "pd.Series | Finding"]


@dataclass(frozen=True)
class Rule:
    id: str  # "<entity>.<name>"; message key "dq.rule.<id>"
    entity: str
    dimension: str
    severity: str
    field: str  # the field to fix
    columns: tuple[str, ...]  # needed in the frame; without them the rule does not run
    check: Check
    applies: Callable[[pd.DataFrame, Context], pd.Series] | None = None  # checked rows (default all)

    @property
    def message_key(self) -> str:
        return f"dq.rule.{self.id}"

    def run(self, frame: pd.DataFrame, ctx: Context) -> tuple[pd.Series, Finding]:
        """(checked mask, finding with failing ⊆ checked)."""
        checked = (
            pd.Series(True, index=frame.index)
            if self.applies is None
            else self.applies(frame, ctx).fillna(False).astype(bool)
        )
        out = self.check(frame, ctx)
        finding = out if isinstance(out, Finding) else Finding(out)
        failing = finding.failing.reindex(frame.index).fillna(False).astype(bool) & checked
        return checked, finding._replace(failing=failing)


def rule(
    rule_id: str,
    dimension: str,
    severity: str,
    field: str,
    columns: tuple[str, ...],
    applies: Callable[[pd.DataFrame, Context], pd.Series] | None = None,
) -> Callable[[Check], Rule]:
    """Declare a rule on its check function: `@rule("deal.lost_reason", "consistency", ...)`."""
    entity = rule_id.split(".", 1)[0]
    assert entity in v.ENTITIES and dimension in v.DIMENSIONS and severity in v.SEVERITIES, rule_id

    def wrap(check: Check) -> Rule:
        return Rule(rule_id, entity, dimension, severity, field, columns, check, applies)

    return wrap


def open_deals(frame: pd.DataFrame, _ctx: Context) -> pd.Series:
    return frame["stage_kind"] == "open"


def filled(frame: pd.DataFrame, column: str) -> pd.Series:
    return ~empty(frame[column])


def digits(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.replace(r"\D", "", regex=True).astype(object)


def as_utc(values: pd.Series) -> pd.Series:
    """Datetimes (naive taken as UTC) or dates as UTC timestamps; anything else NaT."""
    out = pd.to_datetime(values, errors="coerce", utc=True)
    return pd.Series(out, index=values.index)


def nan_to_empty(values: pd.Series | None) -> pd.Series | None:
    if values is None:
        return None
    return values.astype(object).where(values.notna(), "")
