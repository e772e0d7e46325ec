"""How deals flow through the stages (DESIGN.md, "Metric definitions"): the funnel (entered and
reached), stage conversion among the deals that left a stage, and time in stage with the stays
still open counted as censored (Kaplan–Meier). Pure, vectorised pandas/numpy."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from crm_impl.core import survival
from crm_impl.pipeline.metrics.base import _NAT, _STAGE_SLOTS, DAY, _key, _ns, _runs, _sorted, _ts, entered


def _moves(changes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every stay that ended: deal, stage, entry time (ns) and the stage moved to next."""
    c = _sorted(changes)
    deal, to, at = (
        c["deal_id"].to_numpy(dtype="int64"),
        c["to_stage_id"].to_numpy(dtype="int64"),
        _ns(c["at"]),
    )
    same = deal[1:] == deal[:-1]
    return deal[:-1][same], to[:-1][same], at[:-1][same], to[1:][same]


def stage_conversion(changes: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per stage, the deals that have **left** it and where they went on their last way out:
    forward (a later non-lost stage), to Lost, or back. Conversion = forward ÷ left; a deal still
    sitting in the stage has not left it and is no failure."""
    deal, stage, _at, nxt = _moves(changes)
    order, pair, starts = _runs(deal * _STAGE_SLOTS + stage)
    ends = np.r_[starts[1:], len(order)].astype("int64")
    last_next = nxt[order][ends - 1] if len(order) else nxt
    from_stage = (pair % _STAGE_SLOTS).astype("int64")
    # stage id -> position / is Lost as lookup arrays (ids are small integers); an id the stage
    # list lacks has position -1 and is not Lost, so a move to it counts as back, as before
    ids = stages["id"].to_numpy(dtype="int64")
    size = int(max(ids.max(initial=0), from_stage.max(initial=0), last_next.max(initial=0))) + 1
    pos = np.full(size, -1, dtype="int64")
    pos[ids] = stages["position"].to_numpy(dtype="int64")
    lost = np.zeros(size, dtype=bool)
    lost[ids] = (stages["kind"] == "lost").to_numpy()
    to_lost = lost[last_next]
    ahead = (pos[last_next] > pos[from_stage]) & ~to_lost
    back = ~(ahead | to_lost)
    count = {
        name: np.bincount(from_stage, weights=w, minlength=size)[ids].astype(int)
        for name, w in (("left", None), ("forward", ahead), ("to_lost", to_lost), ("back", back))
    }
    out = pd.DataFrame(count, index=pd.Index(ids, name="stage_id"))
    out["conversion"] = out["forward"] / out["left"].where(out["left"] > 0)
    return out.reset_index()


def funnel(
    changes: pd.DataFrame, deals: pd.DataFrame, stages: pd.DataFrame, pairs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per non-lost stage: deals that **entered** it (a stage change into it, or created in it),
    deals that **reached** it (entered it or any later stage: a skip counts as passing through,
    so this column is monotone), and the stage conversion of `stage_conversion`."""
    path = stages[stages["kind"] != "lost"].sort_values("position")
    pairs = entered(changes, deals) if pairs is None else pairs
    deal, stage = pairs["deal_id"].to_numpy(dtype="int64"), pairs["stage_id"].to_numpy(dtype="int64")
    # stage id -> position, and whether it is on the path, as lookup arrays (ids are small ints)
    ids = path["id"].to_numpy(dtype="int64")
    size = int(max(stages["id"].max() if len(stages) else 0, stage.max(initial=0))) + 1
    on_path = np.zeros(size, dtype=bool)
    on_path[ids] = True
    pos = np.zeros(size, dtype="int64")
    pos[ids] = path["position"].to_numpy(dtype="int64")
    keep = on_path[stage]
    deal, stage = deal[keep], stage[keep]
    entered_n = np.bincount(stage, minlength=size)[ids]
    # each deal's furthest position: its pairs are contiguous once sorted by deal (entered() is)
    if len(deal) and (np.diff(deal) < 0).any():
        by_deal = np.argsort(deal, kind="stable")
        deal, stage = deal[by_deal], stage[by_deal]
    starts = np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]]) if len(deal) else np.empty(0, "int64")
    furthest = np.maximum.reduceat(pos[stage], starts) if len(deal) else np.empty(0, "int64")
    at, n = np.unique(furthest, return_counts=True)
    counts = dict(zip(at.tolist(), n.tolist(), strict=True))
    furthest_here = np.array([counts.get(p, 0) for p in path["position"].tolist()], dtype="int64")
    at_pos = furthest_here[::-1].cumsum()[::-1]  # reached: this stage or a later one
    out = path[["id", "key", "position"]].rename(columns={"id": "stage_id"}).reset_index(drop=True)
    out["entered"] = entered_n.astype(int)
    out["reached"] = at_pos.astype(int)
    return out.merge(stage_conversion(changes, stages), on="stage_id", how="left")


