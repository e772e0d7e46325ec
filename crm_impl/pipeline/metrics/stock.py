"""Offered quantities against the ERP's stock (slide 7): pure, vectorised pandas.

- lines: one row per deal line: product_id, quantity (the offered quantity); any other column
  (deal_id, product, …) is kept as it is.
- stock: one row per product with figures: product_id, available (on hand minus reserved,
  summed over the warehouses; negative when more is reserved than on hand), as_of.

A product without a stock row has no data: its available and shortfall are NaN and it is never
short (no data is not zero). Shortfall = offered minus what can still be given (available, at
least 0), never below 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ("offered", "available", "as_of", "shortfall", "known", "short")


def shortages(lines: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """Per line of `lines` (same order and index): the line's columns plus offered, available
    (NaN: no data), as_of (NaT: no data), shortfall (NaN: no data), known and short (bools)."""
    figures = stock.loc[:, ["product_id", "available", "as_of"]].drop_duplicates("product_id")
    figures = figures.set_index(figures["product_id"].astype("int64"))
    product = lines["product_id"].astype("int64")
    out = lines.copy()
    out["offered"] = pd.to_numeric(lines["quantity"], errors="coerce").astype("float64")
    out["available"] = product.map(figures["available"].astype("float64"))
    out["as_of"] = product.map(figures["as_of"]) if len(figures) else pd.Series(pd.NaT, index=lines.index)
    out["known"] = out["available"].notna()
    can_give = out["available"].clip(lower=0)
    out["shortfall"] = (out["offered"] - can_give).clip(lower=0).where(out["known"], np.nan)
    out["short"] = out["known"] & (out["shortfall"] > 0)
    return out


def short_lines(lines: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """Only the lines whose offered quantity exceeds what is available (known stock only)."""
    found = shortages(lines, stock)
    return found[found["short"]]
