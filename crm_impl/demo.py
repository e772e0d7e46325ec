"""A believable demo company: Budmax, a Polish building-materials distributor rolling out a CRM
with an outside vendor (Softronik). Deterministic for a given seed and reference date.

The demo is a year of use written through the ordinary services, step by step in time order,
each step inside `crm_impl.core.clock.at(its moment)` and by the demo user who would do it: the
admin sets up the users, the sales reps work their own customers and deals, the sales manager
keeps the catalogue and the budget, the PMs run the plan, the client PM triages ideas,
management decides change requests. So every row has its audit entry, dated when it happened.
The only writes by the operator ("system", or the `--as` user) are the bootstrap of the first
administrator (there is nobody before them), and one closing entry saying what was loaded. It
runs only on an empty database. Every account it creates is marked `is_demo`: only those get
the one-click demo sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, func, select

from crm_impl.adoption import demo as demo_adoption
from crm_impl.adoption import demo_registers as demo_adoption_registers
from crm_impl.budget import demo as demo_budget
from crm_impl.core import audit, clock, users
from crm_impl.core.auth import actor_for
from crm_impl.core.models import Person, PersonCreate, UserAccount, UserCreate
from crm_impl.core.permissions import SYSTEM, Actor, can, require
from crm_impl.data_quality import demo as demo_dq
from crm_impl.defects import demo as demo_defects
from crm_impl.pipeline import demo as demo_pipeline
from crm_impl.pipeline.models import Account, Activity, Contact, Deal, StageChange
from crm_impl.pipeline.services.stages import ensure_default_stages
from crm_impl.rollout import demo as demo_plan
from crm_impl.rollout.services import projects as project_service
from crm_impl.training import demo as demo_training

DEMO_PASSWORD = "demo-pass-2026"
PROJECT_NAME = demo_plan.PROJECT_NAME

# Who takes which project role, per side: (login, app roles, side, department, project roles)
TEAM: tuple[tuple[str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    ("admin", ("admin",), "client", "IT", ("end_user",)),
    ("management", ("management",), "client", "Board", ("sponsor",)),
    ("pm_client", ("pm_client",), "client", "Sales", ("pm_client",)),
    ("pm_vendor", ("pm_vendor",), "vendor", "Delivery", ("pm_vendor",)),
    ("analyst", ("analyst",), "vendor", "Delivery", ("analyst",)),
    ("consultant", ("consultant",), "vendor", "Delivery", ("consultant",)),
    ("tester", ("tester",), "vendor", "QA", ("tester_vendor",)),
    ("tester_client", ("tester",), "client", "Sales", ("tester_client",)),
    ("programmer", ("programmer",), "vendor", "Development", ("programmer",)),
    ("trainer", ("trainer",), "vendor", "Delivery", ("trainer",)),
    ("sales_manager", ("sales_manager",), "client", "Sales", ("end_user",)),
    ("sales_rep", ("sales_rep",), "client", "Sales", ("end_user",)),
)
EXTRA_REPS = 7


@dataclass
class DemoSummary:
    users: int
    people: int
    accounts: int
    contacts: int
    deals: int
    stage_changes: int
    activities: int


def is_empty(session: Session) -> bool:
    return session.exec(select(UserAccount.id).limit(1)).first() is None


def _team_rows() -> list[tuple[str, tuple[str, ...], str, str, tuple[str, ...]]]:
    return list(TEAM) + [
        (f"rep{i}", ("sales_rep",), "client", "Sales", ("end_user",)) for i in range(1, EXTRA_REPS + 1)
    ]


def load(
    *,
    session: Session,
    seed: int = 7,
    accounts: int = 300,
    deals: int = 1500,
    today: date | None = None,
    actor: Actor = SYSTEM,
) -> DemoSummary:
    """Fill an empty database with the demo company. Commits. `actor` (the operator, `--as`)
    creates the first administrator and needs the right to manage users."""
    import random

    require(actor, "user.manage")

    rng = random.Random(seed)
    today = today or date.today()
    ensure_default_stages(session=session)
    start = demo_pipeline.history_start(today)
    people: dict[str, Person] = {}
    actors: dict[str, Actor] = {}
    accounts_of: dict[str, UserAccount] = {}
    rows = _team_rows()
    planned = []
    for login, roles, side, dept, _ in rows:
        name = demo_pipeline.person_name(rng)
        company = "budmax.pl" if side == "client" else "softronik.pl"
        email = f"{demo_pipeline.ascii_name(name).replace(' ', '.')}.{login}@{company}"
        years = rng.randint(1, 18) if side == "vendor" else rng.randint(0, 25)
        planned.append((login, roles, side, dept, name, email, years))

    def add_person(actor: Actor, login: str) -> None:
        _login, roles, side, dept, name, email, years = next(p for p in planned if p[0] == login)
        person = project_service.create_person(
            session=session,
            actor=actor,
            data=PersonCreate(
                full_name=name,
                email=email,
                side=side,
                department=dept,
                experience_years=years,
                licensed_user=side == "client" or "admin" in roles,
            ),
        )
        user = users.create_user(
            session=session,
            actor=actor,
            is_demo=True,  # only these accounts get the one-click demo sign-in
            data=UserCreate(
                username=login,
                password=DEMO_PASSWORD,
                roles=list(roles),
                display_name=name,
                email=email,
                locale="en",
                person_id=person.id,
            ),
        )
        people[login], accounts_of[login], actors[login] = person, user, actor_for(user)

    # The bootstrap: the operator creates the first administrator (as `crm-impl user add` does).
    setup = start - timedelta(days=1)
    with clock.at(setup):
        add_person(actor, "admin")
    # The admin gives the client's own staff their accounts the day before the year starts ...
    for n, (login, _roles, side, *_rest) in enumerate(rows):
        if side == "client" and login != "admin":
            with clock.at(setup + timedelta(minutes=10 + 3 * n)):
                add_person(actors["admin"], login)
    steps: list[demo_pipeline.Event] = []
    # ... and the vendor's team theirs the day before the rollout project is opened.
    vendor_day = datetime.combine(today - timedelta(days=217), time(14), UTC)
    for n, (login, _roles, side, *_rest) in enumerate(rows):
        if side == "vendor":

            def vendor(login: str = login) -> None:
                add_person(actors["admin"], login)

            steps.append((vendor_day + timedelta(minutes=5 * n), vendor))

    reps = {
        int(u.id or 0): actors[login]
        for login, u in accounts_of.items()
        if "sales_rep" in u.roles or "sales_manager" in u.roles
    }
    sales, counts = demo_pipeline.events(
        session=session,
        seed=seed,
        accounts=accounts,
        deals=deals,
        today=today,
        reps=reps,
        manager=actors["sales_manager"],
        admin=actors["admin"],
    )
    submitters = [
        login
        for login, roles, side, *_ in rows
        if side == "client" and login != "pm_client" and can(roles, "idea.submit")
    ]
    rollout = demo_plan.events(
        session=session,
        people=people,
        actors=actors,
        project_roles={login: project_roles for login, *_, project_roles in rows},
        submitters=submitters,
        today=today,
    )
    testing = demo_defects.events(  # releases, defects, test runs, acceptance (issue 9)
        session=session, actors=actors, today=today, count=max(40, deals // 5), seed=seed
    )
    budget = demo_budget.events(session=session, actors=actors, today=today)  # issue 10
    training = demo_training.events(session=session, people=people, actors=actors, today=today, seed=seed)
    adoption = demo_adoption.events(  # issue 11: the mobile app's usage log, imported twice
        session=session, actors=actors, today=today, project=PROJECT_NAME, seed=seed
    )
    registers = demo_adoption_registers.events(  # issue 11: ADKAR rounds, legacy tools, benefits
        session=session, people=people, actors=actors, today=today
    )
    quality = demo_dq.events(session=session, actors=actors, today=today)  # issue 11
    history = [*steps, *sales, *rollout, *testing, *budget, *training, *adoption, *registers, *quality]
    history.sort(key=lambda step: step[0])  # stable: same-moment steps keep their planned order
    for when, step in history:
        with clock.at(when):
            step()

    def rows_of(model: Any) -> int:  # what is in the database now: every domain's steps included
        return int(session.exec(select(func.count()).select_from(model)).one())

    summary = DemoSummary(
        users=len(rows),
        people=len(rows),
        accounts=rows_of(Account),
        contacts=rows_of(Contact),
        deals=rows_of(Deal),
        stage_changes=rows_of(StageChange),
        activities=rows_of(Activity),
    )
    with clock.at(datetime.combine(today, time(18), UTC)):
        audit.record(
            session=session,
            actor=actor,
            entity="demo",
            entity_id=seed,
            action="load",
            after={**summary.__dict__, **counts.extras},
            project_id=demo_plan.project_id(session=session),
        )
    session.commit()
    return summary
