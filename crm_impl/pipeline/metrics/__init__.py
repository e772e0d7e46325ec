"""Pipeline metrics (DESIGN.md, "Metric definitions"): pure, vectorised pandas.

Inputs are the frames of `crm_impl.pipeline.queries.frames` (or equivalent hand-built ones):
- stages: id, key, position, kind (open/won/lost), probability, stage_cost, rot_days
- deals: id, account_id, owner_id, stage_id, value, probability (override or NaN),
  expected_close, created_at (NaT: an imported deal without any date), closed_at,
  last_touch_at, stage_entered_at (UTC datetimes)
- changes: deal_id, from_stage_id, to_stage_id, at (one row per entry into a stage)
- budget: month, amount

The flow through the stages (funnel, conversion, time in stage) is in `metrics.flow`; the
shared helpers in `metrics.base`.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from crm_impl.core import survival
from crm_impl.pipeline.metrics.base import DAY, _in_period, _month, _ns, _sum_by_month, _ts, enrich, entered
from crm_impl.pipeline.metrics.flow import (
    funnel,
    open_stays,
    stage_conversion,
    stage_intervals,
    time_in_stage,
)

__all__ = [
    "DAY",
    "OUTLOOK_TOLERANCE",
    "_month",
    "_ts",
    "cost_budget_totals",
    "cost_vs_budget",
    "enrich",
    "entered",
    "funnel",
    "monthly_trends",
    "on_time_fulfilment",
    "open_stays",
    "relationship_outlook",
    "sales_cycle_days",
    "stage_conversion",
    "stage_cost",
    "stage_intervals",
    "stage_share",
    "stale",
    "stale_by_owner",
    "summary",
    "time_in_stage",
    "totals",
    "undated_deals",
    "velocity_per_day",
    "win_rate",
]

OUTLOOK_TOLERANCE = 0.5  # at risk when overdue by more than this share of the median interval


def stage_share(deals: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Open deals, distinct accounts, value and weighted value per open stage, with shares of all open."""
    d = enrich(deals, stages)
    d = d.loc[d["kind"] == "open", ["id", "stage_id", "account_id", "value", "weighted"]]
    grouped = d.groupby("stage_id").agg(
        open_deals=("id", "size"),
        open_accounts=("account_id", "nunique"),
        value=("value", "sum"),
        weighted_value=("weighted", "sum"),
    )
    out = stages.loc[stages["kind"] == "open", ["id", "key", "position"]].set_index("id")
    out = out.join(grouped).fillna({"open_deals": 0, "open_accounts": 0, "value": 0.0, "weighted_value": 0.0})
    out[["open_deals", "open_accounts"]] = out[["open_deals", "open_accounts"]].astype(int)
    total_deals, total_value = out["open_deals"].sum(), out["value"].sum()
    total_accounts = d["account_id"].nunique()
    out["share"] = out["open_deals"] / total_deals if total_deals else 0.0
    out["account_share"] = out["open_accounts"] / total_accounts if total_accounts else 0.0
    out["value_share"] = out["value"] / total_value if total_value else 0.0
    return out.reset_index(names="stage_id").sort_values("position").reset_index(drop=True)


def totals(
    deals: pd.DataFrame,
    stages: pd.DataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, float | int | None]:
    """Open/won/lost counts, values and win rate. Won (Contract or later) and lost count deals
    decided in the period: a win by its close, a loss by the day it was lost (`enrich`)."""
    d = enrich(deals, stages)
    closed = _in_period(d["closed_at"], since, until)
    is_open, won, lost = d["kind"] == "open", (d["kind"] == "won") & closed, (d["kind"] == "lost") & closed
    n_won, n_lost = int(won.sum()), int(lost.sum())
    return {
        "open": int(is_open.sum()),
        "won": n_won,
        "lost": n_lost,
        "win_rate": n_won / (n_won + n_lost) if n_won + n_lost else None,
        "won_value": float(d.loc[won, "value"].sum()),
        "avg_won_value": float(d.loc[won, "value"].mean()) if n_won else None,
        "pipeline_value": float(d.loc[is_open, "value"].sum()),
        "weighted_value": float(d.loc[is_open, "weighted"].sum()),
    }


def win_rate(deals: pd.DataFrame, stages: pd.DataFrame, **period: datetime | None) -> float | None:
    return totals(deals, stages, **period)["win_rate"]  # type: ignore[return-value]


def sales_cycle_days(
    deals: pd.DataFrame, stages: pd.DataFrame, *, since: datetime | None = None, until: datetime | None = None
) -> float | None:
    """Mean days from creation to win, over won deals (closed in the period)."""
    d = enrich(deals, stages)
    won = d[(d["kind"] == "won") & _in_period(d["closed_at"], since, until) & d["created_at"].notna()]
    if won.empty:
        return None
    return float(((won["closed_at"] - won["created_at"]) / DAY).mean())


