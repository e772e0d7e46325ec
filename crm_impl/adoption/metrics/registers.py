"""The legacy tools and benefits registers (issue 11, slide 11): pure, vectorised pandas.

Inputs (crm_impl.adoption.queries.registers, or hand-made frames with these columns):
- tools: id, name, kind, retire_by, retired_on (dates or NaT); tool_users: tool_id, person_id
- benefits: id, name, unit, direction ("decrease" or "increase"), baseline, baseline_on
- measurements: benefit_id, measured_on, value; meeting_benefits: meeting_id, benefit_id

Definitions (docs/adoption.md):
- a tool is *retired* once it has a retired-on date; *overdue*: not retired and its retire-by
  date is before today; otherwise *in use*. *Share retired*: retired ÷ all tools.
- a benefit's *current* value is its latest measurement (by date); its *gain* is current −
  baseline for a benefit that should increase, baseline − current for one that should decrease
  (a positive gain is always an improvement); *gain share*: gain ÷ |baseline| (none for a zero
  baseline). A benefit without a measurement has no current value and no gain yet.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

TOOL_STATUSES = ("retired", "in_use", "overdue")


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def tool_table(tools: pd.DataFrame, tool_users: pd.DataFrame, today: date) -> pd.DataFrame:
    """The tools plus user_ids (sorted list), users (count), status and days_overdue (0 unless
    overdue)."""
    now = pd.Timestamp(today)
    users = tool_users.groupby("tool_id")["person_id"].agg(lambda s: sorted(int(i) for i in s))
    out = tools.copy()
    out["retire_by"] = pd.to_datetime(out["retire_by"])
    out["retired_on"] = pd.to_datetime(out["retired_on"])
    out["user_ids"] = out["id"].map(users).map(lambda v: v if isinstance(v, list) else [])
    out["users"] = out["user_ids"].map(len).astype(int)
    retired = out["retired_on"].notna()
    overdue = ~retired & out["retire_by"].notna() & (out["retire_by"] < now)
    out["status"] = np.select([retired, overdue], ["retired", "overdue"], "in_use")
    out["days_overdue"] = ((now - out["retire_by"]).dt.days.where(overdue, 0)).fillna(0).astype(int)
    return out.reset_index(drop=True)


def tool_summary(table: pd.DataFrame) -> dict[str, Any]:
    """tools, retired, share_retired, overdue, in_use, and still_used_by: the distinct people
    who still use a tool that is not retired."""
    status = table["status"]
    live = table.loc[status != "retired", "user_ids"]
    people = {int(i) for ids in live for i in ids}
    retired = int((status == "retired").sum())
    return {
        "tools": len(table),
        "retired": retired,
        "share_retired": _share(retired, len(table)),
        "overdue": int((status == "overdue").sum()),
        "in_use": int((status == "in_use").sum()),
        "still_used_by": len(people),
    }


def overdue(table: pd.DataFrame) -> pd.DataFrame:
    """The overdue tools, longest overdue first."""
    rows = table.loc[table["status"] == "overdue"]
    return rows.sort_values(["retire_by", "name"]).reset_index(drop=True)


def tools_by_kind(table: pd.DataFrame) -> pd.DataFrame:
    """kind, status, count — every kind present with each of its statuses that occur."""
    counts = table.groupby(["kind", "status"]).size().rename("count").reset_index()
    return counts.sort_values(["kind", "status"]).reset_index(drop=True)


def _sign(direction: pd.Series) -> pd.Series:
    return pd.Series(np.where(direction == "increase", 1.0, -1.0), index=direction.index)


def _gains(values: pd.Series, baseline: pd.Series, direction: pd.Series) -> tuple[pd.Series, pd.Series]:
    gain = (values - baseline) * _sign(direction)
    share = gain / baseline.abs().replace(0, np.nan)
    return gain, share


def benefit_table(
    benefits: pd.DataFrame, measurements: pd.DataFrame, meeting_benefits: pd.DataFrame
) -> pd.DataFrame:
    """The benefits plus current, measured_on (latest measurement), measurements (count), gain,
    gain_share and meetings (how many meetings showed it)."""
    ordered = measurements.sort_values(["benefit_id", "measured_on"])
    last = ordered.groupby("benefit_id").agg(
        current=("value", "last"), measured_on=("measured_on", "last"), measurements=("value", "size")
    )
    out = benefits.drop(columns=[c for c in ("current", "measured_on", "measurements") if c in benefits])
    out = out.merge(last, left_on="id", right_index=True, how="left")
    out["baseline"] = out["baseline"].astype(float)
    out["current"] = out["current"].astype(float)
    out["measured_on"] = pd.to_datetime(out["measured_on"])
    out["measurements"] = out["measurements"].fillna(0).astype(int)
    out["gain"], out["gain_share"] = _gains(out["current"], out["baseline"], out["direction"])
    shown = meeting_benefits.groupby("benefit_id")["meeting_id"].nunique()
    out["meetings"] = out["id"].map(shown).fillna(0).astype(int)
    return out.reset_index(drop=True)


def benefit_summary(table: pd.DataFrame) -> dict[str, Any]:
    """benefits, measured, improved (gain above zero), shown (at a meeting at least once) and the
    mean gain share of the measured ones with a non-zero baseline."""
    shares = table["gain_share"].dropna()
    return {
        "benefits": len(table),
        "measured": int((table["measurements"] > 0).sum()),
        "improved": int((table["gain"] > 0).sum()),
        "shown": int((table["meetings"] > 0).sum()),
        "mean_gain_share": float(shares.mean()) if len(shares) else None,
    }


def gains_over_time(benefits: pd.DataFrame, measurements: pd.DataFrame) -> pd.DataFrame:
    """benefit_id, name, unit, measured_on, value, gain, gain_share — every measurement, plus the
    baseline itself as a point of gain 0 on its baseline date (when it has one), by date."""
    info = benefits[["id", "name", "unit", "direction", "baseline"]].rename(columns={"id": "benefit_id"})
    points = measurements[["benefit_id", "measured_on", "value"]].merge(info, on="benefit_id")
    dated = benefits.loc[benefits["baseline_on"].notna()]
    base = pd.DataFrame(
        {"benefit_id": dated["id"], "measured_on": dated["baseline_on"], "value": dated["baseline"]}
    ).merge(info, on="benefit_id")
    rows = pd.concat([base, points], ignore_index=True) if len(base) else points
    rows["measured_on"] = pd.to_datetime(rows["measured_on"])
    rows["value"] = rows["value"].astype(float)
    rows["gain"], rows["gain_share"] = _gains(
        rows["value"], rows["baseline"].astype(float), rows["direction"]
    )
    rows = rows.sort_values(["benefit_id", "measured_on"]).reset_index(drop=True)
    return rows[["benefit_id", "name", "unit", "measured_on", "value", "gain", "gain_share"]]
