"""Training and meeting metrics (issue 10, docs/training.md): pure, vectorised pandas.

Inputs are the frames of `crm_impl.training.queries.load` (or hand-made ones with these columns):
- people: id, name, department, side, licensed_user, active, user_id (the linked user, <NA> if none)
- sessions: id, title, module, session_date, duration_minutes, trainer_id, status
- attendance: id, session_id, person_id, attended (True/False/<NA>: not recorded), score
- usage: user_id, day, actions — real use of the CRM per user and day (adoption's one rule:
  crm_impl.adoption.vocabulary.USE_ENTITIES)
- meetings: id, kind, meeting_date, management_present
- attendees: meeting_id, person_id

Definitions (one meaning everywhere):
- *trained*: attended at least one held session. *Trained before go-live*: such a session dated
  before the project's go-live date (every held session counts while go-live is still ahead).
- *coverage*: licensed, active people trained before go-live ÷ licensed, active people.
- *untrained*: licensed, active people who attended no held session at all (the PM's list).
- *use*: a write of the pipeline recorded by this app under the person's user account.
  *Active* in a window: at least one such write in it.
- *days to first use*: from the person's first attended session to the first day with use on
  or after it (people with no use since are counted apart, not as zero).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crm_impl.training.vocabulary import PASS_SCORE


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.normalize()


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def _held_attended(sessions: pd.DataFrame, attendance: pd.DataFrame) -> pd.DataFrame:
    """Attendance rows of people who attended a held session, with the session's date."""
    held = sessions.loc[sessions["status"] == "held", ["id", "session_date", "module"]]
    went = attendance.loc[attendance["attended"].fillna(False).astype(bool)]
    rows = went.merge(held.rename(columns={"id": "session_id"}), on="session_id", how="inner")
    return rows.assign(session_date=_day(rows["session_date"]))


def licensed(people: pd.DataFrame) -> pd.DataFrame:
    """The licensed CRM users still active: the people coverage is measured over."""
    return people.loc[people["licensed_user"].astype(bool) & people["active"].astype(bool)]


def training_status(
    people: pd.DataFrame, sessions: pd.DataFrame, attendance: pd.DataFrame, go_live: date | None
) -> pd.DataFrame:
    """Per licensed person: first_trained (date of the first attended held session or NaT),
    sessions_attended, mean_score, trained, trained_before_go_live."""
    rows = _held_attended(sessions, attendance)
    per = rows.groupby("person_id").agg(
        first_trained=("session_date", "min"),
        sessions_attended=("session_id", "nunique"),
        mean_score=("score", "mean"),
    )
    out = licensed(people).merge(per, left_on="id", right_index=True, how="left")
    out["sessions_attended"] = out["sessions_attended"].fillna(0).astype(int)
    out["first_trained"] = pd.to_datetime(out["first_trained"])
    out["trained"] = out["first_trained"].notna()
    if go_live is None:
        out["trained_before_go_live"] = out["trained"]
    else:
        out["trained_before_go_live"] = out["first_trained"] < pd.Timestamp(go_live)
    return out.reset_index(drop=True)


def coverage(status: pd.DataFrame) -> pd.DataFrame:
    """Per department: licensed, trained (before go-live), share; departments by name, the blank
    department shown as ""."""
    frame = status.assign(department=status["department"].fillna(""))
    grouped = frame.groupby("department", sort=True).agg(
        licensed=("id", "size"), trained=("trained_before_go_live", "sum")
    )
    grouped["trained"] = grouped["trained"].astype(int)
    grouped["share"] = grouped["trained"] / grouped["licensed"]
    return grouped.reset_index()


def coverage_total(status: pd.DataFrame) -> dict[str, Any]:
    n, trained = len(status), int(status["trained_before_go_live"].sum()) if len(status) else 0
    return {"licensed": n, "trained": trained, "share": _share(trained, n)}


