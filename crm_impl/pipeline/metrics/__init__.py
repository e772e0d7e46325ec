"""Pipeline metrics (DESIGN.md, "Metric definitions"): pure, vectorised pandas.

Inputs are the frames of `crm_impl.services.pipeline_data` (or equivalent hand-built ones):
- stages: id, key, position, kind (open/won/lost), probability, stage_cost, rot_days
- deals: id, account_id, owner_id, stage_id, value, probability (override or NaN),
  expected_close, created_at, closed_at, last_touch_at (UTC datetimes)
- changes: deal_id, from_stage_id, to_stage_id, at (one row per entry into a stage)
- budget: month, amount
"""

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
    (returned as is when already enriched, so a caller can enrich once for many metrics)."""
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
    return out


def _in_period(col: pd.Series, since: datetime | None, until: datetime | None) -> pd.Series:
    mask = col.notna()
    if since is not None:
        mask &= col >= _ts(since)
    if until is not None:
        mask &= col < _ts(until)
    return mask


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
    """Open/won/lost counts, values and win rate. Won and lost count deals closed in the period."""
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
    won = d[(d["kind"] == "won") & _in_period(d["closed_at"], since, until)]
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

    The deal's current stage counts too, so a deal without recorded history is not lost.
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


def funnel(
    changes: pd.DataFrame, deals: pd.DataFrame, stages: pd.DataFrame, pairs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Deals that reached each non-lost stage, and conversion to the next one.

    A deal reached stage s when the furthest non-lost stage it ever entered is s or later: a deal
    that skipped Needs analysis and went to Offer got past Needs analysis. This keeps the funnel
    monotone and every conversion between 0 and 1.
    """
    path = stages[stages["kind"] != "lost"].sort_values("position")
    pos = stages.set_index("id")["position"]
    pairs = entered(changes, deals) if pairs is None else pairs
    pairs = pairs[pairs["stage_id"].isin(path["id"])]
    furthest = pd.Series(pairs["stage_id"].map(pos).to_numpy()).groupby(pairs["deal_id"].to_numpy()).max()
    counts = furthest.value_counts()
    at_pos = path["position"].map(counts).fillna(0).to_numpy()[::-1].cumsum()[::-1]
    out = path[["id", "key", "position"]].rename(columns={"id": "stage_id"}).reset_index(drop=True)
    out["reached"] = at_pos.astype(int)
    nxt = out["reached"].shift(-1)
    out["conversion"] = np.where(out["reached"] > 0, nxt / out["reached"].where(out["reached"] > 0), np.nan)
    return out


def _sorted(changes: pd.DataFrame) -> pd.DataFrame:
    """The changes in deal and time order (the loader already sorts; hand-made frames may not)."""
    deal, at = changes["deal_id"].to_numpy(dtype="int64"), _ns(changes["at"])
    ordered = (np.diff(deal) > 0) | ((np.diff(deal) == 0) & (np.diff(at) >= 0))
    return changes if ordered.all() else changes.sort_values(["deal_id", "at"], kind="stable")


