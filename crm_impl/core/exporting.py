"""Exports to CSV and XLSX: DataFrames in, bytes out (no database, no Streamlit).

Text cells that a spreadsheet would run as a formula (starting with = + - @ or a tab/CR) are
prefixed with an apostrophe, so an exported file cannot execute anything when opened.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


def _defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column headers are safe to open in a spreadsheet (headers
    can be user text too, e.g. one column per phase); numbers stay numbers."""
    out = df.copy()
    out.columns = pd.Index([_defuse(c) for c in out.columns])
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_defuse)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so Excel opens Polish characters correctly."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, df in sheets.items():
            frame = safe_frame(df)
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def export_bytes(sheets: Mapping[str, pd.DataFrame], fmt: str) -> bytes:
    """CSV (the first table only) or XLSX (one sheet per table)."""
    if fmt == "xlsx":
        return to_xlsx_bytes(sheets)
    if fmt == "csv":
        return to_csv_bytes(next(iter(sheets.values())))
    raise ValueError(f"unknown export format {fmt!r}")
