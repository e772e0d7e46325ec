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

from dataclasses import dataclass
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


_CODE = {s: i for i, s in enumerate(STATUSES)}
_OPEN = np.array([s in OPEN_STATUSES for s in STATUSES] + [False])  # by code; -1 (none): not open
FIXED, IN_RETEST, VERIFIED, CLOSED, REOPENED = (
    _CODE[s] for s in ("fixed", "in_retest", "verified", "closed", "reopened")
)


def codes(values: pd.Series, vocabulary: tuple[str, ...] = STATUSES) -> np.ndarray:
    """Each value's position in `vocabulary` (-1: none or unknown) — free for loaded frames,
    whose columns are categoricals of that vocabulary already."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) and tuple(dtype.categories) == vocabulary:
        return values.cat.codes.to_numpy(dtype="int64")
    return pd.Categorical(values, categories=list(vocabulary)).codes.astype("int64")


def _is_open(status: pd.Series) -> np.ndarray:
    return _OPEN[codes(status)]


def _ns(col: pd.Series) -> np.ndarray:
    """UTC datetimes as int64 nanoseconds (NaT: the minimum int64)."""
    return _utc(col).to_numpy(dtype="datetime64[ns]").view("int64")


@dataclass(frozen=True)
class History:
    """The changes once, in defect and time order, as numpy arrays: every metric of the history
    reads these instead of sorting or scanning the frame again (`report` builds it once)."""

    defect: np.ndarray  # int64 defect id
    frm: np.ndarray  # status code before (-1: the filing)
    to: np.ndarray  # status code after
    at: np.ndarray  # int64 ns UTC
    by: np.ndarray  # int64 user id, 0 when none

    @property
    def same_next(self) -> np.ndarray:
        """The next row belongs to the same defect."""
        return np.r_[self.defect[1:] == self.defect[:-1], False]


def history(changes: pd.DataFrame) -> History:
    """The History of a changes frame (sorted here when the frame is not in order already)."""
    defect = changes["defect_id"].to_numpy(dtype="int64")
    at = _ns(changes["at"]) if len(changes) else np.empty(0, dtype="int64")
    ordered = (np.diff(defect) > 0) | ((np.diff(defect) == 0) & (np.diff(at) >= 0))
    order = None if ordered.all() else np.lexsort((at, defect))  # stable: ties keep their order
    by = pd.array(changes["by_id"], dtype="Int64").to_numpy(dtype="int64", na_value=0)
    arrays = [defect, codes(changes["from_status"]), codes(changes["to_status"]), at, by]
    if order is not None:
        arrays = [a[order] for a in arrays]
    return History(*arrays)


DAY_NS = 86_400 * 10**9
NAT = np.iinfo("int64").min  # NaT as int64 nanoseconds


def _monday(ns: np.ndarray) -> np.ndarray:
    """The Monday (UTC) of each instant's week as a day number since 1970-01-01 (a Thursday)."""
    days = ns // DAY_NS
    return days - (days + 3) % 7


# ---- counts ---------------------------------------------------------------------------------


def totals(defects: pd.DataFrame) -> dict[str, int]:
    is_open = _is_open(defects["status"])
    return {"defects": len(defects), "open": int(is_open.sum()), "resolved": int((~is_open).sum())}


def open_by_severity_status(defects: pd.DataFrame) -> pd.DataFrame:
    """Open defects per (severity, status): every severity × open status, zeros included, in the
    order of SEVERITIES and OPEN_STATUSES. Columns severity, status, count."""
    severity, status = codes(defects["severity"], SEVERITIES), codes(defects["status"])
    column = np.full(len(STATUSES) + 1, -1)
    column[[_CODE[s] for s in OPEN_STATUSES]] = np.arange(len(OPEN_STATUSES))
    cell = severity * len(OPEN_STATUSES) + column[status]
    keep = (severity >= 0) & (column[status] >= 0)
    counts = np.bincount(cell[keep], minlength=len(SEVERITIES) * len(OPEN_STATUSES))
    grid = pd.MultiIndex.from_product([SEVERITIES, OPEN_STATUSES], names=["severity", "status"])
    out = grid.to_frame(index=False)
    out["count"] = counts.astype(int)
    return out


