"""Defect and test metrics (issue 9, docs/defects.md): pure, vectorised pandas.

Inputs are the frames of `crm_impl.defects.queries.load` (or hand-made ones with these columns):
- defects: id, status, severity, priority, module, environment, found_in_release_id,
  target_release_id, fixed_in_release_id, reporter_id, assignee_id, created_at, closed_at,
  client_signoff_at (UTC datetimes; ids nullable)
- changes: defect_id, from_status (None for the filing), to_status, at, by_id, release_id — one
  row per transition
- releases: id, name, status, planned_date, released_on
- test_runs: id, release_id, tester_id, side, environment, run_on, passed, failed, blocked
- users: id, name, side (vendor/client, from the user's person; "" when unknown)

Statuses, severities and environments are the keys of crm_impl.defects.models; a chart turns
them into words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from crm_impl.core import survival
from crm_impl.defects.vocabulary import OPEN_STATUSES, SEVERITIES, STATUSES

DAY = pd.Timedelta(days=1)
WEEK = pd.Timedelta(days=7)
FIX_OUTCOMES = ("fixed", "verified", "reopened")  # what ends a wait for a fix's verification
WAITING_FOR_RETEST = ("fixed", "in_retest")


def _ts(now: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _utc(col: pd.Series) -> pd.Series:
    out = pd.to_datetime(col)
    return out.dt.tz_localize("UTC") if out.dt.tz is None else out.dt.tz_convert("UTC")


def _is_open(status: pd.Series) -> np.ndarray:
    return status.isin(OPEN_STATUSES).to_numpy()


def _sorted(changes: pd.DataFrame) -> pd.DataFrame:
    """Changes in defect and time order (the loader sorts already; hand-made frames may not)."""
    dtype = changes["at"].dtype
    at_utc = isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"  # as loaded: no copy
    c = changes if at_utc else changes.assign(at=_utc(changes["at"]))
    defect = c["defect_id"].to_numpy(dtype="int64")
    at = c["at"].to_numpy(dtype="datetime64[ns]").view("int64")
    ordered = (np.diff(defect) > 0) | ((np.diff(defect) == 0) & (np.diff(at) >= 0))
    return c if ordered.all() else c.sort_values(["defect_id", "at"], kind="stable")


def _week(col: pd.Series) -> pd.Series:
    """The Monday (UTC, naive) of each value's week; NaT stays NaT."""
    days = _utc(col).dt.tz_localize(None).dt.normalize()
    return days - pd.to_timedelta(days.dt.weekday, unit="D")


# ---- counts ---------------------------------------------------------------------------------


def totals(defects: pd.DataFrame) -> dict[str, int]:
    is_open = _is_open(defects["status"])
    return {"defects": len(defects), "open": int(is_open.sum()), "resolved": int((~is_open).sum())}


def open_by_severity_status(defects: pd.DataFrame) -> pd.DataFrame:
    """Open defects per (severity, status): every severity × open status, zeros included, in the
    order of SEVERITIES and OPEN_STATUSES. Columns severity, status, count."""
    d = defects.loc[_is_open(defects["status"]), ["severity", "status"]].astype(str)
    counts = d.groupby(["severity", "status"]).size()
    grid = pd.MultiIndex.from_product([SEVERITIES, OPEN_STATUSES], names=["severity", "status"])
    out = counts.reindex(grid, fill_value=0).rename("count").reset_index()
    out["count"] = out["count"].astype(int)
    return out


