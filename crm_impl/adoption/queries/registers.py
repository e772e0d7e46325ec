"""The read side of the adoption registers (issue 11): the ADKAR survey, the legacy tools and the
benefits as typed frames (`load`), the people of a project, and `report` — the registers' part of
`crm-impl report adoption --json`. Nothing here writes.

`report(session, project_id) -> dict` with the keys "adkar", "legacy_tools" and "benefits" is what
the adoption report merges in; the figures are those of docs/adoption.md (metrics.adkar,
metrics.registers).

Usage and training beside the readiness: the usage figures per department are the usage
metrics' (`crm_impl.adoption.metrics.usage.by_group`: MAU, adoption rate over the last 30 days),
training coverage per department the training domain's (`crm_impl.training.metrics.coverage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, or_, select
from sqlmodel import Session

from crm_impl.adoption.metrics import adkar as adkar_metrics
from crm_impl.adoption.metrics import registers as register_metrics
from crm_impl.adoption.metrics import usage as usage_metrics
from crm_impl.adoption.models import (
    AdkarResponse,
    AdkarRound,
    Benefit,
    BenefitMeasurement,
    LegacyTool,
    LegacyToolUser,
    MeetingBenefit,
)
from crm_impl.adoption.queries import usage as usage_queries
from crm_impl.core.models import Person
from crm_impl.rollout.models import RoleAssignment
from crm_impl.training import metrics as training_metrics
from crm_impl.training import queries as training_queries
from crm_impl.training.models import Meeting

ROUND_COLUMNS = ["id", "version", "title", "survey_date", "notes"]
RESPONSE_COLUMNS = [
    "id",
    "version",
    "round_id",
    "department",
    "person_id",
    "awareness",
    "desire",
    "knowledge",
    "ability",
    "reinforcement",
]
TOOL_COLUMNS = ["id", "version", "name", "kind", "notes", "retire_by", "retired_on"]
BENEFIT_COLUMNS = ["id", "version", "name", "unit", "direction", "baseline", "baseline_on", "notes"]
MEASUREMENT_COLUMNS = ["id", "version", "benefit_id", "measured_on", "value", "note"]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.connection().execute(query).all(), columns=columns)


def _dates(df: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        df[name] = pd.to_datetime(df[name])
    return df


@dataclass(frozen=True)
class RegisterFrames:
    people: pd.DataFrame  # id, name, department, email (the project's people)
    rounds: pd.DataFrame
    responses: pd.DataFrame
    tools: pd.DataFrame
    tool_users: pd.DataFrame  # tool_id, person_id
    benefits: pd.DataFrame
    measurements: pd.DataFrame
    meeting_benefits: pd.DataFrame  # meeting_id, benefit_id, meeting_date, title


def project_people(session: Session, project_id: int) -> pd.DataFrame:
    """The project's people: active people with a role in the project, and the active licensed
    CRM users (the people adoption and training coverage are measured over). id, name,
    department, email — by name."""
    p, r = _table(Person), _table(RoleAssignment)
    in_project = select(r.c.person_id).where(r.c.project_id == project_id)
    query = (
        select(p.c.id, p.c.full_name, p.c.department, p.c.email)
        .where(p.c.active.is_(True), or_(p.c.id.in_(in_project), p.c.licensed_user.is_(True)))
        .order_by(p.c.full_name, p.c.id)
    )
    df = _frame(session, query, ["id", "name", "department", "email"])
    df["department"] = df["department"].fillna("")
    df["email"] = df["email"].fillna("")
    return df


def rounds(session: Session, project_id: int) -> pd.DataFrame:
    t = _table(AdkarRound)
    query = select(*(t.c[c] for c in ROUND_COLUMNS)).where(t.c.project_id == project_id)
    df = _frame(session, query.order_by(t.c.survey_date, t.c.id), ROUND_COLUMNS)
    return _dates(df, "survey_date")


def responses(session: Session, project_id: int) -> pd.DataFrame:
    a, t = _table(AdkarResponse), _table(AdkarRound)
    query = (
        select(*(a.c[c] for c in RESPONSE_COLUMNS))
        .select_from(a.join(t, t.c.id == a.c.round_id))
        .where(t.c.project_id == project_id)
        .order_by(a.c.id)
    )
    df = _frame(session, query, RESPONSE_COLUMNS)
    df["person_id"] = df["person_id"].astype("Int64")
    return df


def tools(session: Session, project_id: int) -> pd.DataFrame:
    t = _table(LegacyTool)
    query = select(*(t.c[c] for c in TOOL_COLUMNS)).where(t.c.project_id == project_id)
    return _dates(_frame(session, query.order_by(t.c.name, t.c.id), TOOL_COLUMNS), "retire_by", "retired_on")


def tool_users(session: Session, project_id: int) -> pd.DataFrame:
    u, t = _table(LegacyToolUser), _table(LegacyTool)
    query = (
        select(u.c.tool_id, u.c.person_id)
        .select_from(u.join(t, t.c.id == u.c.tool_id))
        .where(t.c.project_id == project_id)
        .order_by(u.c.tool_id, u.c.person_id)
    )
    return _frame(session, query, ["tool_id", "person_id"])


def benefits(session: Session, project_id: int) -> pd.DataFrame:
    b = _table(Benefit)
    query = select(*(b.c[c] for c in BENEFIT_COLUMNS)).where(b.c.project_id == project_id)
    df = _frame(session, query.order_by(b.c.id), BENEFIT_COLUMNS)
    df["baseline"] = df["baseline"].astype(float)
    return _dates(df, "baseline_on")


def measurements(session: Session, project_id: int) -> pd.DataFrame:
    m, b = _table(BenefitMeasurement), _table(Benefit)
    query = (
        select(*(m.c[c] for c in MEASUREMENT_COLUMNS))
        .select_from(m.join(b, b.c.id == m.c.benefit_id))
        .where(b.c.project_id == project_id)
        .order_by(m.c.benefit_id, m.c.measured_on)
    )
    df = _frame(session, query, MEASUREMENT_COLUMNS)
    df["value"] = df["value"].astype(float)
    return _dates(df, "measured_on")


def meeting_benefits(session: Session, project_id: int) -> pd.DataFrame:
    """Which meeting showed which benefit: meeting_id, benefit_id, meeting_date, title."""
    link, m = _table(MeetingBenefit), _table(Meeting)
    query = (
        select(link.c.meeting_id, link.c.benefit_id, m.c.meeting_date, m.c.title)
        .select_from(link.join(m, m.c.id == link.c.meeting_id))
        .where(m.c.project_id == project_id)
        .order_by(m.c.meeting_date, link.c.meeting_id, link.c.benefit_id)
    )
    return _dates(
        _frame(session, query, ["meeting_id", "benefit_id", "meeting_date", "title"]), "meeting_date"
    )


def benefits_of_meeting(session: Session, meeting_id: int) -> list[int]:
    link = _table(MeetingBenefit)
    query = select(link.c.benefit_id).where(link.c.meeting_id == meeting_id).order_by(link.c.benefit_id)
    return [int(i) for i in session.connection().execute(query).scalars()]


def load(session: Session, project_id: int) -> RegisterFrames:
    return RegisterFrames(
        people=project_people(session, project_id),
        rounds=rounds(session, project_id),
        responses=responses(session, project_id),
        tools=tools(session, project_id),
        tool_users=tool_users(session, project_id),
        benefits=benefits(session, project_id),
        measurements=measurements(session, project_id),
        meeting_benefits=meeting_benefits(session, project_id),
    )


# ---- usage and training coverage per department (beside the readiness) ------------------------


def usage_by_department(session: Session, project_id: int, today: date) -> pd.DataFrame:
    """The usage metrics per department (licensed, mau, adoption_rate, …) over the last 30 days."""
    f = usage_queries.load(session, project_id)
    return usage_metrics.by_group(f.daily, f.people, today, "department")


def coverage_by_department(session: Session, project_id: int) -> pd.DataFrame:
    """The training domain's coverage per department (licensed, trained before go-live, share)."""
    f = training_queries.load(session, project_id)
    status = training_metrics.training_status(f.people, f.sessions, f.attendance, f.go_live)
    return training_metrics.coverage(status)