def _stays(changes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finished stays as arrays: (deal, stage) key, entry time (ns), days until the next move."""
    c = _sorted(changes)
    deal, at = c["deal_id"].to_numpy(dtype="int64"), _ns(c["at"])
    same = deal[1:] == deal[:-1]
    key = _key(c["deal_id"], c["to_stage_id"])[:-1][same]
    return key, at[:-1][same], (at[1:] - at[:-1])[same] / DAY.value


def stage_intervals(changes: pd.DataFrame) -> pd.DataFrame:
    """Finished stays: deal, stage, days between entering it and the next move (any direction)."""
    key, at, days = _stays(changes)
    entered_at = pd.to_datetime(at, unit="ns", utc=True)
    return pd.DataFrame(
        {"deal_id": key // _STAGE_SLOTS, "stage_id": key % _STAGE_SLOTS, "entered": entered_at, "days": days}
    )


def _medians_and_means(stage: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per small non-negative integer `stage` (a stage id): the count (`size`) and each column's
    median and mean (`{name}_median`, `{name}_mean`), from one radix sort by stage for all the
    columns, then each stage's median by selection."""
    counts = np.bincount(stage)
    ids = np.flatnonzero(counts)
    order = np.argsort(stage.astype(np.uint16), kind="stable")  # stage ids are small (< 2**16)
    bounds = np.r_[0, np.cumsum(counts[ids])]
    out: dict[str, object] = {}
    for name, values in columns.items():
        ordered = values[order]
        out[f"{name}_median"] = [
            float(np.median(ordered[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        out[f"{name}_mean"] = np.bincount(stage, weights=values)[ids] / counts[ids]
    out["size"] = counts[ids]
    return pd.DataFrame(out, index=ids)


def open_stays(deals: pd.DataFrame, stages: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The stay each deal is in now (stage, days so far), still running: censored at `now`.
    A lost deal's stay in Lost is not a stay in the pipeline; an unknown entry time is left out."""
    stage = deals["stage_id"].to_numpy(dtype="int64")
    ids = stages["id"].to_numpy(dtype="int64")
    # stage id -> is Lost, as a lookup array (ids are small integers; an unknown id is not Lost)
    lost = np.zeros(int(max(ids.max(initial=0), stage.max(initial=0))) + 1, dtype=bool)
    lost[ids] = (stages["kind"] == "lost").to_numpy()
    entered_at = _ns(deals["stage_entered_at"])
    keep = ~lost[stage] & (entered_at != _NAT)
    days = np.maximum((_ts(now).value - entered_at[keep]) / DAY.value, 0.0)
    return pd.DataFrame({"stage_id": stage[keep], "days": days})


def _km_per_stage(stage: np.ndarray, days: np.ndarray, finished: np.ndarray) -> pd.DataFrame:
    rows = {
        sid: {
            "stays": s["n"],
            "finished": s["events"],
            "still_open": s["censored"],
            "km_median": np.nan if s["median"] is None else s["median"],
            "finished_median": np.nan if s["median_finished"] is None else s["median_finished"],
        }
        for sid, s in survival.summary_by_group(stage, days, finished).items()  # one sort in all
    }
    cols = ["stays", "finished", "still_open", "km_median", "finished_median"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def time_in_stage(
    changes: pd.DataFrame,
    stages: pd.DataFrame,
    *,
    deals: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Per stage: the Kaplan–Meier median of days in the stage, every stay counted and the ones
    still running (given `deals` and `now`) censored at `now`, beside the median of finished
    stays only (`finished_median`, biased low: stuck deals are missing from it). Also the
    finished stays' median and mean of the latest stay per deal and of the cumulative stays per
    deal (a re-entered stage adds up)."""
    key, _at, days = _stays(changes)
    order, pair, starts = _runs(key)
    ends = np.r_[starts[1:], len(key)]
    ordered = days[order]  # each pair's stays in time order
    stage = pair % _STAGE_SLOTS
    last = ordered[ends - 1] if len(key) else ordered
    total = np.add.reduceat(ordered, starts) if len(key) else ordered
    per_deal = _medians_and_means(stage, {"latest": last, "cumulative": total})
    running = open_stays(deals, stages, now) if deals is not None and now is not None else None
    all_stage = key % _STAGE_SLOTS
    all_days, finished = days, np.ones(len(days), dtype=bool)
    if running is not None:
        all_stage = np.r_[all_stage, running["stage_id"].to_numpy()]
        all_days = np.r_[all_days, running["days"].to_numpy()]
        finished = np.r_[finished, np.zeros(len(running), dtype=bool)]
    km = _km_per_stage(all_stage, all_days, finished)
    out = stages[["id", "key", "position"]].set_index("id")
    out = out.join(km)
    per_deal = per_deal.rename(columns={"size": "deals"})
    columns = ["latest_median", "latest_mean", "deals", "cumulative_median", "cumulative_mean"]
    out = out.join(per_deal[columns])
    counts = ["deals", "stays", "finished", "still_open"]
    out[counts] = out[counts].fillna(0).astype(int)
    return out.reset_index(names="stage_id").sort_values("position").reset_index(drop=True)