def _stays(changes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed stays as arrays: (deal, stage) key, entry time (ns), days until the next move."""
    c = _sorted(changes)
    deal, at = c["deal_id"].to_numpy(dtype="int64"), _ns(c["at"])
    same = deal[1:] == deal[:-1]
    key = _key(c["deal_id"], c["to_stage_id"])[:-1][same]
    return key, at[:-1][same], (at[1:] - at[:-1])[same] / DAY.value


def stage_intervals(changes: pd.DataFrame) -> pd.DataFrame:
    """Closed stays: deal, stage, days between entering it and the next move (any direction)."""
    key, at, days = _stays(changes)
    entered_at = pd.to_datetime(at, unit="ns", utc=True)
    return pd.DataFrame(
        {"deal_id": key // _STAGE_SLOTS, "stage_id": key % _STAGE_SLOTS, "entered": entered_at, "days": days}
    )


def _median_mean_size(group: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Median, mean and count of `values` per small non-negative integer `group` (a stage id)."""
    counts = np.bincount(group)
    ids = np.flatnonzero(counts)
    sums = np.bincount(group, weights=values)[ids]
    medians = [np.median(values[group == i]) for i in ids]  # one pass per stage, not per row
    return pd.DataFrame({"median": medians, "mean": sums / counts[ids], "size": counts[ids]}, index=ids)


def time_in_stage(changes: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per stage: median and mean days, of the latest stay per deal and of the cumulative stays
    per deal (a re-entered stage adds up)."""
    key, _at, days = _stays(changes)
    order, pair, starts = _runs(key)
    ends = np.r_[starts[1:], len(key)]
    days = days[order]  # each pair's stays in time order
    stage = pair % _STAGE_SLOTS
    last = days[ends - 1] if len(key) else days
    total = np.add.reduceat(days, starts) if len(key) else days
    latest = _median_mean_size(stage, last)
    cumulative = _median_mean_size(stage, total)[["median", "mean"]]
    out = stages[["id", "key", "position"]].set_index("id")
    out = out.join(latest.add_prefix("latest_")).join(cumulative.add_prefix("cumulative_"))
    out = out.rename(columns={"latest_size": "deals"})
    out["deals"] = out["deals"].fillna(0).astype(int)
    return out.reset_index(names="stage_id").sort_values("position").reset_index(drop=True)


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


def _month(col: pd.Series) -> pd.Series:
    """The first day of each value's (UTC) month, naive; NaT stays NaT."""
    values = col.dt.tz_convert(None) if getattr(col.dt, "tz", None) is not None else col
    stamps = values.to_numpy()  # datetime64 in the column's own unit (a date may be far away)
    known = ~np.isnat(stamps)
    months = np.full(len(stamps), np.datetime64("NaT"), dtype="datetime64[us]")
    if known.any():
        # month starts from the first to the last value; each value finds its own by bisection
        lo, hi = stamps[known].min().astype("datetime64[M]"), stamps[known].max().astype("datetime64[M]")
        starts = np.arange(lo, hi + 1)
        index = np.searchsorted(starts.astype(stamps.dtype), stamps[known], side="right") - 1
        months[known] = starts.astype("datetime64[us]")[index]
    return pd.Series(months, index=col.index, name=col.name)


def cost_vs_budget(
    changes: pd.DataFrame,
    deals: pd.DataFrame,
    stages: pd.DataFrame,
    budget: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stage cost per month (the month a deal first entered the stage) next to the sales budget."""
    pairs = (entered(changes, deals) if pairs is None else pairs).copy()
    pairs["cost"] = pairs["stage_id"].map(stages.set_index("id")["stage_cost"])
    cost = pairs.groupby(_month(pairs["at"]))["cost"].sum().rename("cost")
    plan = budget.assign(month=_month(budget["month"])).groupby("month")["amount"].sum().rename("budget")
    out = pd.concat([cost, plan], axis=1).fillna(0.0).sort_index()
    out.index.name = "month"
    out = out.reset_index()
    out["ratio"] = np.where(out["budget"] > 0, out["cost"] / out["budget"].where(out["budget"] > 0), np.nan)
    return out


def monthly_trends(deals: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per month: new deals (created), won and lost (closed), won value."""
    d = enrich(deals, stages)
    new = d.groupby(_month(d["created_at"])).size().rename("new")
    closed = d.loc[d["closed_at"].notna(), ["closed_at", "kind", "value"]]
    month = _month(closed["closed_at"])
    won_mask = closed["kind"] == "won"
    won = won_mask.groupby(month).sum().rename("won")
    lost = (closed["kind"] == "lost").groupby(month).sum().rename("lost")
    won_value = closed["value"].where(won_mask, 0.0).groupby(month).sum().rename("won_value")
    out = pd.concat([new, won, lost, won_value], axis=1).fillna(0).sort_index()
    if len(out):
        full = pd.date_range(out.index.min(), out.index.max(), freq="MS")
        out = out.reindex(full, fill_value=0)
    out.index.name = "month"
    out[["new", "won", "lost"]] = out[["new", "won", "lost"]].astype(int)
    return out.reset_index()


def on_time_fulfilment(deals: pd.DataFrame) -> dict[str, float | int | None]:
    """Delivered deals with a promised date: share delivered on or before it, and mean delay."""
    d = deals[deals["promised_delivery"].notna() & deals["actual_delivery"].notna()]
    if d.empty:
        return {"delivered": 0, "on_time": 0, "on_time_rate": None, "mean_delay_days": None}
    delay = (d["actual_delivery"] - d["promised_delivery"]) / DAY
    on_time = int((delay <= 0).sum())
    return {
        "delivered": len(d),
        "on_time": on_time,
        "on_time_rate": on_time / len(d),
        "mean_delay_days": float(delay.clip(lower=0).mean()),
    }


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
