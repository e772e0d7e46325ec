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
    "defect.read",  # defects, releases, test runs, acceptance: the project's people
    "training.read",  # training sessions, coverage, effect, meetings (own record: everyone)
    "budget.read",  # budget lines, cost postings, earned value: the project's people
    "adoption.read",  # adoption: usage, ADKAR readiness, legacy tools, benefits (the project's people)
    "dq.read",  # data-quality scores, issues per record, trend (management, PMs, sales managers)
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
    "defect.report",  # file defects, edit their fields, confirm new ones (testers, PMs)
    "defect.triage",  # reject, duplicate, won't fix; bulk change (PMs)
    "defect.assign",  # assign to a programmer (only a PM)
    "defect.fix",  # in progress, fixed: only on defects assigned to oneself (programmers)
    "defect.verify",  # retest, verify (vendor-side tester), close, reopen (testers)
    "defect.signoff",  # sign off a real-data defect (the service checks the client side)
    "release.manage",  # releases and their status (ready for go-live passes the gate)
    "testrun.record",  # test runs and their counts (testers)
    "acceptance.record",  # acceptance on real data (the service checks the client side)
    "training.manage",  # training sessions, invitations, attendance and scores (trainers, PMs)
    "meeting.organise",  # record meetings one holds and edit one's own
    "meeting.manage",  # edit anybody's meeting (PMs, management)
    "budget.edit",  # budget lines, cost postings, their import, EV snapshots (PMs, management)
    "adoption.manage",  # ADKAR survey rounds, the legacy tools and benefits registers (PMs, management)
    "adoption.import",  # usage logs of other systems (the administrator, who runs the imports)
    "dq.manage",  # data-quality settings (required fields, N days…) and snapshots
    "dq.merge",  # merge two duplicate accounts/contacts, or dismiss a pair as "not a duplicate"
)
ACTIONS = READ_ACTIONS + WRITE_ACTIONS

_EVERYONE_READS = {"overview.read", "pipeline.read", "plan.read", "team.read"}
_PROJECT_PEOPLE = _EVERYONE_READS | {"idea.submit", "change.request", "defect.read", "budget.read"}
_TRAINING = {"training.read", "training.manage", "meeting.organise"}
_LEADS = _TRAINING | {"meeting.manage"}  # PMs and management: training and every meeting
_PM_DEFECTS = {"defect.read", "defect.report", "defect.triage", "defect.assign", "release.manage"}
_TESTER = {
    "defect.read",
    "defect.report",
    "defect.verify",
    "defect.signoff",
    "testrun.record",
    "acceptance.record",
}
# Slide 9 gives these to one kind of person only: a PM assigns, the assigned programmer fixes,
# testers retest, test and sign off; the administrator does none of them.
_NOT_ADMIN_DEFECTS = {
    "defect.assign",
    "defect.fix",
    "defect.verify",
    "defect.signoff",
    "testrun.record",
    "acceptance.record",
}

MATRIX: dict[str, frozenset[str]] = {
    # The administrator runs the system, not the project: the two decisions the lecture gives to
    # one role only (slide 8: the client PM filters ideas; slide 9: scope changes need management)
    # stay with those roles.
    "admin": frozenset(set(ACTIONS) - {"idea.triage", "change.approve"} - _NOT_ADMIN_DEFECTS),
    "management": frozenset(
        _PROJECT_PEOPLE | {"audit.read", "change.approve", "deal.write", "deal.write_any", "budget.edit"}
    ),
    "pm_vendor": frozenset(
        _PROJECT_PEOPLE | _PM_DEFECTS | {"plan.write", "team.manage", "project.manage", "budget.edit"}
    ),
    "pm_client": frozenset(
        _PROJECT_PEOPLE
        | _PM_DEFECTS
        | {"plan.write", "team.manage", "project.manage", "idea.triage", "budget.edit"}
    ),
    "analyst": frozenset(_PROJECT_PEOPLE | {"plan.write"}),
    "consultant": frozenset(_PROJECT_PEOPLE),
    "tester": frozenset(_EVERYONE_READS | _TESTER),
    "programmer": frozenset(_EVERYONE_READS | {"defect.read", "defect.fix"}),
    "trainer": frozenset(_PROJECT_PEOPLE),
    "sales_manager": frozenset(
        _EVERYONE_READS | {"deal.write", "deal.write_any", "stage.configure", "import.run", "idea.submit"}
    ),
    "sales_rep": frozenset({"overview.read", "pipeline.read", "plan.read", "deal.write", "idea.submit"}),
}
# Training and meetings (issue 10): trainers run the training; whoever holds a meeting records
# it and edits their own; PMs and management edit every meeting. Everyone sees their own
# training record (a page that needs only overview.read).
_TRAINING_GRANTS: dict[str, set[str]] = {
    "management": _LEADS,
    "pm_vendor": _LEADS,
    "pm_client": _LEADS,
    "analyst": {"training.read", "meeting.organise"},  # workshops with employees
    "consultant": {"training.read", "meeting.organise"},
    "trainer": _TRAINING,  # training, and motivation / practice sessions
    "sales_manager": {"training.read", "meeting.organise"},  # practice sessions with the reps
}
MATRIX.update({role: MATRIX[role] | grants for role, grants in _TRAINING_GRANTS.items()})
# Adoption (issue 11): whoever reads training reads adoption too; the PMs and management keep the
# ADKAR survey rounds and the legacy tools and benefits registers.
_ADOPTION_GRANTS: dict[str, set[str]] = {
    "management": {"adoption.read", "adoption.manage"},
    "pm_vendor": {"adoption.read", "adoption.manage"},
    "pm_client": {"adoption.read", "adoption.manage"},
    "analyst": {"adoption.read"},
    "consultant": {"adoption.read"},
    "trainer": {"adoption.read"},
    "sales_manager": {"adoption.read"},
}
MATRIX.update({role: MATRIX[role] | grants for role, grants in _ADOPTION_GRANTS.items()})
# Data quality (issue 11): those who answer for the data read the scores; PMs and sales managers
# also set the rules' settings and take snapshots.
_DQ_GRANTS: dict[str, set[str]] = {
    "management": {"dq.read"},
    "pm_vendor": {"dq.read", "dq.manage"},
    "pm_client": {"dq.read", "dq.manage"},
    "sales_manager": {"dq.read", "dq.manage"},
}
MATRIX.update({role: MATRIX[role] | grants for role, grants in _DQ_GRANTS.items()})
# Merging duplicates rewrites the customer records: those who own them (sales managers) and the
# client-side PM (the client's data, e.g. after the migration); not the vendor, not management.
_DQ_MERGE = ("sales_manager", "pm_client")
MATRIX.update({role: MATRIX[role] | {"dq.merge"} for role in _DQ_MERGE})


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
