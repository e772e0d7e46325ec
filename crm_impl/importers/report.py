"""The outcome of one import run: counts and every rejected row (line, column, reason, suggestion)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from crm_impl.core.i18n import t

# Detailed errors kept in memory; beyond this only the count grows (a million bad rows must not
# exhaust memory). The report says how many were left out.
MAX_DETAILED_ERRORS = 10_000


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line (CSV) or row (XLSX) in the source file; 0 = the whole file
    column: str  # the source column ("" when the row as a whole is at fault)
    key: str  # i18n key of the reason, e.g. "imports.error.unknown_ref"
    value: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    suggestion: str | None = None

    def message(self) -> str:
        params = dict(self.params)
        if "what" in params:  # the kind of reference, named in the reader's language
            params["what"] = t(f"imports.what.{params['what']}")
        text = t(self.key, value=self.value, column=self.column, **params)
        if self.suggestion:
            text += " " + t("imports.error.did_you_mean", suggestion=self.suggestion)
        return text


@dataclass
class ImportReport:
    entity: str
    file_format: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    dry_run: bool = True
    strict: bool = False
    total_rows: int = 0
    valid_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0  # rejected rows (a row with three bad cells counts once)
    errors: list[RowError] = field(default_factory=list)
    errors_left_out: int = 0
    written: bool = False
    extra: dict[str, int] = field(default_factory=dict)  # e.g. users or stage changes created

    @property
    def rejected(self) -> int:
        return self.error_count

    def add(self, error: RowError) -> None:
        if len(self.errors) < MAX_DETAILED_ERRORS:
            self.errors.append(error)
        else:
            self.errors_left_out += 1

    def errors_frame(self) -> pd.DataFrame:
        """The bad rows, translated into the current language, ready to show or download."""
        rows = [
            {
                "line": e.line,
                "column": e.column,
                "value": e.value,
                "reason": e.message(),
                "suggestion": e.suggestion or "",
            }
            for e in sorted(self.errors, key=lambda e: (e.line, e.column))
        ]
        return pd.DataFrame(rows, columns=["line", "column", "value", "reason", "suggestion"])

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "errors"}
        data["rejected"] = self.rejected
        data["errors"] = [
            {
                "line": e.line,
                "column": e.column,
                "value": e.value,
                "reason": e.message(),
                "key": e.key,
                "suggestion": e.suggestion,
            }
            for e in self.errors
        ]
        return data
