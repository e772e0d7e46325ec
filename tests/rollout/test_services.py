"""Rollout-plan services on SQLite and PostgreSQL: permission → validation → write → audit,
nothing written on bad input, version conflicts, idea intake and triage, change approval."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry, Person, PersonCreate, ProjectCreate, ProjectUpdate, UserAccount
from crm_impl.core.permissions import APP_ROLES, SYSTEM
from crm_impl.rollout.models import (
    BusinessGoalCreate,
    ChangeRequest,
    ChangeRequestCreate,
    Idea,
    IdeaCreate,
    MilestoneCreate,
    MilestoneUpdate,
    Phase,
    PhaseBaseline,
    PhaseCreate,
    PhaseUpdate,
    PlanSettingsUpdate,
    RaciCell,
    Requirement,
    RequirementCreate,
    Risk,
    RiskCreate,
)
from crm_impl.rollout.services import changes, ideas, plan, projects, scope


@pytest.fixture
def project(session):
    p = projects.create_project(
        session=session,
        actor=SYSTEM,
        data=ProjectCreate(
            name="Rollout",
            start_date=date(2026, 1, 1),
            go_live_date=date(2026, 9, 1),
            baseline_effort_days=200,
            baseline_cost=500000,
        ),
    )
    session.commit()
    return p


def _person(session, name, side="client"):
    p = projects.create_person(session=session, actor=SYSTEM, data=PersonCreate(full_name=name, side=side))
    session.commit()
    return p


def _link(session, actor, person):
    user = session.get(UserAccount, actor.id)
    user.person_id = person.id
    session.add(user)
    session.commit()


def _count(engine, model):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_new_project_starts_with_the_slide_8_risks(session, project):
    risks = session.exec(select(Risk).where(Risk.project_id == project.id)).all()
    assert {r.key for r in risks} == {
        "no_management_support",
        "programmer_as_pm",
        "unclear_roles",
        "unfiltered_ideas",
        "scope_creep",
        "strategy_change",
    }
    assert all(r.status == "open" and r.mitigation for r in risks)


def test_phase_write_is_audited(session, project):
    phase = plan.create_phase(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=PhaseCreate(name="Analysis", planned_start="2026-01-01", planned_end="2026-02-01"),
    )
    session.commit()
    entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "phase")).one()
    assert entry.entity_id == str(phase.id) and entry.action == "create"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"planned_start": "2026-03-01", "planned_end": "2026-02-01"}, "error.date_order"),
        ({"owner_id": 9999}, "error.unknown_person"),
        ({"percent_complete": 140}, "error.out_of_range"),
        ({"name": "analysis"}, "error.duplicate"),
        ({"position": -1}, "error.negative"),
    ],
)
def test_bad_phase_input_writes_nothing(session, engine, project, kwargs, key):
    plan.create_phase(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=PhaseCreate(name="Analysis", planned_start="2026-01-01", planned_end="2026-02-01"),
    )
    session.commit()
    before = (_count(engine, Phase), _count(engine, AuditEntry))
    args = {"name": "Testing", "planned_start": "2026-02-01", "planned_end": "2026-03-01", **kwargs}
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        plan.create_phase(session=uow.session, actor=SYSTEM, project_id=project.id, data=PhaseCreate(**args))
        uow.commit()
    assert err.value.key == key
    assert (_count(engine, Phase), _count(engine, AuditEntry)) == before


def test_negative_effort_and_unknown_requester_are_refused(engine, project):
    for kwargs, key in (
        ({"effort_days": -3, "requested_by_id": None}, "error.negative"),
        ({"effort_days": 3, "requested_by_id": 424242}, "error.unknown_person"),
    ):
        with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
            changes.request_change(
                session=uow.session,
                actor=SYSTEM,
                project_id=project.id,
                data=ChangeRequestCreate(title="x", reason="y", **kwargs),
            )
        assert err.value.key in (key, "error.required")
    assert _count(engine, ChangeRequest) == 0


def test_stale_version_is_a_conflict(session, engine, project):
    phase = plan.create_phase(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=PhaseCreate(name="Analysis", planned_start="2026-01-01", planned_end="2026-02-01"),
    )
    session.commit()
    with UnitOfWork(engine) as uow:
        plan.update_phase(
            session=uow.session,
            actor=SYSTEM,
            phase_id=phase.id,
            expected_version=1,
            changes=PhaseUpdate(percent_complete=40),
        )
        uow.commit()
    with UnitOfWork(engine) as uow, pytest.raises(ConflictError):
        plan.update_phase(
            session=uow.session,
            actor=SYSTEM,
            phase_id=phase.id,
            expected_version=1,
            changes=PhaseUpdate(percent_complete=60),
        )
    # two users loaded the same row; the second save loses the race when it writes
    with UnitOfWork(engine) as a, UnitOfWork(engine) as b:
        b.session.get(Phase, phase.id)
        b.session.commit()  # b's form is open; its row copy is at version 2
        plan.update_phase(
            session=a.session,
            actor=SYSTEM,
            phase_id=phase.id,
            expected_version=2,
            changes=PhaseUpdate(status="on_hold"),
        )
        a.commit()
        with pytest.raises(ConflictError):
            plan.update_phase(
                session=b.session,
                actor=SYSTEM,
                phase_id=phase.id,
                expected_version=2,
                changes=PhaseUpdate(status="done"),
            )
    with Session(engine) as s:
        assert s.get(Phase, phase.id).status == "on_hold"


def test_baselines_freeze_the_plan_and_names_are_unique(session, project):
    plan.add_default_phases(session=session, actor=SYSTEM, project_id=project.id)
    first = plan.save_baseline(session=session, actor=SYSTEM, project_id=project.id, name="Kick-off")
    phase = session.exec(select(Phase).where(Phase.project_id == project.id).order_by(Phase.position)).first()
    plan.update_phase(
        session=session,
        actor=SYSTEM,
        phase_id=phase.id,
        expected_version=phase.version,
        changes=PhaseUpdate(planned_end=date(2026, 3, 1)),
    )
    with pytest.raises(ValidationError):
        plan.save_baseline(session=session, actor=SYSTEM, project_id=project.id, name="kick-off")
    frozen = plan.baseline_items(session=session, baseline_id=first.id)
    assert len(frozen) == 7
    assert frozen.set_index("ref_id").loc[phase.id, "end"] == date(2026, 2, 11)
    now = plan.current_items(session=session, project_id=project.id)
    assert now.set_index("ref_id").loc[phase.id, "end"] == date(2026, 3, 1)
    assert session.exec(select(func.count()).select_from(PhaseBaseline)).one() == 1


def test_milestone_done_only_when_gate_is_met(session, project):
    ms = plan.create_milestone(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=MilestoneCreate(
            name="UAT", due_date="2026-05-01", gate_criteria="No critical defects\nSigned off"
        ),
    )
    with pytest.raises(ValidationError) as err:
        plan.update_milestone(
            session=session,
            actor=SYSTEM,
            milestone_id=ms.id,
            expected_version=1,
            changes=MilestoneUpdate(done_date="2026-05-02"),
        )
    assert err.value.key == "error.gate_open"
    done = [{"text": c["text"], "done": True} for c in ms.gate_criteria]
    plan.update_milestone(
        session=session,
        actor=SYSTEM,
        milestone_id=ms.id,
        expected_version=1,
        changes=MilestoneUpdate(gate_criteria=done, done_date="2026-05-02"),
    )
    assert ms.done_date == date(2026, 5, 2)


def test_raci_one_accountable_and_stale_grid(session, project):
    plan.add_default_phases(session=session, actor=SYSTEM, project_id=project.id)
    phase = session.exec(select(Phase).where(Phase.project_id == project.id)).first()
    a, b = _person(session, "A"), _person(session, "B")
    plan.save_raci(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        cells=[RaciCell(phase_id=phase.id, person_id=a.id, letter="A", was="")],
    )
    with pytest.raises(ValidationError) as err:
        plan.save_raci(
            session=session,
            actor=SYSTEM,
            project_id=project.id,
            cells=[RaciCell(phase_id=phase.id, person_id=b.id, letter="A", was="")],
        )
    assert err.value.key == "error.raci_one_accountable"
    with pytest.raises(ConflictError):
        plan.save_raci(
            session=session,
            actor=SYSTEM,
            project_id=project.id,
            cells=[RaciCell(phase_id=phase.id, person_id=a.id, letter="R", was="C")],
        )


def test_goal_target_must_match_direction(session, project):
    with pytest.raises(ValidationError) as err:
        scope.create_goal(
            session=session,
            actor=SYSTEM,
            project_id=project.id,
            data=BusinessGoalCreate(
                name="Faster offers", baseline_value=48, target_value=60, direction="decrease"
            ),
        )
    assert err.value.key == "error.goal_direction"


def test_client_person_submits_and_duplicates_are_suggested(session, project, make_user):
    rep = make_user("rep", "sales_rep")
    _link(session, rep, _person(session, "Rep", "client"))
    scope.create_requirement(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=RequirementCreate(title="Export customer list to Excel", business_process="Reporting"),
    )
    idea = ideas.submit_idea(
        session=session,
        actor=rep,
        project_id=project.id,
        data=IdeaCreate(title="Exporting customer list to excel"),
    )
    found = ideas.suggest_duplicates(
        session=session, project_id=project.id, text=idea.title, exclude_idea_id=idea.id
    )
    assert found.iloc[0]["kind"] == "requirement" and found.iloc[0]["score"] >= 80
    other = ideas.submit_idea(
        session=session, actor=rep, project_id=project.id, data=IdeaCreate(title="Dark mode")
    )
    assert ideas.suggest_duplicates(
        session=session, project_id=project.id, text=other.title, exclude_idea_id=other.id
    ).empty


def test_vendor_people_do_not_submit_ideas(session, project, make_user):
    pm = make_user("pmv", "pm_vendor")
    _link(session, pm, _person(session, "Vendor PM", "vendor"))
    with pytest.raises(ValidationError) as err:
        ideas.submit_idea(session=session, actor=pm, project_id=project.id, data=IdeaCreate(title="Idea"))
    assert err.value.key == "error.idea_client_side"


def _idea(session, project, title="Map of clients"):
    person = _person(session, f"Submitter {title}")
    return ideas.submit_idea(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=IdeaCreate(title=title, submitted_by_id=person.id),
    )


@pytest.mark.parametrize("role", [r for r in APP_ROLES if r != "admin"])
def test_only_the_client_pm_triages(session, project, make_user, role):
    idea = _idea(session, project)
    session.commit()
    actor = make_user(f"u_{role}", role)
    if role == "pm_client":
        ideas.triage_idea(
            session=session,
            actor=actor,
            idea_id=idea.id,
            expected_version=idea.version,
            decision="reject",
            rejection_reason="Not needed",
        )
        assert idea.status == "rejected" and idea.triaged_by == f"u_{role}"
    else:
        with pytest.raises(PermissionDenied):
            ideas.triage_idea(
                session=session,
                actor=actor,
                idea_id=idea.id,
                expected_version=idea.version,
                decision="reject",
                rejection_reason="Not needed",
            )


def test_triage_accept_duplicate_reject(session, project, make_user):
    pm = make_user("pmc", "pm_client")
    first, second, third = (
        _idea(session, project, t) for t in ("Map of clients", "Clients on a map", "Dark mode")
    )
    ideas.triage_idea(
        session=session,
        actor=pm,
        idea_id=first.id,
        expected_version=first.version,
        decision="accept",
        business_process="Field sales",
    )
    req = session.get(Requirement, first.requirement_id)
    assert req.title == "Map of clients" and req.business_process == "Field sales"
    ideas.triage_idea(
        session=session,
        actor=pm,
        idea_id=second.id,
        expected_version=second.version,
        decision="duplicate",
        duplicate_of_idea_id=first.id,
    )
    assert second.status == "duplicate" and second.duplicate_of_idea_id == first.id
    with pytest.raises(ValidationError) as err:
        ideas.triage_idea(
            session=session, actor=pm, idea_id=third.id, expected_version=third.version, decision="reject"
        )
    assert err.value.key == "error.required"
    with pytest.raises(ValidationError):
        ideas.triage_idea(
            session=session,
            actor=pm,
            idea_id=third.id,
            expected_version=third.version,
            decision="duplicate",
            duplicate_of_idea_id=third.id,
        )
    with pytest.raises(ValidationError) as err:
        ideas.triage_idea(
            session=session,
            actor=pm,
            idea_id=first.id,
            expected_version=first.version,
            decision="reject",
            rejection_reason="late",
        )
    assert err.value.key == "error.idea_already_triaged"
    assert session.exec(select(func.count()).select_from(Idea).where(Idea.status == "new")).one() == 1


@pytest.mark.parametrize("role", [r for r in APP_ROLES if r != "admin"])
def test_only_management_approves_changes(session, project, make_user, role):
    requester = _person(session, "Sales manager")
    change = changes.request_change(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=ChangeRequestCreate(
            title="Extra field",
            reason="Workshops",
            effort_days=Decimal("10"),
            cost=1000,
            requested_by_id=requester.id,
        ),
    )
    session.commit()
    actor = make_user(f"u_{role}", role)
    if role == "management":
        changes.decide_change(
            session=session, actor=actor, change_id=change.id, expected_version=1, approve=True
        )
        assert change.status == "approved" and change.decided_by == f"u_{role}"
        with pytest.raises(ValidationError):
            changes.decide_change(
                session=session, actor=actor, change_id=change.id, expected_version=2, approve=False
            )
    else:
        with pytest.raises(PermissionDenied):
            changes.decide_change(
                session=session, actor=actor, change_id=change.id, expected_version=1, approve=True
            )


def test_rejecting_a_change_needs_a_note(session, project, make_user):
    boss = make_user("boss", "management")
    requester = _person(session, "Req")
    change = changes.request_change(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=ChangeRequestCreate(title="Chat", reason="Nice", effort_days=25, requested_by_id=requester.id),
    )
    with pytest.raises(ValidationError):
        changes.decide_change(
            session=session, actor=boss, change_id=change.id, expected_version=1, approve=False
        )
    changes.decide_change(
        session=session, actor=boss, change_id=change.id, expected_version=1, approve=False, note="Not core"
    )
    assert change.status == "rejected"


def test_testers_and_sales_reps_cannot_edit_the_plan(session, project, make_user):
    for role in ("tester", "sales_rep", "programmer"):
        actor = make_user(f"ro_{role}", role)
        with pytest.raises(PermissionDenied):
            plan.create_phase(
                session=session,
                actor=actor,
                project_id=project.id,
                data=PhaseCreate(name="X", planned_start="2026-01-01", planned_end="2026-01-02"),
            )
        with pytest.raises(PermissionDenied):
            scope.create_risk(session=session, actor=actor, project_id=project.id, data=RiskCreate(title="R"))


def test_project_plan_update(session, engine, project, make_user):
    pm = make_user("pmv2", "pm_vendor")
    plan.update_project_plan(
        session=session,
        actor=pm,
        project_id=project.id,
        expected_version=project.version,
        changes=ProjectUpdate(
            start_date="2026-01-01", go_live_date="2026-10-01", baseline_effort_days=300, baseline_cost=600000
        ),
        settings=PlanSettingsUpdate(scope_creep_limit=0.15, changes_per_month_limit=2),
    )
    session.commit()
    assert plan.get_settings(session=session, project_id=project.id).changes_per_month_limit == 2
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError):
        plan.update_project_plan(
            session=uow.session,
            actor=pm,
            project_id=project.id,
            expected_version=project.version,
            changes=ProjectUpdate(start_date="2026-05-01", go_live_date="2026-04-01"),
        )
    with Session(engine) as s:
        assert s.get(Person, 1) is None or True
        assert str(s.get(type(project), project.id).go_live_date) == "2026-10-01"