def untrained(status: pd.DataFrame) -> pd.DataFrame:
    """Licensed people who attended no held session yet, by department and name."""
    return (
        status.loc[~status["trained"], ["id", "name", "department", "user_id"]]
        .sort_values(["department", "name"])
        .reset_index(drop=True)
    )


def invited_pending(
    untrained_people: pd.DataFrame, sessions: pd.DataFrame, attendance: pd.DataFrame
) -> pd.DataFrame:
    """`untrained_people` plus next_session: the date of the next planned session each is invited
    to (NaT: none — who still needs an invitation)."""
    planned = sessions.loc[sessions["status"] == "planned", ["id", "session_date"]]
    rows = attendance.merge(planned.rename(columns={"id": "session_id"}), on="session_id")
    nxt = rows.groupby("person_id", as_index=False)["session_date"].min()
    nxt = nxt.rename(columns={"person_id": "id", "session_date": "next_session"})
    out = untrained_people.merge(nxt, on="id", how="left")
    out["next_session"] = pd.to_datetime(out["next_session"])
    return out


def scores(sessions: pd.DataFrame, attendance: pd.DataFrame, people: pd.DataFrame) -> dict[str, Any]:
    """Average assessment score overall, the share at or above PASS_SCORE, per module and per
    department (scored attendances of held sessions)."""
    rows = _held_attended(sessions, attendance)
    rows = rows.loc[rows["score"].notna()].assign(score=lambda d: d["score"].astype(float))
    rows = rows.merge(people[["id", "department"]].rename(columns={"id": "person_id"}), on="person_id")

    def by(column: str) -> pd.DataFrame:
        grouped = rows.groupby(column, sort=True)["score"].agg(["mean", "size"])
        return grouped.rename(columns={"size": "scored"}).reset_index()

    return {
        "mean": float(rows["score"].mean()) if len(rows) else None,
        "scored": len(rows),
        "pass_share": _share(int((rows["score"] >= PASS_SCORE).sum()), len(rows)),
        "by_module": by("module"),
        "by_department": by("department"),
    }


def held_vs_planned(sessions: pd.DataFrame, today: date) -> dict[str, int]:
    """Sessions per status, and planned ones whose date has passed without being marked held."""
    status = sessions["status"]
    overdue = (status == "planned") & (_day(sessions["session_date"]) < pd.Timestamp(today))
    return {
        "sessions": len(sessions),
        "held": int((status == "held").sum()),
        "planned": int((status == "planned").sum()),
        "cancelled": int((status == "cancelled").sum()),
        "overdue": int(overdue.sum()),
    }


def sessions_per_month(sessions: pd.DataFrame) -> pd.DataFrame:
    """month (first day), status, count — held and planned sessions by month of their date."""
    kept = sessions.loc[sessions["status"].isin(("held", "planned"))]
    months = _day(kept["session_date"]).dt.to_period("M").dt.to_timestamp()
    counts = kept.assign(month=months).groupby(["month", "status"]).size().rename("count").reset_index()
    return counts.sort_values(["month", "status"]).reset_index(drop=True)


# ---- effect: use of the CRM by trained and untrained users -------------------------------------


def _recent_actions(status: pd.DataFrame, usage: pd.DataFrame, today: date, window_days: int) -> pd.DataFrame:
    """Licensed users with a user account: department, trained, and their actions in the last
    `window_days` (today included); plus the window's first day in `attrs["since"]`."""
    users = status.loc[status["user_id"].notna(), ["department", "user_id", "trained"]]
    start = pd.Timestamp(today) - pd.Timedelta(days=window_days - 1)
    recent = usage.loc[(_day(usage["day"]) >= start) & (_day(usage["day"]) <= pd.Timestamp(today))]
    actions = recent.groupby("user_id")["actions"].sum()
    out = users.assign(
        trained=users["trained"].astype(bool),
        actions=users["user_id"].map(actions).fillna(0).astype(int),
    )
    out.attrs["since"] = start.date()
    return out