def velocity_per_day(
    open_deals: int, avg_won_value: float | None, win_rate_: float | None, cycle_days: float | None
) -> float | None:
    """Open deals × average won value × win rate ÷ average sales cycle (days)."""
    if avg_won_value is None or win_rate_ is None or not cycle_days:
        return None
    return open_deals * avg_won_value * win_rate_ / cycle_days


def stale(deals: pd.DataFrame, stages: pd.DataFrame, now: datetime) -> pd.Series:
    """Boolean per deal: open and untouched (no stage move, no done activity) for longer than
    its stage's rot threshold."""
    d = enrich(deals, stages)
    idle = (_ts(now) - d["last_touch_at"]) / DAY
    return (d["kind"] == "open") & (idle > d["rot_days"])


def stale_by_owner(deals: pd.DataFrame, stages: pd.DataFrame, now: datetime) -> pd.DataFrame:
    d = enrich(deals, stages)
    d = d[["id", "owner_id", "value", "kind"]].assign(stale=stale(d, stages, now))
    d = d[d["kind"] == "open"]
    out = d.groupby("owner_id").agg(open_deals=("id", "size"), stale_deals=("stale", "sum"))
    out["stale_value"] = d[d["stale"]].groupby("owner_id")["value"].sum()
    out = out.fillna({"stale_value": 0.0}).reset_index()
    out["stale_share"] = out["stale_deals"] / out["open_deals"]
    return out.sort_values(["stale_deals", "stale_value"], ascending=False).reset_index(drop=True)


