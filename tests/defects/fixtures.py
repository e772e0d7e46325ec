"""A small defects world to reuse in tests: one project, three dated releases, and the people of
slide 9 with user accounts linked to them (side from their Person), plus `defect_in(status)`
that writes a defect already in a status with a consistent history (test setup, not under
test). `tests/defects/conftest.py` exposes it as the `world` fixture (on both databases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from crm_impl.core.auth import actor_for
from crm_impl.core.models import Person, ProjectCreate, UserAccount, utcnow
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.defects.models import Defect, DefectChange, Release
from crm_impl.rollout.models import Requirement
from crm_impl.rollout.services import projects

# name -> (app role, side of the person; None: no person)
PEOPLE: dict[str, tuple[str, str | None]] = {
    "pm": ("pm_vendor", "vendor"),
    "pm_client": ("pm_client", "client"),
    "tester": ("tester", "vendor"),
    "tester_client": ("tester", "client"),
    "assignee": ("programmer", "vendor"),
    "programmer": ("programmer", "vendor"),
    "admin": ("admin", None),
    "management": ("management", "client"),
}
RELEASES = {"1.0": date(2026, 1, 15), "1.1": date(2026, 2, 15), "2.0": date(2026, 4, 1)}
PROCESSES = ("Invoicing", "Order to cash")
_FIXED_ON = ("fixed", "in_retest", "verified", "closed")
_ASSIGNED_ON = ("assigned", "in_progress", *_FIXED_ON, "reopened")


@dataclass
class World:
    session: Session
    project_id: int
    actors: dict[str, Actor]
    releases: dict[str, int]
    other_project_id: int
    other_release_id: int
    counter: list[int] = field(default_factory=lambda: [0])

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def defect_in(self, status: str, **fields: Any) -> Defect:
        """A defect already in `status`, with the fields and history that status implies: an
        assignee (the `assignee` programmer) from assigned on, fixed in 1.0 from fixed on, a
        fixed and a verified entry for verified/closed, the sign-off of a closed real-data
        defect, a resolution for rejected/duplicate/won't fix, closed_at once ended."""
        s = self.session
        self.counter[0] += 1
        now = utcnow()
        values: dict[str, Any] = {
            "project_id": self.project_id,
            "title": f"Defect {self.counter[0]} in {status}",
            "status": status,
            "reporter_id": self.actors["tester"].id,
            "created_at": now - timedelta(days=10),
            "updated_at": now - timedelta(days=1),
        }
        if status in _ASSIGNED_ON:
            values["assignee_id"] = self.actors["assignee"].id
        if status in _FIXED_ON:
            values["fixed_in_release_id"] = self.releases["1.0"]
        if status in ("closed", "rejected", "duplicate", "wont_fix"):
            values["closed_at"] = now - timedelta(days=1)
        if status in ("rejected", "duplicate", "wont_fix"):
            values["resolution"] = "decided"
        values |= fields
        if status == "closed" and values.get("environment") == "real_data":
            values.setdefault("client_signoff_by_id", self.actors["tester_client"].id)
            values.setdefault("client_signoff_at", now - timedelta(days=2))
        defect = Defect(**values)
        s.add(defect)
        s.flush()
        history = ["new"]
        if status in _FIXED_ON or status == "reopened":
            history += ["confirmed", "assigned", "in_progress", "fixed"]
        if status in ("verified", "closed"):
            history += ["in_retest", "verified"]
        if status not in history:
            history.append(status)
        for i, to in enumerate(history):
            s.add(
                DefectChange(
                    defect_id=int(defect.id or 0),
                    at=now - timedelta(days=10 - i / 2),
                    from_status=history[i - 1] if i else None,
                    to_status=to,
                    release_id=self.releases["1.0"] if to in ("fixed", "verified") else None,
                )
            )
        s.flush()
        return defect


def _user(session: Session, name: str, role: str, side: str | None) -> Actor:
    person_id = None
    if side is not None:
        person = Person(full_name=f"{name.replace('_', ' ').title()} Person", side=side)
        session.add(person)
        session.flush()
        person_id = person.id
    user = UserAccount(
        username=f"d-{name.replace('_', '-')}", roles=[role], display_name=name, person_id=person_id
    )
    session.add(user)
    session.flush()
    return actor_for(user)


def make_world(session: Session) -> World:
    project = projects.create_project(
        session=session, actor=SYSTEM, data=ProjectCreate(name="Defects rollout")
    )
    other = projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Another rollout"))
    releases = {}
    for name, planned in RELEASES.items():
        release = Release(project_id=int(project.id or 0), name=name, planned_date=planned, status="in_test")
        session.add(release)
        session.flush()
        releases[name] = int(release.id or 0)
    foreign = Release(project_id=int(other.id or 0), name="9.9", planned_date=date(2026, 1, 1))
    session.add(foreign)
    for i, process in enumerate(PROCESSES):
        session.add(
            Requirement(project_id=int(project.id or 0), title=f"Requirement {i}", business_process=process)
        )
    session.flush()
    actors = {name: _user(session, name, role, side) for name, (role, side) in PEOPLE.items()}
    return World(
        session=session,
        project_id=int(project.id or 0),
        actors=actors,
        releases=releases,
        other_project_id=int(other.id or 0),
        other_release_id=int(foreign.id or 0),
    )
