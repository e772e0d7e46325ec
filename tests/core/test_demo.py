"""The demo company: deterministic, believable, valid NIP numbers, every project role filled, and
written through the services as a year of use: every row has its audit "create" entry, dated
over the year and made by the demo user who would do it."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from crm_impl import demo
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount
from crm_impl.core.permissions import APP_ROLES
from crm_impl.core.validation import nip_valid
from crm_impl.pipeline.models import Account, Activity, Contact, Deal, SalesBudget, StageChange
from crm_impl.rollout.models import (
    PROJECT_ROLES,
    BusinessGoal,
    ChangeRequest,
    GoalMeasurement,
    Idea,
    IntegrationInterface,
    Milestone,
    Phase,
    PhaseBaseline,
    Requirement,
    Risk,
    RoleAssignment,
)

TODAY = date(2026, 11, 30)
# table -> the entity name its audit entries use
AUDITED: dict[type[SQLModel], str] = {
    UserAccount: "user",
    Person: "person",
    Project: "project",
    Account: "account",
    Contact: "contact",
    Deal: "deal",
    Activity: "activity",
    SalesBudget: "sales_budget",
    RoleAssignment: "role_assignment",
    Phase: "phase",
    Milestone: "milestone",
    PhaseBaseline: "baseline",
    BusinessGoal: "goal",
    GoalMeasurement: "goal_measurement",
    Requirement: "requirement",
    Idea: "idea",
    ChangeRequest: "change_request",
    IntegrationInterface: "integration",
    Risk: "risk",
}


def _load(engine, seed=3):
    with Session(engine) as s:
        return demo.load(session=s, seed=seed, accounts=60, deals=250, today=TODAY)


def test_demo_is_complete_and_valid(engine):
    summary = _load(engine)
    with Session(engine) as s:
        nips = s.exec(select(Account.nip)).all()
        roles = set(s.exec(select(RoleAssignment.role)).all())
        history = s.exec(select(func.count()).select_from(StageChange)).one()
        first_changes = s.exec(
            select(func.count()).select_from(StageChange).where(col(StageChange.from_stage_id).is_(None))
        ).one()
        users = s.exec(select(UserAccount)).all()
        waiting = s.exec(select(func.count()).select_from(Idea).where(Idea.status == "new")).one()
        decided = set(s.exec(select(ChangeRequest.status)).all())
        contact = s.exec(select(RoleAssignment).where(RoleAssignment.is_client_contact)).all()
    assert summary.accounts == len(nips) == 60 and all(nip_valid(n) for n in nips)
    assert roles == set(PROJECT_ROLES)
    # 250 deals of the sales history plus the two the data-quality slips add (crm_impl/data_quality/demo.py)
    assert first_changes == summary.deals == 252 and history == summary.stage_changes > summary.deals
    assert {r for u in users for r in u.roles} == set(APP_ROLES)  # a demo login for every app role
    assert all(u.active_project_id is not None for u in users)
    assert waiting > 0 and decided == {"pending", "approved", "rejected"}
    assert [a.role for a in contact] == ["programmer"]


def test_a_year_of_use_by_the_demo_users(engine):
    _load(engine)
    with Session(engine) as s:
        entries = s.exec(
            select(AuditEntry.at, AuditEntry.username, AuditEntry.entity, AuditEntry.action).order_by(
                col(AuditEntry.id)
            )
        ).all()
        created = {
            (entity, entity_id)
            for entity, entity_id in s.exec(
                select(AuditEntry.entity, AuditEntry.entity_id).where(AuditEntry.action == "create")
            ).all()
        }
        missing = {}
        for table, entity in AUDITED.items():
            ids = [str(i) for i in s.exec(select(table.id)).all()]  # type: ignore[attr-defined]
            assert ids, entity
            missing[entity] = [i for i in ids if (entity, i) not in created]
        moves = s.exec(select(StageChange.at, StageChange.by_user_id)).all()
        deals = s.exec(select(Deal.created_at, Deal.owner_id)).all()
    assert {k: v for k, v in missing.items() if v} == {}
    months = {e.at.strftime("%Y-%m") for e in entries}
    assert len(months) >= 12
    people = {e.username for e in entries} - {"system"}
    assert len(people) >= 15
    # "system" only creates the first administrator (granting a privileged role is audited on
    # its own, issue 8) and notes what was loaded
    assert sorted((e.entity, e.action) for e in entries if e.username == "system") == [
        ("demo", "load"),
        ("person", "create"),
        ("user", "create"),
        ("user", "grant_role"),
    ]
    end = datetime.combine(TODAY, time(18), UTC)
    assert all(end - timedelta(days=368) <= _utc(e.at) <= end for e in entries)
    # written in the order it happened: the log reads as a history
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    # the pipeline's history is dated when it happened, by the deal's owner
    assert len({m.at.strftime("%Y-%m") for m in moves}) >= 12
    assert all(m.by_user_id is not None for m in moves)
    assert len({d.created_at.strftime("%Y-%m") for d in deals}) >= 12
    # who did what: reps work deals, the client PM triages, management decides changes
    by_action = {(e.entity, e.action): set() for e in entries}
    for e in entries:
        by_action[(e.entity, e.action)].add(e.username)
    assert by_action[("idea", "accept")] == {"pm_client"}
    assert (
        by_action[("change_request", "approve")] == by_action[("change_request", "reject")] == {"management"}
    )
    assert by_action[("deal", "move")] >= {"sales_rep", "rep1", "sales_manager"}
    assert by_action[("phase", "create")] == {"pm_vendor"}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _fingerprint(engine):
    with Session(engine) as s:
        deals = s.exec(select(Deal.title, Deal.value, Deal.stage_id, Deal.created_at).order_by(Deal.id)).all()
        audit = s.exec(
            select(AuditEntry.entity, AuditEntry.action, AuditEntry.username, func.count())
            .group_by(AuditEntry.entity, AuditEntry.action, AuditEntry.username)
            .order_by(AuditEntry.entity, AuditEntry.action, AuditEntry.username)
        ).all()
        counts = {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in AUDITED}
        times = s.exec(select(AuditEntry.at).where(AuditEntry.entity != "demo").order_by(AuditEntry.id)).all()
    return (
        [tuple(map(str, r)) for r in deals],
        [tuple(map(str, r)) for r in audit],
        counts,
        [_utc(t).isoformat() for t in times],
    )


def test_same_seed_same_company(engine, tmp_path):
    from crm_impl.core.db import get_engine, upgrade

    _load(engine, seed=11)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other)
    _load(get_engine(other), seed=11)
    assert _fingerprint(engine) == _fingerprint(get_engine(other))