def by_status(defects: pd.DataFrame) -> dict[str, int]:
    counts = defects["status"].astype(str).value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def _by(defects: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    is_open = pd.Series(_is_open(defects["status"]), index=defects.index)
    out = pd.DataFrame({name: key, "open": is_open}).groupby(name, dropna=False, sort=False)
    result = out.agg(defects=("open", "size"), open=("open", "sum")).reset_index()
    result["defects"] = result["defects"].astype(int)
    result["open"] = result["open"].astype(int)
    result["resolved"] = result["defects"] - result["open"]
    return result


def by_module(defects: pd.DataFrame) -> pd.DataFrame:
    """Per module (blank: ""): defects, open, resolved; most defects first, then by name."""
    out = _by(defects, defects["module"].fillna("").astype(str), "module")
    return out.sort_values(["defects", "module"], ascending=[False, True]).reset_index(drop=True)


def by_found_release(defects: pd.DataFrame, releases: pd.DataFrame) -> pd.DataFrame:
    """Per found-in release, in release order (id), then the defects found in none (release_id
    NA, name ""): defects, open, resolved."""
    key = pd.Series(pd.array(defects["found_in_release_id"], dtype="Int64"), index=defects.index)
    out = _by(defects, key, "release_id")
    out["release_id"] = out["release_id"].astype("Int64")
    names = releases.set_index("id")["name"] if len(releases) else pd.Series(dtype=object)
    out["name"] = out["release_id"].map(names).astype(object).where(out["release_id"].notna(), "")
    out["name"] = out["name"].fillna("").astype(str)
    out = out.sort_values("release_id", na_position="last").reset_index(drop=True)
    return out[["release_id", "name", "defects", "open", "resolved"]]


# ---- arrival, closure and the open backlog --------------------------------------------------


def _status_deltas(defects: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Every change of a defect's open-ness: +1 at its filing, −1 when it leaves the open statuses
    (closure), +1 when it comes back (a reopen). A defect whose history does not end where its
    status is (imported without history, say) gets one correcting event at its closed_at (else its
    filing time), so the backlog always ends at today's open count. Columns at, delta, filing."""
    ids = defects["id"].to_numpy(dtype="int64")
    created = _utc(defects["created_at"]).reset_index(drop=True)
    c = changes[changes["from_status"].notna()]
    delta = c["to_status"].isin(OPEN_STATUSES).to_numpy(dtype=int) - c["from_status"].isin(
        OPEN_STATUSES
    ).to_numpy(dtype=int)
    moved = delta != 0
    move_ids = c["defect_id"].to_numpy(dtype="int64")[moved]
    net = pd.Series(delta[moved]).groupby(move_ids).sum().reindex(ids, fill_value=0).to_numpy()
    gap = _is_open(defects["status"]).astype(int) - 1 - net
    when = _utc(defects["closed_at"]).reset_index(drop=True).fillna(created)
    fix = gap != 0
    return pd.DataFrame(
        {
            "at": pd.concat(
                [created, _utc(c["at"]).reset_index(drop=True)[moved], when[fix]], ignore_index=True
            ),
            "delta": np.r_[np.ones(len(ids), dtype=int), delta[moved], gap[fix]],
            "filing": np.r_[
                np.ones(len(ids), dtype=bool), np.zeros(int(moved.sum() + fix.sum()), dtype=bool)
            ],
        }
    )


def weekly_flow(defects: pd.DataFrame, changes: pd.DataFrame, now: datetime | pd.Timestamp) -> pd.DataFrame:
    """Per week (Monday, naive UTC), from the first filing to the week of `now`: arrived (filed),
    closed (left the open statuses), reopened (came back), backlog (open at the week's end, or now
    for the week in progress) and partial (the week in progress). Empty for no defects."""
    counts = ["arrived", "closed", "reopened", "backlog"]
    if not len(defects):
        empty = {"week": pd.Series(dtype="datetime64[ns]")}
        return pd.DataFrame(
            empty | {c: pd.Series(dtype="int64") for c in counts} | {"partial": pd.Series(dtype=bool)}
        )
    events = _status_deltas(defects, changes)
    events = events[events["at"] <= _ts(now)]
    delta, filing = events["delta"].to_numpy(), events["filing"].to_numpy()
    frame = pd.DataFrame(
        {
            "week": _week(events["at"]).to_numpy(),
            "arrived": filing.astype(int),
            "closed": np.where(filing, 0, np.maximum(-delta, 0)),
            "reopened": np.where(filing, 0, np.maximum(delta, 0)),
            "delta": delta,
        }
    )
    grouped = frame.groupby("week")[["arrived", "closed", "reopened", "delta"]].sum()
    this_week = _week(pd.Series([_ts(now)])).iloc[0]
    start = min(grouped.index.min(), this_week) if len(grouped) else this_week
    grouped = grouped.reindex(pd.date_range(start, this_week, freq="7D"), fill_value=0)
    out = grouped.rename_axis("week").reset_index()
    out["backlog"] = out.pop("delta").cumsum()
    out[counts] = out[counts].astype("int64")
    out["partial"] = out["week"] >= this_week
    return out[["week", *counts, "partial"]]


# ---- reopens ----------------------------------------------------------------------------------


def reopen_rate(changes: pd.DataFrame) -> dict[str, float | int | None]:
    """Defects reopened at least once after a fix ÷ defects ever fixed; and every reopen counted."""
    to = changes["to_status"]
    fixed = pd.Index(changes.loc[to == "fixed", "defect_id"].unique())
    reopened_ids = pd.Index(changes.loc[to == "reopened", "defect_id"].unique())
    reopened = int(reopened_ids.isin(fixed).sum())
    return {
        "fixed": len(fixed),
        "reopened": reopened,
        "rate": reopened / len(fixed) if len(fixed) else None,
        "reopens": int((to == "reopened").sum()),
    }


# ---- time to fix and time to verify (Kaplan–Meier) -------------------------------------------


def fix_durations(defects: pd.DataFrame, changes: pd.DataFrame, now: datetime | pd.Timestamp) -> pd.DataFrame:
    """Per defect: days from filing to its first fix (observed), or, for a defect still open and
    never fixed, days from filing until now (censored). Defects resolved without a fix (rejected,
    duplicate, won't fix) never entered the fix process and are left out."""
    c = changes[changes["to_status"] == "fixed"]
    first_fix = _utc(c["at"]).groupby(c["defect_id"].to_numpy(dtype="int64")).min()
    ids = defects["id"].to_numpy(dtype="int64")
    fixed_at = first_fix.reindex(ids).reset_index(drop=True)
    created = _utc(defects["created_at"]).reset_index(drop=True)
    observed = fixed_at.notna().to_numpy()
    still_open = _is_open(defects["status"])
    end = fixed_at.where(observed, _ts(now))
    days = ((end - created) / DAY).to_numpy(dtype=float)
    keep = observed | still_open
    return pd.DataFrame({"defect_id": ids, "days": np.maximum(days, 0.0), "observed": observed})[keep]


def verify_durations(
    defects: pd.DataFrame, changes: pd.DataFrame, now: datetime | pd.Timestamp
) -> pd.DataFrame:
    """Per fix: days from the fix to its verification (observed), or, for the latest fix of a
    defect still waiting for its retest (fixed or in retest), until now (censored). A fix followed
    by a reopen or by another fix was never verified and is left out; so is a verification that
    follows no fix (`verified_without_fix` counts those)."""
    c = _sorted(changes)
    c = c[c["to_status"].isin(FIX_OUTCOMES)]
    defect = c["defect_id"].to_numpy(dtype="int64")
    status = c["to_status"].astype(str).to_numpy()
    at = c["at"].reset_index(drop=True)
    same = np.r_[defect[1:] == defect[:-1], False]  # the next outcome belongs to the same defect
    nxt_status = np.append(status[1:], "")
    is_fix = status == "fixed"
    verified = is_fix & same & (nxt_status == "verified")
    last = is_fix & ~same
    current = defects.set_index(defects["id"].to_numpy(dtype="int64"))["status"].astype(str)
    waiting = last & pd.Series(defect).map(current).isin(WAITING_FOR_RETEST).to_numpy()
    nxt_at = at.shift(-1)
    end = nxt_at.where(pd.Series(verified), _ts(now))
    days = ((end - at) / DAY).to_numpy(dtype=float)
    keep = verified | waiting
    return pd.DataFrame({"defect_id": defect, "days": np.maximum(days, 0.0), "observed": verified})[keep]


def verified_without_fix(changes: pd.DataFrame) -> int:
    """Verifications with no fix before them (the previous fix/verify/reopen step of the same
    defect is not a fix): a history the workflow should not produce (imports, manual edits)."""
    c = _sorted(changes)
    c = c[c["to_status"].isin(FIX_OUTCOMES)]
    defect = c["defect_id"].to_numpy(dtype="int64")
    status = c["to_status"].astype(str).to_numpy()
    prev_same = np.r_[False, defect[1:] == defect[:-1]]
    prev = np.insert(status[:-1], 0, "")
    return int(((status == "verified") & ~(prev_same & (prev == "fixed"))).sum())


def closed_without_retest(defects: pd.DataFrame, changes: pd.DataFrame) -> int:
    """Defects closed now whose latest fix has no verification after it: a fix closed without a
    retest record (the workflow forbids it; imported histories may hold it)."""
    c = _sorted(changes)
    c = c[c["to_status"].isin(("fixed", "verified"))]
    last = c.groupby("defect_id")["to_status"].last()
    closed = defects.loc[defects["status"] == "closed", "id"]
    return int((closed.map(last) == "fixed").sum())


def duration_summary(durations: pd.DataFrame) -> survival.Summary:
    return survival.summary(
        durations["days"].to_numpy(dtype=float), durations["observed"].to_numpy(dtype=bool)
    )


# ---- who found it, test runs, programmers -----------------------------------------------------


def real_data_share(defects: pd.DataFrame, users: pd.DataFrame) -> dict[str, float | int | None]:
    """Defects found on real data by a client-side tester (the reporter's person is on the client
    side) ÷ all defects; also every real-data defect and every defect the client side filed."""
    side = defects["reporter_id"].map(users.set_index("id")["side"]) if len(users) else None
    client = (side == "client").to_numpy() if side is not None else np.zeros(len(defects), dtype=bool)
    real = (defects["environment"] == "real_data").to_numpy()
    n = len(defects)
    found = int((real & client).sum())
    return {
        "defects": n,
        "real_data": int(real.sum()),
        "by_client": int(client.sum()),
        "real_data_by_client": found,
        "share": found / n if n else None,
    }


def pass_rate(test_runs: pd.DataFrame, releases: pd.DataFrame) -> pd.DataFrame:
    """Per release with test runs (release order): runs, cases passed, failed, blocked and pass
    rate = passed ÷ (passed + failed + blocked) (NaN when no case was run)."""
    cases = ["passed", "failed", "blocked"]
    runs = test_runs[["release_id", *cases]].astype({c: "int64" for c in cases})
    out = runs.groupby("release_id").agg(runs=("passed", "size"), **{c: (c, "sum") for c in cases})
    out = out.reset_index().sort_values("release_id").reset_index(drop=True)
    total = out[cases].sum(axis=1)
    out["cases"] = total.astype(int)
    out["pass_rate"] = (out["passed"] / total.where(total > 0)).astype(float)
    names = releases.set_index("id")["name"] if len(releases) else pd.Series(dtype=object)
    out["name"] = out["release_id"].map(names).fillna("").astype(str)
    out[["runs", *cases]] = out[["runs", *cases]].astype(int)
    return out[["release_id", "name", "runs", *cases, "cases", "pass_rate"]]


def per_programmer(defects: pd.DataFrame, changes: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Per programmer: assigned (defects assigned to them now; open ones apart), fixed (defects
    they moved to fixed) and reopened (defects reopened after a fix of theirs: the reopen goes to
    whoever made the fix before it). Anyone who is an assignee or made a fix has a row."""
    assignee = pd.Series(pd.array(defects["assignee_id"], dtype="Int64"))
    is_open = pd.Series(_is_open(defects["status"]))
    assigned = assignee.groupby(assignee).size()
    open_assigned = assignee[is_open].groupby(assignee[is_open]).size()
    c = _sorted(changes)
    fixes = c[c["to_status"] == "fixed"]
    fixed = fixes.dropna(subset=["by_id"]).groupby("by_id")["defect_id"].nunique()
    reopens = c[c["to_status"] == "reopened"][["defect_id", "at"]].sort_values("at")
    fixers = fixes[["defect_id", "at", "by_id"]].sort_values("at")
    if len(reopens) and len(fixers):
        owner = pd.merge_asof(reopens, fixers, on="at", by="defect_id", direction="backward")
        owner = owner.dropna(subset=["by_id"])
        reopened = owner.groupby("by_id")["defect_id"].nunique()
    else:
        reopened = pd.Series(dtype="int64")
    ids = pd.Index(assigned.index).union(pd.Index(fixed.index)).union(pd.Index(reopened.index))
    ids = pd.Index(pd.array(ids, dtype="Int64")).dropna().unique()
    out = pd.DataFrame({"user_id": ids.astype("int64")})
    for name, series in (
        ("assigned", assigned),
        ("open", open_assigned),
        ("fixed", fixed),
        ("reopened", reopened),
    ):
        counts = pd.Series(series.to_numpy(), index=pd.Index(series.index).astype("int64"))
        out[name] = out["user_id"].map(counts).fillna(0).astype(int)
    names = users.set_index("id")["name"] if len(users) else pd.Series(dtype=object)
    out["name"] = out["user_id"].map(names).fillna("").astype(str)
    out = out.sort_values(["assigned", "fixed", "name"], ascending=[False, False, True])
    return out[["user_id", "name", "assigned", "open", "fixed", "reopened"]].reset_index(drop=True)


# ---- everything at once -----------------------------------------------------------------------


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN/NA become None, numpy numbers plain Python ones."""
    out = df.astype(object).where(df.notna(), None)
    rows = out.to_dict("records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in rows]


def report(
    defects: pd.DataFrame,
    changes: pd.DataFrame,
    releases: pd.DataFrame,
    test_runs: pd.DataFrame,
    users: pd.DataFrame,
    now: datetime | pd.Timestamp,
) -> dict[str, Any]:
    """Every metric of docs/defects.md as plain JSON-ready data."""
    flow = weekly_flow(defects, changes, now)
    flow = flow.assign(week=flow["week"].dt.strftime("%Y-%m-%d"))
    return {
        "totals": totals(defects),
        "by_status": by_status(defects),
        "open_by_severity_status": _records(open_by_severity_status(defects)),
        "weekly_flow": _records(flow),
        "reopen": reopen_rate(changes),
        "time_to_fix_days": dict(duration_summary(fix_durations(defects, changes, now))),
        "time_to_verify_days": dict(duration_summary(verify_durations(defects, changes, now))),
        "by_module": _records(by_module(defects)),
        "by_found_release": _records(by_found_release(defects, releases)),
        "real_data": real_data_share(defects, users),
        "pass_rate": _records(pass_rate(test_runs, releases)),
        "per_programmer": _records(per_programmer(defects, changes, users)),
        "anomalies": {
            "verified_without_fix": verified_without_fix(changes),
            "closed_without_retest": closed_without_retest(defects, changes),
        },
    }
