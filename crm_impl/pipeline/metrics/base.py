"""Shared pieces of the pipeline metrics: time helpers, enrichment, (deal, stage) keys and the
stages each deal entered. Pure, vectorised pandas/numpy."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
_STAGE_SLOTS = 1 << 20  # deal id × this + stage id: one int64 key per (deal, stage)
_NAT, _NEVER = np.iinfo("int64").min, np.iinfo("int64").max  # int64 views of NaT; "no time"


def _ts(now: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def enrich(deals: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Deals with their current stage's key, kind, position, rot days and effective probability
    (returned as is when already enriched, so a caller can enrich once for many metrics).

    `closed_at` becomes the date the deal was decided *as it stands now*: a won deal keeps its
    close (its first entry into Contract or later), a lost one is dated by its loss, the time it
    entered its (lost) stage. The stored close of a deal lost after Contract is its contract
    date (the service keeps the first close), which would put the loss in the wrong month.
    """
    if "weighted" in deals.columns:
        return deals
    by_id = stages.set_index("id")
    out = deals.copy()
    sid = out["stage_id"]
    out["key"] = sid.map(by_id["key"])
    out["kind"] = sid.map(by_id["kind"])
    out["position"] = sid.map(by_id["position"])
    out["rot_days"] = sid.map(by_id["rot_days"])
    out["prob"] = out["probability"].astype(float).fillna(sid.map(by_id["probability"]).astype(float))
    out["weighted"] = out["value"] * out["prob"]
    if "stage_entered_at" in out.columns and len(out):
        lost_on = out["stage_entered_at"].where(out["kind"] == "lost")
        out["closed_at"] = lost_on.fillna(out["closed_at"]).where(out["kind"] != "open")
    return out


def _in_period(col: pd.Series, since: datetime | None, until: datetime | None) -> pd.Series:
    mask = col.notna()
    if since is not None:
        mask &= col >= _ts(since)
    if until is not None:
        mask &= col < _ts(until)
    return mask


def _key(deal: pd.Series, stage: pd.Series) -> np.ndarray:
    return deal.to_numpy(dtype="int64") * _STAGE_SLOTS + stage.to_numpy(dtype="int64")


def _ns(col: pd.Series) -> np.ndarray:
    """Datetimes as int64 nanoseconds (NaT is the int64 minimum), whatever the column's unit."""
    values = col.dt.tz_convert(None) if getattr(col.dt, "tz", None) is not None else col
    return values.to_numpy(dtype="datetime64[ns]").view("int64")


def _runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal keys by a stable sort (cheap: rows arrive nearly in key order).

    Returns the order, the sorted distinct keys and where each one's run starts in that order;
    rows of one key keep their original order.
    """
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(key) else np.empty(0, "int64")
    return order, ordered[starts], starts


def entered(changes: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Distinct (deal, stage) pairs a deal ever entered, with the first entry time.

    The deal's current stage counts too, so a deal without recorded history is not lost; an
    imported deal without any date entered its stage at an unknown time (NaT).
    """
    key = np.concatenate(
        [_key(changes["deal_id"], changes["to_stage_id"]), _key(deals["id"], deals["stage_id"])]
    )
    at = np.concatenate([_ns(changes["at"]), _ns(deals["stage_entered_at"])])
    at[at == _NAT] = _NEVER  # a missing time loses to any known one
    order, pair, starts = _runs(key)
    first = np.minimum.reduceat(at[order], starts) if len(key) else at
    first[first == _NEVER] = _NAT
    return pd.DataFrame(
        {
            "deal_id": pair // _STAGE_SLOTS,
            "stage_id": pair % _STAGE_SLOTS,
            "at": pd.to_datetime(first, unit="ns", utc=True),
        }
    )


def _month_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every month start (naive, datetime64[us]) from the first to the last value's (UTC) month,
    and each value's index into them (-1 for NaT), found by bisection."""
    values = col.dt.tz_convert(None) if getattr(col.dt, "tz", None) is not None else col
    stamps = values.to_numpy()  # datetime64 in the column's own unit (a date may be far away)
    known = ~np.isnat(stamps)
    index = np.full(len(stamps), -1, dtype="int64")
    if not known.any():
        return np.empty(0, dtype="datetime64[us]"), index
    lo, hi = stamps[known].min().astype("datetime64[M]"), stamps[known].max().astype("datetime64[M]")
    starts = np.arange(lo, hi + 1)
    index[known] = np.searchsorted(starts.astype(stamps.dtype), stamps[known], side="right") - 1
    return starts.astype("datetime64[us]"), index


def _month(col: pd.Series) -> pd.Series:
    """The first day of each value's (UTC) month, naive; NaT stays NaT."""
    starts, index = _month_codes(col)
    months = np.full(len(index), np.datetime64("NaT"), dtype="datetime64[us]")
    known = index >= 0
    months[known] = starts[index[known]]
    return pd.Series(months, index=col.index, name=col.name)


def _sum_by_month(col: pd.Series, weights: dict[str, np.ndarray]) -> pd.DataFrame:
    """Σ of each of `weights` (NaN counts as 0) per (UTC) month of `col`, one column per name,
    for the months with any value; a NaT value is left out. What
    `pd.Series(w).groupby(_month(col)).sum()` gives for each, from one month lookup and bincounts."""
    starts, index = _month_codes(col)
    known = index >= 0
    at = index[known]
    present = np.bincount(at, minlength=len(starts)) > 0
    sums = {
        name: np.bincount(at, weights=np.nan_to_num(w[known]), minlength=len(starts))[present]
        for name, w in weights.items()
    }
    return pd.DataFrame(sums, index=pd.DatetimeIndex(starts[present]))


def _sorted(changes: pd.DataFrame) -> pd.DataFrame:
    """The changes in deal and time order (the loader already sorts; hand-made frames may not)."""
    deal, at = changes["deal_id"].to_numpy(dtype="int64"), _ns(changes["at"])
    ordered = (np.diff(deal) > 0) | ((np.diff(deal) == 0) & (np.diff(at) >= 0))
    return changes if ordered.all() else changes.sort_values(["deal_id", "at"], kind="stable")