def stage_cost(
    changes: pd.DataFrame, deals: pd.DataFrame, stages: pd.DataFrame, pairs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Σ estimated stage cost of every stage each deal entered (once per deal and stage), per stage."""
    pairs = entered(changes, deals) if pairs is None else pairs
    cost = stages.set_index("id")["stage_cost"]
    per_stage = pairs.groupby("stage_id").size()
    out = stages[["id", "key", "position", "stage_cost"]].set_index("id")
    out["deals_entered"] = per_stage.reindex(out.index).fillna(0).astype(int)
    out["cost"] = out["deals_entered"] * cost
    return out.reset_index(names="stage_id").sort_values("position").reset_index(drop=True)


def cost_vs_budget(
    changes: pd.DataFrame,
    deals: pd.DataFrame,
    stages: pd.DataFrame,
    budget: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stage cost per month (the month a deal first entered the stage) next to the sales budget.
    A stage entered at an unknown time (an undated imported deal) has no month and is left out."""
    pairs = entered(changes, deals) if pairs is None else pairs
    stage = pairs["stage_id"].to_numpy(dtype="int64")
    ids = stages["id"].to_numpy(dtype="int64")
    per_stage = np.zeros(int(max(ids.max(initial=0), stage.max(initial=0))) + 1)  # an unknown stage costs 0
    per_stage[ids] = stages["stage_cost"].to_numpy(dtype=float)
    cost = _sum_by_month(pairs["at"], {"cost": per_stage[stage]})["cost"]
    plan = budget.assign(month=_month(budget["month"])).groupby("month")["amount"].sum().rename("budget")
    out = pd.concat([cost, plan], axis=1).fillna(0.0).sort_index()
    out.index.name = "month"
    out = out.reset_index()
    out["ratio"] = np.where(out["budget"] > 0, out["cost"] / out["budget"].where(out["budget"] > 0), np.nan)
    return out


def cost_budget_totals(by_month: pd.DataFrame, today: date | datetime) -> dict[str, object]:
    """Σ stage cost against Σ sales budget **for the same months**: every month up to and
    including the current one (costs run only to today, so a future month's budget is no part
    of the comparison). `by_month` is `cost_vs_budget`'s frame; also says how much budget of
    later months was left out."""
    stamp = pd.Timestamp(today)
    this_month = (stamp.tz_convert(None) if stamp.tzinfo else stamp).to_period("M").to_timestamp()
    month = pd.to_datetime(by_month["month"])
    upto = by_month[month <= this_month]
    later = by_month[month > this_month]
    months = pd.to_datetime(upto["month"])
    return {
        "cost": float(upto["cost"].sum()),
        "budget": float(upto["budget"].sum()),
        "first_month": months.min() if len(months) else None,
        "last_month": months.max() if len(months) else None,
        "later_budget": float(later["budget"].sum()),
        "ratio": float(upto["cost"].sum() / upto["budget"].sum()) if upto["budget"].sum() > 0 else None,
    }


def undated_deals(deals: pd.DataFrame) -> int:
    """Deals whose creation date is unknown (imported without any date): left out of every dated
    figure (new deals per month, sales cycle, cost per month)."""
    return int(deals["created_at"].isna().sum())


def monthly_trends(deals: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per month: new deals (created; an unknown creation date is left out), won (by close) and
    lost (by the day of the loss, even after Contract), won value."""
    d = enrich(deals, stages)
    new = _sum_by_month(d["created_at"], {"new": np.ones(len(d))})
    won_mask = (d["kind"] == "won").to_numpy(dtype=bool, na_value=False)
    lost_mask = (d["kind"] == "lost").to_numpy(dtype=bool, na_value=False)
    value = d["value"].to_numpy(dtype=float, na_value=np.nan)
    closed = _sum_by_month(
        d["closed_at"],
        {
            "won": won_mask.astype(float),
            "lost": lost_mask.astype(float),
            "won_value": np.where(won_mask, value, 0.0),
        },
    )
    out = pd.concat([new, closed], axis=1).fillna(0).sort_index()
    if len(out):
        full = pd.date_range(out.index.min(), out.index.max(), freq="MS")
        out = out.reindex(full, fill_value=0)
    out.index.name = "month"
    out[["new", "won", "lost"]] = out[["new", "won", "lost"]].astype(int)
    return out.reset_index()


def on_time_fulfilment(deals: pd.DataFrame) -> dict[str, float | int | None]:
    """Delivered deals with a promised date: share delivered on or before it, and the mean delay
    among the late ones (an on-time delivery is not a delay of 0 averaged in)."""
    d = deals[deals["promised_delivery"].notna() & deals["actual_delivery"].notna()]
    if d.empty:
        return {"delivered": 0, "on_time": 0, "late": 0, "on_time_rate": None, "mean_delay_days": None}
    delay = (d["actual_delivery"] - d["promised_delivery"]) / DAY
    late = delay[delay > 0]
    return {
        "delivered": len(d),
        "on_time": len(d) - len(late),
        "late": len(late),
        "on_time_rate": (len(d) - len(late)) / len(d),
        "mean_delay_days": float(late.mean()) if len(late) else None,
    }


def relationship_outlook(
    deals: pd.DataFrame, stages: pd.DataFrame, today: date, tolerance: float = OUTLOOK_TOLERANCE
) -> pd.DataFrame:
    """Per account with at least two won deals: median days between wins, next expected order
    (last win + median gap), days overdue, and at risk when overdue by more than the tolerance
    (`tolerance` × the median gap; DESIGN.md's default is half of it)."""
    d = enrich(deals, stages)
    won = d[(d["kind"] == "won") & d["closed_at"].notna() & d["account_id"].notna()]
    account, at = won["account_id"].to_numpy(dtype="int64"), _ns(won["closed_at"])
    order = np.lexsort((at, account))  # each account's wins in time order, accounts contiguous
    account, at = account[order], at[order]
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]]) if len(account) else order
    ends = np.r_[starts[1:], len(account)].astype("int64") if len(account) else order
    value = np.nan_to_num(won["value"].to_numpy(dtype=float, na_value=np.nan)[order])  # a sum skips NaN
    same = account[1:] == account[:-1]  # a gap between two wins of one account
    gaps = survival.grouped_median(account[1:][same], (at[1:] - at[:-1])[same] / DAY.value)
    out = pd.DataFrame(
        {
            "won_deals": ends - starts,
            "won_value": np.add.reduceat(value, starts) if len(account) else value,
            "last_won": won["closed_at"].iloc[order[ends - 1]].array,  # its dtype kept
            "median_gap_days": [gaps.get(a, np.nan) for a in account[starts].tolist()],
        },
        index=pd.Index(account[starts], name="account_id", dtype=won["account_id"].dtype),
    )
    out = out[out["won_deals"] >= 2].copy()
    out["next_expected"] = out["last_won"] + pd.to_timedelta(out["median_gap_days"], unit="D")
    now = _ts(pd.Timestamp(today))
    out["days_overdue"] = ((now - out["next_expected"]) / DAY).clip(lower=0)
    out["tolerance_days"] = out["median_gap_days"] * tolerance
    out["at_risk"] = out["days_overdue"] > out["tolerance_days"]
    return out.reset_index().sort_values(["at_risk", "days_overdue"], ascending=False).reset_index(drop=True)


def summary(
    deals: pd.DataFrame,
    stages: pd.DataFrame,
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, float | int | None]:
    """The headline numbers: totals, sales cycle, velocity and stale count."""
    out = totals(deals, stages, since=since, until=until)
    out["avg_sales_cycle_days"] = sales_cycle_days(deals, stages, since=since, until=until)
    out["velocity_per_day"] = velocity_per_day(
        int(out["open"] or 0), out["avg_won_value"], out["win_rate"], out["avg_sales_cycle_days"]
    )
    out["stale_deals"] = int(stale(deals, stages, now).sum())
    return out
