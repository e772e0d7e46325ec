"""One minimal write per write action, used by the permission-matrix test.

Each probe performs the action through its service and returns nothing; the matrix test runs
every probe as every role and checks: allowed → succeeds and audits; refused → raises
PermissionDenied and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from crm_impl.permissions import Actor
from crm_impl.services import projects, users

Probe = Callable[[Session, Actor], None]


def _user_manage(session: Session, actor: Actor) -> None:
    users.create_user(
        session=session, actor=actor, username="probe-user", password="long-enough-1", roles=["sales_rep"]
    )


def _project_manage(session: Session, actor: Actor) -> None:
    projects.create_project(session=session, actor=actor, name="Probe project")


def _team_manage(session: Session, actor: Actor) -> None:
    projects.create_person(session=session, actor=actor, full_name="Probe Person", side="client")


PROBES: dict[str, Probe] = {
    "user.manage": _user_manage,
    "project.manage": _project_manage,
    "team.manage": _team_manage,
}