def _group(actions: pd.Series) -> dict[str, Any]:
    n, active = len(actions), int((actions > 0).sum())
    return {
        "users": n,
        "active": active,
        "active_share": _share(active, n),
        "actions_per_user": float(actions.mean()) if n else None,
    }


def effect(status: pd.DataFrame, usage: pd.DataFrame, today: date, window_days: int = 30) -> dict[str, Any]:
    """Use in the last `window_days` (today included) by licensed users with a user account,
    trained vs untrained: users, active users, active share, mean actions per user."""
    users = _recent_actions(status, usage, today, window_days)
    return {
        "window_days": window_days,
        "since": users.attrs["since"],
        "trained": _group(users.loc[users["trained"], "actions"]),
        "untrained": _group(users.loc[~users["trained"], "actions"]),
    }


def effect_by_department(
    status: pd.DataFrame, usage: pd.DataFrame, today: date, window_days: int = 30
) -> pd.DataFrame:
    """`effect` within each department: roles use the CRM very differently (a sales rep writes
    every day, management mostly reads), so trained vs untrained over everyone can point the
    wrong way when one group holds more of the heavy users; the comparison within one
    department holds the kind of work fixed. One row per department: users, active, active_share
    and actions_per_user for `trained_*` and `untrained_*` (None where the group is empty)."""
    users = _recent_actions(status, usage, today, window_days)
    rows = []
    for department, group in users.groupby("department", sort=True):
        row: dict[str, Any] = {"department": department}
        for key, mask in (("trained", group["trained"]), ("untrained", ~group["trained"])):
            row |= {f"{key}_{k}": v for k, v in _group(group.loc[mask, "actions"]).items()}
        rows.append(row)
    columns = ["department"] + [
        f"{g}_{k}"
        for g in ("trained", "untrained")
        for k in ("users", "active", "active_share", "actions_per_user")
    ]
    return pd.DataFrame(rows, columns=columns)


def days_to_first_use(status: pd.DataFrame, usage: pd.DataFrame) -> pd.DataFrame:
    """Per trained user: first_trained, first_use (first day with use on or after it, NaT if
    none) and days between them."""
    trained = status.loc[
        status["trained"] & status["user_id"].notna(),
        ["id", "name", "department", "user_id", "first_trained"],
    ]
    used = usage.loc[usage["actions"] > 0, ["user_id", "day"]].assign(day=lambda d: _day(d["day"]))
    pairs = trained.merge(used, on="user_id", how="left")
    after = pairs.loc[pairs["day"] >= pairs["first_trained"]]
    first = after.groupby("id", as_index=False)["day"].min().rename(columns={"day": "first_use"})
    out = trained.merge(first, on="id", how="left")
    out["first_use"] = pd.to_datetime(out["first_use"])
    out["days"] = (out["first_use"] - out["first_trained"]).dt.days.astype("Float64")
    return out.sort_values(["department", "name"]).reset_index(drop=True)


def first_use_summary(first_use: pd.DataFrame) -> dict[str, Any]:
    days = first_use["days"].dropna().astype(float)
    return {
        "trained_users": len(first_use),
        "used_since": len(days),
        "not_used_since": int(first_use["days"].isna().sum()),
        "median_days": float(np.median(days)) if len(days) else None,
        "mean_days": float(days.mean()) if len(days) else None,
    }


def weekly_use(status: pd.DataFrame, usage: pd.DataFrame) -> pd.DataFrame:
    """week (Monday), group (trained/untrained as of today), actions_per_user — the use of each
    group per week, divided by the group's number of users with an account."""
    users = status.loc[status["user_id"].notna(), ["user_id", "trained"]]
    sizes = users.groupby("trained").size()
    rows = usage.merge(users, on="user_id", how="inner")
    if rows.empty:
        return pd.DataFrame(columns=["week", "group", "actions_per_user"])
    day = _day(rows["day"])
    rows = rows.assign(week=day - pd.to_timedelta(day.dt.weekday, unit="D"))
    weekly = rows.groupby(["week", "trained"])["actions"].sum().reset_index()
    weekly["actions_per_user"] = weekly["actions"] / weekly["trained"].map(sizes)
    weekly["group"] = np.where(weekly["trained"], "trained", "untrained")
    return weekly[["week", "group", "actions_per_user"]].sort_values(["week", "group"]).reset_index(drop=True)