def by_status(defects: pd.DataFrame) -> dict[str, int]:
    status = codes(defects["status"])
    counts = np.bincount(status[status >= 0], minlength=len(STATUSES))
    return {s: int(counts[i]) for i, s in enumerate(STATUSES)}


def _by(defects: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    group, keys = pd.factorize(key, use_na_sentinel=False)
    is_open = _is_open(defects["status"])
    total = np.bincount(group, minlength=len(keys)).astype(int)
    still = np.bincount(group, weights=is_open, minlength=len(keys)).astype(int)
    return pd.DataFrame({name: keys, "defects": total, "open": still, "resolved": total - still})


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


def _positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each wanted id: its row in `ids` and whether it is there at all."""
    if not len(ids):
        return np.zeros(len(wanted), dtype="int64"), np.zeros(len(wanted), dtype=bool)
    order = np.argsort(ids, kind="stable")
    where = order[np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)]
    return where, ids[where] == wanted


def _status_deltas(defects: pd.DataFrame, h: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every change of a defect's open-ness: +1 at its filing, −1 when it leaves the open statuses
    (closure), +1 when it comes back (a reopen). A defect whose history does not end where its
    status is (imported without history, say) gets one correcting event at its closed_at (else its
    filing time), so the backlog always ends at today's open count. Arrays at (ns), delta, filing."""
    ids = defects["id"].to_numpy(dtype="int64")
    created = _ns(defects["created_at"])
    delta = _OPEN[h.to].astype(int) - _OPEN[h.frm].astype(int)
    moved = (h.frm >= 0) & (delta != 0)
    where, known = _positions(ids, h.defect[moved])
    net = np.bincount(where[known], weights=delta[moved][known], minlength=len(ids)).astype(int)
    gap = _is_open(defects["status"]).astype(int) - 1 - net
    closed_at = _ns(defects["closed_at"])
    when = np.where(closed_at == NAT, created, closed_at)
    fix = gap != 0
    at = np.r_[created, h.at[moved], when[fix]]
    deltas = np.r_[np.ones(len(ids), dtype=int), delta[moved], gap[fix]]
    filing = np.r_[np.ones(len(ids), dtype=bool), np.zeros(int(moved.sum() + fix.sum()), dtype=bool)]
    return at, deltas, filing


def weekly_flow(
    defects: pd.DataFrame,
    changes: pd.DataFrame,
    now: datetime | pd.Timestamp,
    hist: History | None = None,
) -> pd.DataFrame:
    """Per week (Monday, naive UTC), from the first filing to the week of `now`: arrived (filed),
    closed (left the open statuses), reopened (came back), backlog (open at the week's end, or now
    for the week in progress) and partial (the week in progress). Empty for no defects."""
    counts = ["arrived", "closed", "reopened", "backlog"]
    if not len(defects):
        empty = {"week": pd.Series(dtype="datetime64[ns]")}
        return pd.DataFrame(
            empty | {c: pd.Series(dtype="int64") for c in counts} | {"partial": pd.Series(dtype=bool)}
        )
    at, delta, filing = _status_deltas(defects, hist or history(changes))
    now_ns = _ts(now).as_unit("ns").value
    keep = (at <= now_ns) & (at != NAT)
    at, delta, filing = at[keep], delta[keep], filing[keep]
    this_week = int(_monday(np.array([now_ns]))[0])
    first = int(min(_monday(at).min(), this_week)) if len(at) else this_week
    week = (_monday(at) - first) // 7
    n = (this_week - first) // 7 + 1
    arrived = np.bincount(week, weights=filing, minlength=n)
    closed = np.bincount(week, weights=np.where(filing, 0, np.maximum(-delta, 0)), minlength=n)
    reopened = np.bincount(week, weights=np.where(filing, 0, np.maximum(delta, 0)), minlength=n)
    backlog = np.cumsum(np.bincount(week, weights=delta, minlength=n))
    mondays = (first + 7 * np.arange(n)).astype("datetime64[D]").astype("datetime64[ns]")
    out = pd.DataFrame({"week": mondays})
    for name, values in zip(counts, (arrived, closed, reopened, backlog), strict=True):
        out[name] = np.rint(values).astype("int64")
    out["partial"] = np.arange(n) == n - 1
    return out


# ---- reopens ----------------------------------------------------------------------------------


def reopen_rate(changes: pd.DataFrame, hist: History | None = None) -> dict[str, float | int | None]:
    """Defects reopened at least once after a fix ÷ defects ever fixed; and every reopen counted."""
    h = hist or history(changes)
    fixed = np.unique(h.defect[h.to == FIXED])
    reopened_ids = np.unique(h.defect[h.to == REOPENED])
    reopened = int(np.isin(reopened_ids, fixed).sum())
    return {
        "fixed": len(fixed),
        "reopened": reopened,
        "rate": reopened / len(fixed) if len(fixed) else None,
        "reopens": int((h.to == REOPENED).sum()),
    }


# ---- time to fix and time to verify (Kaplan–Meier) -------------------------------------------


def fix_durations(
    defects: pd.DataFrame,
    changes: pd.DataFrame,
    now: datetime | pd.Timestamp,
    hist: History | None = None,
) -> pd.DataFrame:
    """Per defect: days from filing to its first fix (observed), or, for a defect still open and
    never fixed, days from filing until now (censored). Defects resolved without a fix (rejected,
    duplicate, won't fix) never entered the fix process and are left out."""
    h = hist or history(changes)
    fixes = h.to == FIXED
    fix_defect, first = np.unique(h.defect[fixes], return_index=True)  # in time order: first fix
    ids = defects["id"].to_numpy(dtype="int64")
    where, observed = _positions(fix_defect, ids)
    first_at = h.at[fixes][first][where] if len(fix_defect) else np.zeros(len(ids), dtype="int64")
    end = np.where(observed, first_at, _ts(now).as_unit("ns").value)
    days = (end - _ns(defects["created_at"])) / DAY_NS
    keep = observed | _is_open(defects["status"])
    return pd.DataFrame({"defect_id": ids, "days": np.maximum(days, 0.0), "observed": observed})[keep]


def verify_durations(
    defects: pd.DataFrame,
    changes: pd.DataFrame,
    now: datetime | pd.Timestamp,
    hist: History | None = None,
) -> pd.DataFrame:
    """Per fix: days from the fix to its verification (observed), or, for the latest fix of a
    defect still waiting for its retest (fixed or in retest), until now (censored). A fix followed
    by a reopen or by another fix was never verified and is left out; so is a verification that
    follows no fix (`verified_without_fix` counts those)."""
    h = hist or history(changes)
    outcome = np.isin(h.to, [_CODE[s] for s in FIX_OUTCOMES])
    defect, status, at = h.defect[outcome], h.to[outcome], h.at[outcome]
    same = np.r_[defect[1:] == defect[:-1], False]  # the next outcome belongs to the same defect
    nxt_status = np.r_[status[1:], -1]
    is_fix = status == FIXED
    verified = is_fix & same & (nxt_status == VERIFIED)
    where, known = _positions(defects["id"].to_numpy(dtype="int64"), defect)
    current = np.where(known, codes(defects["status"])[where], -1)
    waiting = is_fix & ~same & np.isin(current, [_CODE[s] for s in WAITING_FOR_RETEST])
    end = np.where(verified, np.r_[at[1:], 0], _ts(now).as_unit("ns").value)
    days = (end - at) / DAY_NS
    keep = verified | waiting
    return pd.DataFrame({"defect_id": defect, "days": np.maximum(days, 0.0), "observed": verified})[keep]


def verified_without_fix(changes: pd.DataFrame, hist: History | None = None) -> int:
    """Verifications with no fix before them (the previous fix/verify/reopen step of the same
    defect is not a fix): a history the workflow should not produce (imports, manual edits)."""
    h = hist or history(changes)
    outcome = np.isin(h.to, [_CODE[s] for s in FIX_OUTCOMES])
    defect, status = h.defect[outcome], h.to[outcome]
    prev_same = np.r_[False, defect[1:] == defect[:-1]]
    prev = np.r_[-1, status[:-1]]
    return int(((status == VERIFIED) & ~(prev_same & (prev == FIXED))).sum())


def closed_without_retest(defects: pd.DataFrame, changes: pd.DataFrame, hist: History | None = None) -> int:
    """Defects closed now whose latest fix has no verification after it: a fix closed without a
    retest record (the workflow forbids it; imported histories may hold it)."""
    h = hist or history(changes)
    step = (h.to == FIXED) | (h.to == VERIFIED)
    defect, status = h.defect[step], h.to[step]
    last = np.r_[defect[1:] != defect[:-1], True]  # the defect's last fix or verification
    unverified = defect[last & (status == FIXED)]
    closed = defects["id"].to_numpy(dtype="int64")[codes(defects["status"]) == CLOSED]
    return int(np.isin(closed, unverified).sum())


def duration_summary(durations: pd.DataFrame) -> survival.Summary:
    days = durations["days"].to_numpy(dtype=float)
    order = np.argsort(days, kind="stable")  # sorted, the estimator's look-ups run in order
    return survival.summary(days[order], durations["observed"].to_numpy(dtype=bool)[order])


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


def _count_by(users: np.ndarray, defects: np.ndarray) -> pd.Series:
    """Distinct defects per user id (user 0 = none, left out)."""
    keep = users != 0
    if not keep.any():
        return pd.Series(dtype="int64")
    span = int(defects[keep].max()) + 1
    pairs = np.unique(users[keep] * span + defects[keep])  # one number per (user, defect)
    user, n = np.unique(pairs // span, return_counts=True)
    return pd.Series(n, index=user)


def per_programmer(
    defects: pd.DataFrame, changes: pd.DataFrame, users: pd.DataFrame, hist: History | None = None
) -> pd.DataFrame:
    """Per programmer: assigned (defects assigned to them now; open ones apart), fixed (defects
    they moved to fixed) and reopened (defects reopened after a fix of theirs: the reopen goes to
    whoever made the fix before it). Anyone who is an assignee or made a fix has a row."""
    h = hist or history(changes)
    assignee = pd.array(defects["assignee_id"], dtype="Int64").to_numpy(dtype="int64", na_value=0)
    is_open = _is_open(defects["status"])
    assigned = pd.Series(assignee[assignee != 0]).value_counts()
    open_assigned = pd.Series(assignee[(assignee != 0) & is_open]).value_counts()
    fixes = h.to == FIXED
    fixed = _count_by(h.by[fixes], h.defect[fixes])
    # the fix before each reopen: the latest fix row so far, when it is of the same defect
    rows = np.arange(len(h.to))
    last_fix = np.maximum.accumulate(np.where(fixes, rows, -1)) if len(rows) else rows
    reopens = np.flatnonzero(h.to == REOPENED)
    fixer = last_fix[reopens]
    ours = (fixer >= 0) & (h.defect[np.maximum(fixer, 0)] == h.defect[reopens])
    reopened = _count_by(h.by[fixer[ours]], h.defect[reopens[ours]])
    ids = pd.Index(assigned.index).union(pd.Index(fixed.index)).union(pd.Index(reopened.index))
    out = pd.DataFrame({"user_id": np.asarray(ids, dtype="int64")})
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
    columns = {
        name: [None if missing else value for value, missing in zip(col.tolist(), col.isna(), strict=True)]
        for name, col in df.items()
    }
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def report(
    defects: pd.DataFrame,
    changes: pd.DataFrame,
    releases: pd.DataFrame,
    test_runs: pd.DataFrame,
    users: pd.DataFrame,
    now: datetime | pd.Timestamp,
) -> dict[str, Any]:
    """Every metric of docs/defects.md as plain JSON-ready data; the history is put in order once
    (`history`) and shared by every metric that reads it."""
    h = history(changes)
    flow = weekly_flow(defects, changes, now, h)
    flow = flow.assign(week=flow["week"].dt.strftime("%Y-%m-%d"))
    return {
        "totals": totals(defects),
        "by_status": by_status(defects),
        "open_by_severity_status": _records(open_by_severity_status(defects)),
        "weekly_flow": _records(flow),
        "reopen": reopen_rate(changes, h),
        "time_to_fix_days": dict(duration_summary(fix_durations(defects, changes, now, h))),
        "time_to_verify_days": dict(duration_summary(verify_durations(defects, changes, now, h))),
        "by_module": _records(by_module(defects)),
        "by_found_release": _records(by_found_release(defects, releases)),
        "real_data": real_data_share(defects, users),
        "pass_rate": _records(pass_rate(test_runs, releases)),
        "per_programmer": _records(per_programmer(defects, changes, users, h)),
        "anomalies": {
            "verified_without_fix": verified_without_fix(changes, h),
            "closed_without_retest": closed_without_retest(defects, changes, h),
        },
    }
