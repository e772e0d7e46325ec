"""The one place that says which app role may do what. Services enforce it; navigation mirrors it."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm_impl.core.errors import PermissionDenied

APP_ROLES = (
    "admin",
    "management",
    "pm_vendor",
    "pm_client",
    "analyst",
    "consultant",
    "tester",
    "programmer",
    "trainer",
    "sales_manager",
    "sales_rep",
)

# Actions. Read actions gate pages; write actions gate service calls.
READ_ACTIONS = (
    "overview.read",
    "pipeline.read",
    "plan.read",
    "team.read",
    "audit.read",
    "user.read",
)
WRITE_ACTIONS = (
    "user.manage",  # create, roles, reset password, unlock, deactivate
    "project.manage",  # create/edit rollout projects
    "team.manage",  # people and project role assignments
    "stage.configure",  # rename/reorder/add pipeline stages, probabilities, costs, rot
    "deal.write",  # create and work own deals, accounts, contacts, activities
    "deal.write_any",  # work anybody's deals (managers)
    "import.run",  # bulk imports (accounts, deals, settlements…)
    "plan.write",  # phases, milestones, baselines, goals, requirements, risks
    "idea.submit",
    "idea.triage",
    "change.request",
    "change.approve",
)
ACTIONS = READ_ACTIONS + WRITE_ACTIONS

_EVERYONE_READS = {"overview.read", "pipeline.read", "plan.read", "team.read"}
_PROJECT_PEOPLE = _EVERYONE_READS | {"idea.submit", "change.request"}

MATRIX: dict[str, frozenset[str]] = {
    # The administrator runs the system, not the project: the two decisions the lecture gives to
    # one role only (slide 8: the client PM filters ideas; slide 9: scope changes need management)
    # stay with those roles.
    "admin": frozenset(set(ACTIONS) - {"idea.triage", "change.approve"}),
    "management": frozenset(
        _PROJECT_PEOPLE | {"audit.read", "change.approve", "deal.write", "deal.write_any"}
    ),
    "pm_vendor": frozenset(_PROJECT_PEOPLE | {"plan.write", "team.manage", "project.manage"}),
    "pm_client": frozenset(_PROJECT_PEOPLE | {"plan.write", "team.manage", "project.manage", "idea.triage"}),
    "analyst": frozenset(_PROJECT_PEOPLE | {"plan.write"}),
    "consultant": frozenset(_PROJECT_PEOPLE),
    "tester": frozenset(_EVERYONE_READS),
    "programmer": frozenset(_EVERYONE_READS),
    "trainer": frozenset(_PROJECT_PEOPLE),
    "sales_manager": frozenset(
        _EVERYONE_READS | {"deal.write", "deal.write_any", "stage.configure", "import.run", "idea.submit"}
    ),
    "sales_rep": frozenset({"overview.read", "pipeline.read", "plan.read", "deal.write", "idea.submit"}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the operator at the command line."""

    id: int | None
    username: str
    roles: tuple[str, ...] = field(default_factory=tuple)

    def can(self, action: str) -> bool:
        return can(self.roles, action)


SYSTEM = Actor(id=None, username="system", roles=("admin",))


def can(roles: tuple[str, ...] | list[str], action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return any(action in MATRIX.get(role, frozenset()) for role in roles)


def require(actor: Actor, action: str) -> None:
    if not actor.can(action):
        raise PermissionDenied("error.permission", action=action)
