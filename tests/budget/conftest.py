"""The `budget_world` fixture: one project with two phases, a PM, management, a consultant and
an administrator (on both databases), and a second project for cross-project checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session

from crm_impl.core.auth import actor_for
from crm_impl.core.models import ProjectCreate, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.rollout.models import Phase
from crm_impl.rollout.services import projects

ROLES = {
    "pm": "pm_vendor",
    "pm_client": "pm_client",
    "boss": "management",
    "consultant": "consultant",
    "tester": "tester",
    "rep": "sales_rep",
    "admin": "admin",
}


@dataclass
class BudgetWorld:
    session: Session
    project_id: int
    other_project_id: int
    phases: dict[str, int]
    other_phase_id: int
    actors: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]


def _phase(session: Session, project_id: int, kind: str, start: date, end: date, pct: int) -> int:
    phase = Phase(
        project_id=project_id,
        kind=kind,
        name=kind.title(),
        planned_start=start,
        planned_end=end,
        percent_complete=pct,
    )
    session.add(phase)
    session.flush()
    return int(phase.id or 0)


@pytest.fixture
def budget_world(session: Session) -> BudgetWorld:
    pid = int(
        projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Budget")).id or 0
    )
    other = int(
        projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Other")).id or 0
    )
    phases = {
        "analysis": _phase(session, pid, "analysis", date(2026, 1, 1), date(2026, 1, 31), 100),
        "programming": _phase(session, pid, "programming", date(2026, 2, 1), date(2026, 3, 31), 40),
    }
    other_phase = _phase(session, other, "analysis", date(2026, 1, 1), date(2026, 1, 31), 0)
    actors = {}
    for name, role in ROLES.items():
        user = UserAccount(username=name, roles=[role], display_name=name.title())
        session.add(user)
        session.flush()
        actors[name] = actor_for(user)
    session.commit()
    return BudgetWorld(session, pid, other, phases, other_phase, actors)
