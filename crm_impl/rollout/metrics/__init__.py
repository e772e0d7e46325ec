"""Rollout-plan metrics (pure, vectorised): schedule variance, baseline comparison, scope creep,
changes per month after go-live, requirement coverage, goal progress, risk scores, and fuzzy
duplicate suggestions for ideas."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, process, utils

RISK_LEVELS = ((4, "low"), (12, "medium"), (25, "high"))


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    delta = pd.to_datetime(later) - pd.to_datetime(earlier)
    return delta.dt.days.astype("Int64")


def schedule_variance(
    phases: pd.DataFrame, baseline: pd.DataFrame | None = None, *, today: date | None = None
) -> pd.DataFrame:
    """Per phase: the reference end (the baseline's, else the planned end), the expected end
    (actual end; while unfinished and overdue, today) and the variance in days (> 0 = late).

    `phases`: id, name, planned_start, planned_end, actual_start, actual_end, percent_complete.
    `baseline`: baseline items (kind, ref_id, start, end); phases not in it fall back to plan.
    """
    today = today or date.today()
    df = phases.copy()
    df["reference_start"] = df["planned_start"]
    df["reference_end"] = df["planned_end"]
    if baseline is not None and len(baseline):
        base = baseline[baseline["kind"] == "phase"].set_index("ref_id")
        df["reference_start"] = df["id"].map(base["start"]).fillna(df["planned_start"])
        df["reference_end"] = df["id"].map(base["end"]).fillna(df["planned_end"])
    today_ts = pd.Timestamp(today)
    planned_end = pd.to_datetime(df["planned_end"])
    open_overdue = df["actual_end"].isna() & (planned_end < today_ts)
    expected = pd.to_datetime(df["actual_end"]).fillna(planned_end)
    expected = expected.where(~open_overdue, today_ts)
    df["expected_end"] = expected.dt.date
    start = pd.to_datetime(df["actual_start"]).fillna(pd.to_datetime(df["planned_start"]))
    df["start_variance_days"] = _days(start, df["reference_start"])
    df["variance_days"] = _days(expected, df["reference_end"])
    df["slipped"] = df["variance_days"].fillna(0) > 0
    return df


def compare_baselines(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two baselines (or a baseline and `services.plan.current_items`) side by side: start and end
    shift in days per item (> 0 = later in `b`); items only in one side are marked."""
    merged = a.merge(b, on=["kind", "ref_id"], how="outer", suffixes=("_a", "_b"), indicator=True)
    merged["name"] = merged["name_b"].fillna(merged["name_a"])
    merged["start_shift_days"] = _days(merged["start_b"], merged["start_a"])
    merged["end_shift_days"] = _days(merged["end_b"], merged["end_a"])
    merged["presence"] = merged["_merge"].map({"both": "both", "left_only": "removed", "right_only": "added"})
    columns = ["kind", "ref_id", "name", "start_a", "end_a", "start_b", "end_b"]
    return merged[[*columns, "start_shift_days", "end_shift_days", "presence"]].sort_values(
        ["kind", "end_b", "end_a"], ascending=[False, True, True], na_position="last"
    )


def scope_creep(
    changes: pd.DataFrame, baseline_effort_days: float, baseline_cost: float, limit: float = 0.10
) -> dict[str, Any]:
    """Approved change-request effort ÷ baseline effort, and the same for cost (slide 9)."""
    approved = changes[changes["status"] == "approved"]
    pending = changes[changes["status"] == "pending"]
    effort = float(approved["effort_days"].astype(float).sum())
    cost = float(approved["cost"].astype(float).sum())
    effort_ratio = effort / float(baseline_effort_days) if float(baseline_effort_days or 0) > 0 else None
    cost_ratio = cost / float(baseline_cost) if float(baseline_cost or 0) > 0 else None
    worst = max((r for r in (effort_ratio, cost_ratio) if r is not None), default=None)
    return {
        "approved_count": int(len(approved)),
        "pending_count": int(len(pending)),
        "approved_effort_days": effort,
        "approved_cost": cost,
        "pending_effort_days": float(pending["effort_days"].astype(float).sum()),
        "schedule_impact_days": int(approved["schedule_impact_days"].astype(int).sum()),
        "effort_ratio": effort_ratio,
        "cost_ratio": cost_ratio,
        "limit": float(limit),
        "over_limit": worst is not None and worst > limit,
    }


def changes_after_go_live(changes: pd.DataFrame, go_live: date | None, limit: int) -> pd.DataFrame:
    """Approved changes per calendar month from go-live on, against the moderation threshold of
    slide 11 (`over` marks the months above it). Empty before go-live."""
    columns = ["month", "changes", "limit", "over"]
    if go_live is None or changes.empty:
        return pd.DataFrame(columns=columns)
    decided = pd.to_datetime(changes["decided_at"], utc=True)
    mask = (changes["status"] == "approved") & (decided.dt.date >= go_live)
    months = decided[mask].dt.tz_localize(None).dt.to_period("M")
    if months.empty:
        return pd.DataFrame(columns=columns)
    counts = months.value_counts().sort_index()
    full = pd.period_range(counts.index.min(), counts.index.max(), freq="M")
    counts = counts.reindex(full, fill_value=0)
    df = pd.DataFrame({"month": counts.index.to_timestamp(), "changes": counts.to_numpy()})
    df["limit"] = limit
    df["over"] = df["changes"] > limit
    return df


def requirement_coverage(requirements: pd.DataFrame) -> dict[str, Any]:
    """Share tied to a business process (slide 6.4) and core share (slide 6.5)."""
    total = len(requirements)
    if not total:
        return {"total": 0, "with_process": 0, "process_share": None, "core": 0, "core_share": None}
    with_process = int((requirements["business_process"].fillna("").astype(str).str.strip() != "").sum())
    core = int((requirements["kind"] == "core").sum())
    return {
        "total": total,
        "with_process": with_process,
        "process_share": with_process / total,
        "core": core,
        "core_share": core / total,
    }


def by_process(requirements: pd.DataFrame) -> pd.DataFrame:
    process_ = requirements["business_process"].fillna("").astype(str).str.strip()
    return (
        requirements.assign(business_process=process_)
        .groupby(["business_process", "kind"], as_index=False)
        .size()
        .rename(columns={"size": "requirements"})
    )


def goal_progress(goals: pd.DataFrame, measurements: pd.DataFrame) -> pd.DataFrame:
    """Per goal: the latest measured value and progress from baseline toward target, honouring the
    direction (a 'decrease' goal progresses when the value falls). 1.0 = target reached."""
    latest = measurements.sort_values("measured_on").groupby("goal_id").tail(1).set_index("goal_id")
    df = goals.copy()
    df["latest_value"] = df["id"].map(latest["value"])
    df["measured_on"] = df["id"].map(latest["measured_on"])
    sign = df["direction"].map({"increase": 1.0, "decrease": -1.0})
    span = (df["target_value"] - df["baseline_value"]).abs()
    gained = (df["latest_value"] - df["baseline_value"]) * sign
    df["progress"] = (gained / span.where(span != 0)).astype(float)
    df["achieved"] = df["progress"] >= 1
    return df


def goal_history(goals: pd.DataFrame, measurements: pd.DataFrame) -> pd.DataFrame:
    """Every measurement as progress toward its goal's target (for small multiples)."""
    df = measurements.merge(
        goals[["id", "name", "baseline_value", "target_value", "direction", "unit"]],
        left_on="goal_id",
        right_on="id",
        suffixes=("", "_goal"),
    )
    sign = df["direction"].map({"increase": 1.0, "decrease": -1.0})
    span = (df["target_value"] - df["baseline_value"]).abs()
    df["progress"] = ((df["value"] - df["baseline_value"]) * sign / span.where(span != 0)).astype(float)
    return df[["goal_id", "name", "measured_on", "value", "unit", "target_value", "progress"]]


def risk_scores(risks: pd.DataFrame) -> pd.DataFrame:
    """Score = probability × impact (1–25) and its level."""
    df = risks.copy()
    df["score"] = df["probability"].astype(int) * df["impact"].astype(int)
    df["level"] = pd.cut(df["score"], bins=[0, 4, 12, 25], labels=["low", "medium", "high"]).astype(str)
    return df


def similar_texts(text: str, candidates: pd.DataFrame, *, limit: int = 5, cutoff: float = 70) -> pd.DataFrame:
    """The candidates (kind, id, title) whose title reads most like `text`: rapidfuzz's token-set
    ratio after lower-casing and stripping punctuation, so word order and extra words matter less."""
    columns = ["kind", "id", "title", "score"]
    if not str(text or "").strip() or candidates.empty:
        return pd.DataFrame(columns=columns)
    hits = process.extract(
        str(text),
        candidates["title"].astype(str).tolist(),
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        score_cutoff=cutoff,
        limit=limit,
    )
    rows = [
        {**candidates.iloc[index][["kind", "id", "title"]].to_dict(), "score": round(score)}
        for _match, score, index in hits
    ]
    return pd.DataFrame(rows, columns=columns)


def gantt_frame(variance: pd.DataFrame, *, today: date, with_baseline: bool) -> pd.DataFrame:
    """Bars for the Gantt from `schedule_variance` output: planned, baseline (when compared) and
    actual (an unfinished phase runs to today)."""
    keep = ["name", "variance_days", "slipped"]
    planned = variance[keep].assign(
        series="planned", start=variance["planned_start"], end=variance["planned_end"]
    )
    frames = [planned]
    if with_baseline:
        frames.append(
            variance[keep].assign(
                series="baseline", start=variance["reference_start"], end=variance["reference_end"]
            )
        )
    started = variance[variance["actual_start"].notna()]
    if len(started):
        running_end = pd.to_datetime(started["actual_start"]).clip(lower=pd.Timestamp(today)).dt.date
        end = started["actual_end"].where(started["actual_end"].notna(), running_end)
        frames.append(started[keep].assign(series="actual", start=started["actual_start"], end=end))
    bars = pd.concat(frames, ignore_index=True)
    bars["start"] = pd.to_datetime(bars["start"])
    bars["end"] = pd.to_datetime(bars["end"]) + pd.Timedelta(days=1)  # an end date is inclusive
    return bars


def milestone_status(milestones: pd.DataFrame, *, today: date) -> pd.DataFrame:
    """Milestones with `late`: done after the due date, or not done and already overdue."""
    df = milestones.copy()
    due = pd.to_datetime(df["due_date"])
    done = pd.to_datetime(df["done_date"])
    df["late"] = (done > due) | (done.isna() & (due < pd.Timestamp(today)))
    df["state"] = "open"
    df.loc[done.notna(), "state"] = "done"
    df.loc[df["late"], "state"] = "late"
    df["due"] = due
    return df
