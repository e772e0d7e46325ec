"""One minimal write per write action, and one read per read action a service enforces, used by
the permission-matrix test.

A probe is (setup, act): `setup(session, actor)` prepares what the action needs (as the system
administrator, not measured) and returns a context; `act(session, actor, ctx)` performs the
action through its service. The matrix test runs every probe as every role and compares with
the matrix written out in tests/core/test_permissions.py: allowed → succeeds (a write audits);
refused → PermissionDenied (and nothing written). `overview.read` and `team.read` gate pages
only (crm_impl/core/ui/nav.py), so they have no read probe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from crm_impl.adoption.models import LegacyToolCreate
from crm_impl.adoption.services import registers as adoption_registers
from crm_impl.adoption.services import usage as adoption_usage
from crm_impl.budget import queries as budget_queries
from crm_impl.budget import services as budget
from crm_impl.budget.models import BudgetLineCreate
from crm_impl.core import audit, users
from crm_impl.core.models import Person, PersonCreate, ProjectCreate, UserAccount, UserCreate
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.data_quality import queries as dq_queries
from crm_impl.data_quality import services as dq_services
from crm_impl.data_quality.services import merge as _dq_merge
from crm_impl.defects import services as defects
from crm_impl.defects.models import (
    AcceptanceCreate,
    Defect,
    DefectCreate,
    DefectTransition,
    Release,
    ReleaseCreate,
    TestRunCreate,
)
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import DealCreate, SalesBudgetCreate
from crm_impl.pipeline.queries.report import pipeline_report
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settings as stage_admin
from crm_impl.rollout.models import ChangeRequestCreate, IdeaCreate, PhaseCreate, Requirement
from crm_impl.rollout.queries import plan_report
from crm_impl.rollout.services import changes, ideas, plan, projects
from crm_impl.training import services as training
from crm_impl.training.models import Meeting, MeetingCreate, MeetingUpdate, TrainingSessionCreate

Setup = Callable[[Session, Actor], Any]
Act = Callable[[Session, Actor, Any], object]


def _nothing(session: Session, actor: Actor) -> None:
    return None


def _project(session: Session) -> int:
    return int(
        projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Probe rollout")).id
    )


def _client_person_for(session: Session, actor: Actor) -> int:
    person = Person(full_name=f"Person of {actor.username}", side="client")
    session.add(person)
    session.flush()
    user = session.get(UserAccount, actor.id)
    user.person_id = person.id
    session.add(user)
    session.flush()
    return int(person.id)


def _someone_elses_deal(session: Session, actor: Actor) -> dict[str, int]:
    other = users.create_user(
        session=session,
        actor=SYSTEM,
        data=UserCreate(username="probe-owner", password="long-enough-1", roles=["sales_rep"]),
    )
    deal = pipeline.create_deal(
        session=session, actor=SYSTEM, data=DealCreate(title="Probe deal", owner_id=other.id)
    )
    return {"deal": int(deal.id), "version": int(deal.version)}


def _idea(session: Session, actor: Actor) -> dict[str, int]:
    project_id = _project(session)
    person = _client_person_for(session, actor)
    idea = ideas.submit_idea(
        session=session,
        actor=SYSTEM,
        project_id=project_id,
        data=IdeaCreate(title="Probe idea", submitted_by_id=person),
    )
    return {"idea": int(idea.id), "version": int(idea.version)}


def _change(session: Session, actor: Actor) -> dict[str, int]:
    project_id = _project(session)
    person = _client_person_for(session, actor)
    change = changes.request_change(
        session=session,
        actor=SYSTEM,
        project_id=project_id,
        data=ChangeRequestCreate(title="Probe change", reason="probe", effort_days=2, requested_by_id=person),
    )
    return {"change": int(change.id), "version": int(change.version)}


def _person_for(session: Session, actor: Actor, side: str) -> int:
    person = Person(full_name=f"Person of {actor.username}", side=side)
    session.add(person)
    session.flush()
    user = session.get(UserAccount, actor.id)
    assert user is not None
    user.person_id = person.id
    session.add(user)
    session.flush()
    return int(person.id or 0)


def _release(session: Session, project_id: int) -> int:
    release = Release(project_id=project_id, name="Probe 1.0", planned_date=date(2026, 1, 1))
    session.add(release)
    session.flush()
    return int(release.id or 0)


def _defect(
    session: Session, actor: Actor, status: str, side: str | None = None, **fields: Any
) -> dict[str, int]:
    """A defect already in `status` (written directly: setup, not under test)."""
    project_id = _project(session)
    if side is not None:
        _person_for(session, actor, side)
    defect = Defect(project_id=project_id, title="Probe defect", status=status, **fields)
    session.add(defect)
    session.flush()
    return {"defect": int(defect.id or 0), "version": int(defect.version), "project": project_id}


def _programmer(session: Session) -> int:
    user = UserAccount(username="probe-programmer", roles=["programmer"])
    session.add(user)
    session.flush()
    return int(user.id or 0)


def _step(to_status: str, **kw: Any) -> Act:
    return lambda s, a, ctx: defects.transition(
        session=s,
        actor=a,
        defect_id=ctx["defect"],
        expected_version=ctx["version"],
        data=DefectTransition(to_status=to_status, **{k: ctx.get(v, v) for k, v in kw.items()}),
    )


def _acceptance_setup(session: Session, actor: Actor) -> dict[str, int]:
    project_id = _project(session)
    _person_for(session, actor, "client")
    session.add(Requirement(project_id=project_id, title="Probe requirement", business_process="Invoicing"))
    return {"project": project_id, "release": _release(session, project_id)}


def _test_run_setup(session: Session, actor: Actor) -> dict[str, int]:
    project_id = _project(session)
    _person_for(session, actor, "vendor")
    return {"project": project_id, "release": _release(session, project_id)}


def _two_accounts(session: Session) -> tuple[int, int]:
    from crm_impl.pipeline.models import Account

    pair = (Account(name="Probe Dup"), Account(name="PROBE DUP"))
    session.add_all(pair)
    session.flush()
    return (pair[0].id, pair[1].id)  # type: ignore[return-value]


PROBES: dict[str, tuple[Setup, Act]] = {
    "user.manage": (
        _nothing,
        lambda s, a, _: users.create_user(
            session=s,
            actor=a,
            data=UserCreate(username="probe-user", password="long-enough-1", roles=["sales_rep"]),
        ),
    ),
    "project.manage": (
        _nothing,
        lambda s, a, _: projects.create_project(session=s, actor=a, data=ProjectCreate(name="Probe project")),
    ),
    "team.manage": (
        _nothing,
        lambda s, a, _: projects.create_person(
            session=s, actor=a, data=PersonCreate(full_name="Probe Person", side="client")
        ),
    ),
    "stage.configure": (
        _nothing,
        lambda s, a, _: stage_admin.set_budget(
            session=s, actor=a, data=SalesBudgetCreate(month=date(2026, 1, 1), amount=1000)
        ),
    ),
    "deal.write": (
        _nothing,
        lambda s, a, _: pipeline.create_deal(
            session=s, actor=a, data=DealCreate(title="Own probe deal", owner_id=a.id)
        ),
    ),
    "deal.write_any": (
        _someone_elses_deal,
        lambda s, a, ctx: pipeline.move_deal(
            session=s,
            actor=a,
            deal_id=ctx["deal"],
            expected_version=ctx["version"],
            to_stage_key="contact_made",
        ),
    ),
    "import.run": (
        _nothing,
        lambda s, a, _: imports.run_import(
            session=s, actor=a, entity="products", data=b"name,series,price\nProbe,X,10\n", dry_run=False
        ),
    ),
    "plan.write": (
        lambda s, a: _project(s),
        lambda s, a, project_id: plan.create_phase(
            session=s,
            actor=a,
            project_id=project_id,
            data=PhaseCreate(
                name="Probe phase", planned_start=date(2026, 1, 1), planned_end=date(2026, 2, 1)
            ),
        ),
    ),
    "idea.submit": (
        lambda s, a: (_project(s), _client_person_for(s, a)),
        lambda s, a, ctx: ideas.submit_idea(
            session=s, actor=a, project_id=ctx[0], data=IdeaCreate(title="Probe idea")
        ),
    ),
    "idea.triage": (
        _idea,
        lambda s, a, ctx: ideas.triage_idea(
            session=s,
            actor=a,
            idea_id=ctx["idea"],
            expected_version=ctx["version"],
            decision="reject",
            rejection_reason="not now",
        ),
    ),
    "change.request": (
        lambda s, a: (_project(s), _client_person_for(s, a)),
        lambda s, a, ctx: changes.request_change(
            session=s,
            actor=a,
            project_id=ctx[0],
            data=ChangeRequestCreate(
                title="Probe change", reason="probe", effort_days=1, requested_by_id=ctx[1]
            ),
        ),
    ),
    "change.approve": (
        _change,
        lambda s, a, ctx: changes.decide_change(
            session=s, actor=a, change_id=ctx["change"], expected_version=ctx["version"], approve=True
        ),
    ),
    "defect.report": (
        lambda s, a: _project(s),
        lambda s, a, project_id: defects.report_defect(
            session=s, actor=a, project_id=project_id, data=DefectCreate(title="Probe defect")
        ),
    ),
    "defect.triage": (
        lambda s, a: _defect(s, a, "new"),
        _step("rejected", comment="works as designed"),
    ),
    "defect.assign": (
        lambda s, a: {**_defect(s, a, "confirmed"), "programmer": _programmer(s)},
        _step("assigned", assignee_id="programmer"),
    ),
    "defect.fix": (
        lambda s, a: _defect(s, a, "assigned", assignee_id=a.id),
        _step("in_progress"),
    ),
    "defect.verify": (
        lambda s, a: _defect(s, a, "fixed", side="vendor"),
        _step("in_retest"),
    ),
    "defect.signoff": (
        lambda s, a: _defect(s, a, "verified", side="client", environment="real_data"),
        lambda s, a, ctx: defects.client_signoff(
            session=s, actor=a, defect_id=ctx["defect"], expected_version=ctx["version"]
        ),
    ),
    "release.manage": (
        lambda s, a: _project(s),
        lambda s, a, project_id: defects.create_release(
            session=s, actor=a, project_id=project_id, data=ReleaseCreate(name="Probe 2.0")
        ),
    ),
    "testrun.record": (
        _test_run_setup,
        lambda s, a, ctx: defects.record_test_run(
            session=s,
            actor=a,
            project_id=ctx["project"],
            data=TestRunCreate(release_id=ctx["release"], passed=3, failed=1),
        ),
    ),
    "acceptance.record": (
        _acceptance_setup,
        lambda s, a, ctx: defects.record_acceptance(
            session=s,
            actor=a,
            project_id=ctx["project"],
            data=AcceptanceCreate(
                release_id=ctx["release"], business_process="Invoicing", decision="accepted"
            ),
        ),
    ),
    "budget.edit": (
        lambda s, a: _project(s),
        lambda s, a, project_id: budget.create_line(
            session=s, actor=a, project_id=project_id, data=BudgetLineCreate(name="Probe line", planned="100")
        ),
    ),
    "training.manage": (
        lambda s, a: _project(s),
        lambda s, a, project_id: training.create_session(
            session=s,
            actor=a,
            project_id=project_id,
            data=TrainingSessionCreate(title="Probe training", session_date=date(2026, 1, 10)),
        ),
    ),
    "meeting.organise": (
        lambda s, a: _project(s),
        lambda s, a, project_id: training.create_meeting(
            session=s,
            actor=a,
            project_id=project_id,
            data=MeetingCreate(kind="steering", title="Probe SC", meeting_date=date(2026, 1, 10)),
        ),
    ),
    "adoption.manage": (
        lambda s, a: _project(s),
        lambda s, a, project_id: adoption_registers.create_tool(
            session=s,
            actor=a,
            project_id=project_id,
            data=LegacyToolCreate(name="Probe sheet", kind="spreadsheet"),
        ),
    ),
    "adoption.import": (
        lambda s, a: _project(s),
        lambda s, a, project_id: adoption_usage.start_import(
            session=s, actor=a, project_id=project_id, source="probe-log"
        ),
    ),
    "meeting.manage": (  # somebody else's meeting (organised by nobody the probe runs as)
        lambda s, a: _meeting(s),
        lambda s, a, meeting_id: training.update_meeting(
            session=s, actor=a, meeting_id=meeting_id, expected_version=1, data=MeetingUpdate(notes="edited")
        ),
    ),
    "dq.merge": (  # the smallest merge-side write: dismiss a pair as "not a duplicate"
        lambda s, a: _two_accounts(s),
        lambda s, a, pair: _dq_merge.dismiss_pair(
            session=s, actor=a, kind="account", left_id=pair[0], right_id=pair[1]
        ),
    ),
    "dq.manage": (_nothing, lambda s, a, _: dq_services.take_snapshot(session=s, actor=a)),
}


def _meeting(session: Session) -> int:
    project_id = _project(session)
    meeting = Meeting(project_id=project_id, kind="workshop", title="Probe", meeting_date=date(2026, 1, 10))
    session.add(meeting)
    session.flush()
    return int(meeting.id or 0)


# Reads a service refuses by itself (the pages' other read gates are navigation only).
READ_PROBES: dict[str, tuple[Setup, Act]] = {
    "budget.read": (
        lambda s, a: _project(s),
        lambda s, a, project_id: budget_queries.budget_report(session=s, actor=a, project_id=project_id),
    ),
    "pipeline.read": (_nothing, lambda s, a, _: pipeline_report(session=s, actor=a)),
    "plan.read": (
        lambda s, a: _project(s),
        lambda s, a, project_id: plan_report(session=s, actor=a, project_id=project_id),
    ),
    "audit.read": (_nothing, lambda s, a, _: audit.list_entries(session=s, actor=a)),
    "user.read": (_nothing, lambda s, a, _: users.list_users(session=s, actor=a)),
    "dq.read": (_nothing, lambda s, a, _: dq_queries.report(session=s, actor=a)),
}