# ---- meetings ------------------------------------------------------------------------------------


def steering_per_month(meetings: pd.DataFrame, today: date) -> pd.DataFrame:
    """Held steering-committee meetings per month: month, meetings, with_management, share
    (with management ÷ meetings). Months without one between the first and the current month are
    listed with zero (a gap is a finding)."""
    held = meetings.loc[
        (meetings["kind"] == "steering") & (_day(meetings["meeting_date"]) <= pd.Timestamp(today))
    ]
    if held.empty:
        return pd.DataFrame(columns=["month", "meetings", "with_management", "share"])
    month = _day(held["meeting_date"]).dt.to_period("M")
    grouped = (
        held.assign(month=month)
        .groupby("month")
        .agg(meetings=("id", "size"), with_management=("management_present", "sum"))
    )
    span = pd.period_range(grouped.index.min(), pd.Timestamp(today).to_period("M"), freq="M")
    grouped = grouped.reindex(span, fill_value=0)
    grouped["with_management"] = grouped["with_management"].astype(int)
    grouped["share"] = grouped["with_management"] / grouped["meetings"].replace(0, np.nan)
    grouped.index = grouped.index.to_timestamp()
    return grouped.rename_axis("month").reset_index()


def steering_summary(meetings: pd.DataFrame, today: date) -> dict[str, Any]:
    held = meetings.loc[
        (meetings["kind"] == "steering") & (_day(meetings["meeting_date"]) <= pd.Timestamp(today))
    ]
    with_management = int(held["management_present"].astype(bool).sum())
    return {
        "held": len(held),
        "with_management": with_management,
        "share": _share(with_management, len(held)),
    }


def benefit_demos(meetings: pd.DataFrame, go_live: date | None, today: date) -> dict[str, Any]:
    """Benefit demonstrations: held after go-live (on or after the go-live date, up to today),
    held before it, and planned (dated after today)."""
    demos = meetings.loc[meetings["kind"] == "benefit_demo"]
    day = _day(demos["meeting_date"])
    now = pd.Timestamp(today)
    held = day <= now
    after = held & (day >= pd.Timestamp(go_live)) if go_live is not None else held & False
    return {
        "held_after_go_live": int(after.sum()),
        "held_before_go_live": int((held & ~after).sum()),
        "planned": int((~held).sum()),
        "go_live_date": go_live,
    }


def workshop_involvement(
    meetings: pd.DataFrame, attendees: pd.DataFrame, people: pd.DataFrame, today: date
) -> pd.DataFrame:
    """Per client-side department (active people): people, involved (distinct people who attended
    a held workshop with employees), share."""
    client = people.loc[(people["side"] == "client") & people["active"].astype(bool)]
    held = meetings.loc[
        (meetings["kind"] == "workshop") & (_day(meetings["meeting_date"]) <= pd.Timestamp(today)), "id"
    ]
    went = set(attendees.loc[attendees["meeting_id"].isin(held), "person_id"])
    frame = client.assign(department=client["department"].fillna(""), involved=client["id"].isin(went))
    grouped = frame.groupby("department", sort=True).agg(people=("id", "size"), involved=("involved", "sum"))
    grouped["involved"] = grouped["involved"].astype(int)
    grouped["share"] = grouped["involved"] / grouped["people"]
    return grouped.reset_index()


def meetings_per_month(meetings: pd.DataFrame) -> pd.DataFrame:
    """month, kind, count: every meeting by the month of its date."""
    month = _day(meetings["meeting_date"]).dt.to_period("M").dt.to_timestamp()
    counts = meetings.assign(month=month).groupby(["month", "kind"]).size().rename("count").reset_index()
    return counts.sort_values(["month", "kind"]).reset_index(drop=True)
