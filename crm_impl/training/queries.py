"""The read side of training and meetings: typed frames for the metrics (`load`), read models for
the pages, and `report` (every figure of docs/training.md, for `crm-impl report training` and the
pages). Nothing here writes.

Use of the CRM is the adoption domain's: `crm_impl.adoption.queries.usage.app_use_by_user`, one
SQL aggregate of the audit entries that count as use (adoption's one rule) per user and day — every
write of the app leaves exactly one, so a stage change or an activity is counted once, by whoever
made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, func, select
from sqlmodel import Session

from crm_impl.adoption.queries import usage as adoption_usage
from crm_impl.core.models import Person, Project, UserAccount
from crm_impl.training import metrics
from crm_impl.training.models import Attendance, Meeting, MeetingAttendee, TrainingSession

PEOPLE_COLUMNS = ["id", "name", "department", "side", "licensed_user", "active", "user_id"]
SESSION_COLUMNS = [
    "id",
    "version",
    "title",
    "module",
    "session_date",
    "duration_minutes",
    "trainer_id",
    "audience",
    "online",
    "venue",
    "status",
    "notes",
]
ATTENDANCE_COLUMNS = ["id", "version", "session_id", "person_id", "attended", "score"]
MEETING_COLUMNS = [
    "id",
    "version",
    "kind",
    "title",
    "meeting_date",
    "organiser_id",
    "management_present",
    "decisions",
    "notes",
    "benefits_shown",
]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class TrainingFrames:
    go_live: date | None
    people: pd.DataFrame
    sessions: pd.DataFrame
    attendance: pd.DataFrame
    usage: pd.DataFrame
    meetings: pd.DataFrame
    attendees: pd.DataFrame


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.connection().execute(query).all(), columns=columns)


def people(session: Session) -> pd.DataFrame:
    """Every person with the id of their (lowest-numbered active) user account."""
    p, u = _table(Person), _table(UserAccount)
    linked = (
        select(u.c.person_id, func.min(u.c.id).label("user_id"))
        .where(u.c.person_id.is_not(None), u.c.is_active.is_(True))
        .group_by(u.c.person_id)
        .subquery()
    )
    query = (
        select(
            p.c.id, p.c.full_name, p.c.department, p.c.side, p.c.licensed_user, p.c.active, linked.c.user_id
        )
        .select_from(p.outerjoin(linked, linked.c.person_id == p.c.id))
        .order_by(p.c.id)
    )
    df = _frame(session, query, PEOPLE_COLUMNS)
    df["user_id"] = df["user_id"].astype("Int64")
    df["licensed_user"] = df["licensed_user"].astype(bool)
    df["active"] = df["active"].astype(bool)
    return df


def sessions(session: Session, project_id: int) -> pd.DataFrame:
    s = _table(TrainingSession)
    query = select(*(s.c[c] for c in SESSION_COLUMNS)).where(s.c.project_id == project_id)
    df = _frame(session, query.order_by(s.c.session_date, s.c.id), SESSION_COLUMNS)
    df["session_date"] = pd.to_datetime(df["session_date"])
    df["trainer_id"] = df["trainer_id"].astype("Int64")
    return df


def attendance(session: Session, project_id: int) -> pd.DataFrame:
    a, s = _table(Attendance), _table(TrainingSession)
    query = (
        select(*(a.c[c] for c in ATTENDANCE_COLUMNS))
        .select_from(a.join(s, s.c.id == a.c.session_id))
        .where(s.c.project_id == project_id)
        .order_by(a.c.id)
    )
    df = _frame(session, query, ATTENDANCE_COLUMNS)
    df["attended"] = df["attended"].astype("boolean")
    df["score"] = df["score"].astype("Int64")
    return df


def usage(session: Session, user_ids: list[int] | None = None) -> pd.DataFrame:
    """user_id, day, actions: in-app use of the CRM per user and UTC day (adoption's rule)."""
    return adoption_usage.app_use_by_user(session, user_ids)


def meetings(session: Session, project_id: int) -> pd.DataFrame:
    m = _table(Meeting)
    query = select(*(m.c[c] for c in MEETING_COLUMNS)).where(m.c.project_id == project_id)
    df = _frame(session, query.order_by(m.c.meeting_date, m.c.id), MEETING_COLUMNS)
    df["meeting_date"] = pd.to_datetime(df["meeting_date"])
    df["management_present"] = df["management_present"].astype(bool)
    df["organiser_id"] = df["organiser_id"].astype("Int64")
    return df


def attendees(session: Session, project_id: int) -> pd.DataFrame:
    a, m = _table(MeetingAttendee), _table(Meeting)
    query = (
        select(a.c.meeting_id, a.c.person_id)
        .select_from(a.join(m, m.c.id == a.c.meeting_id))
        .where(m.c.project_id == project_id)
    )
    return _frame(session, query, ["meeting_id", "person_id"])


def load(session: Session, project_id: int) -> TrainingFrames:
    project = session.get(Project, project_id)
    everyone = people(session)
    ids = [int(i) for i in everyone["user_id"].dropna()]
    return TrainingFrames(
        go_live=project.go_live_date if project else None,
        people=everyone,
        sessions=sessions(session, project_id),
        attendance=attendance(session, project_id),
        usage=usage(session, ids),
        meetings=meetings(session, project_id),
        attendees=attendees(session, project_id),
    )


# ---- the report ------------------------------------------------------------------------------


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows: timestamps as dates, missing values as None."""
    out = df.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.date
    return cast(list[dict[str, Any]], out.astype(object).where(out.notna(), None).to_dict("records"))


def report_from_frames(frames: TrainingFrames, today: date, window_days: int = 30) -> dict[str, Any]:
    status = metrics.training_status(frames.people, frames.sessions, frames.attendance, frames.go_live)
    first_use = metrics.days_to_first_use(status, frames.usage)
    scores = metrics.scores(frames.sessions, frames.attendance, frames.people)
    return {
        "go_live_date": frames.go_live,
        "today": today,
        "sessions": metrics.held_vs_planned(frames.sessions, today),
        "coverage": metrics.coverage_total(status),
        "coverage_by_department": _records(metrics.coverage(status)),
        "untrained": _records(metrics.untrained(status)[["id", "name", "department"]]),
        "scores": {
            "mean": scores["mean"],
            "scored": scores["scored"],
            "pass_share": scores["pass_share"],
            "by_module": _records(scores["by_module"]),
            "by_department": _records(scores["by_department"]),
        },
        "effect": metrics.effect(status, frames.usage, today, window_days),
        "effect_by_department": _records(
            metrics.effect_by_department(status, frames.usage, today, window_days)
        ),
        "first_use": metrics.first_use_summary(first_use),
        "meetings": {
            "total": len(frames.meetings),
            "steering": metrics.steering_summary(frames.meetings, today),
            "steering_per_month": _records(metrics.steering_per_month(frames.meetings, today)),
            "benefit_demos": metrics.benefit_demos(frames.meetings, frames.go_live, today),
            "workshop_involvement": _records(
                metrics.workshop_involvement(frames.meetings, frames.attendees, frames.people, today)
            ),
        },
    }


def report(session: Session, project_id: int, *, today: date | None = None) -> dict[str, Any]:
    """Every training and meeting figure of the project as JSON-ready data."""
    day = today or date.today()
    return {"project_id": project_id, **report_from_frames(load(session, project_id), day)}


# ---- read models for the pages --------------------------------------------------------------


def my_record(session: Session, person_id: int) -> pd.DataFrame:
    """One person's training record across projects: session, module, date, status, attended,
    score — every session they were invited to, newest first."""
    a, s = _table(Attendance), _table(TrainingSession)
    columns = ["session_id", "title", "module", "session_date", "status", "attended", "score"]
    query = (
        select(s.c.id, s.c.title, s.c.module, s.c.session_date, s.c.status, a.c.attended, a.c.score)
        .select_from(a.join(s, s.c.id == a.c.session_id))
        .where(a.c.person_id == person_id)
        .order_by(s.c.session_date.desc(), s.c.id.desc())
    )
    df = _frame(session, query, columns)
    df["session_date"] = pd.to_datetime(df["session_date"])
    df["attended"] = df["attended"].astype("boolean")
    df["score"] = df["score"].astype("Int64")
    return df