def readiness(session: Session, project_id: int, today: date) -> pd.DataFrame:
    """metrics.adkar.readiness_view over the project's data: the latest round per department with
    its barrier point, beside usage and training coverage."""
    return adkar_metrics.readiness_view(
        adkar_metrics.latest_by_department(rounds(session, project_id), responses(session, project_id)),
        usage_by_department(session, project_id, today),
        coverage_by_department(session, project_id),
    )


# ---- the report --------------------------------------------------------------------------------


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = df.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.date
    return cast(list[dict[str, Any]], out.astype(object).where(out.notna(), None).to_dict("records"))


def report(session: Session, project_id: int, *, today: date | None = None) -> dict[str, Any]:
    """The registers' figures as JSON-ready data: {"adkar", "legacy_tools", "benefits"}."""
    day = today or date.today()
    f = load(session, project_id)
    names = dict(zip(f.people["id"].astype(int), f.people["name"], strict=True))
    view = adkar_metrics.readiness_view(
        adkar_metrics.latest_by_department(f.rounds, f.responses),
        usage_by_department(session, project_id, day),
        coverage_by_department(session, project_id),
    )
    trend = adkar_metrics.trend(f.rounds, f.responses)
    tools_table = register_metrics.tool_table(f.tools, f.tool_users, day)
    overdue = register_metrics.overdue(tools_table)
    gains = register_metrics.benefit_table(f.benefits, f.measurements, f.meeting_benefits)
    return {
        "adkar": {
            "rounds": len(f.rounds),
            "responses": len(f.responses),
            "latest_round_date": f.rounds["survey_date"].max().date() if len(f.rounds) else None,
            "departments": _records(view),
            "barriers": adkar_metrics.barrier_counts(view),
            "trend": _records(trend),
        },
        "legacy_tools": {
            **register_metrics.tool_summary(tools_table),
            "overdue_tools": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "retire_by": r.retire_by.date(),
                    "days_overdue": int(r.days_overdue),
                    "users": [names.get(int(i), f"#{i}") for i in r.user_ids],
                }
                for r in overdue.itertuples()
            ],
            "by_kind": _records(register_metrics.tools_by_kind(tools_table)),
        },
        "benefits": {
            **register_metrics.benefit_summary(gains),
            "items": _records(
                gains[
                    [
                        "name",
                        "unit",
                        "direction",
                        "baseline",
                        "current",
                        "measured_on",
                        "gain",
                        "gain_share",
                        "measurements",
                        "meetings",
                    ]
                ]
            ),
        },
    }
