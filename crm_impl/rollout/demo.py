"""The demo company's rollout, written through the rollout services as it happened: the client PM
opens the project and the two PMs staff it; the vendor PM plans phases and milestones, fills the
RACI and freezes a kick-off baseline, re-plans after the analysis (a second baseline) and moves
the schedule when testing slips; the analyst writes ~35 requirements that the client PM approves
and the vendor team builds; the client PM records goal measurements every month, files risks and
triages ~60 ideas from the client side (some of them duplicates, the newest still waiting);
management approves or rejects ~15 change requests; the vendor PM moves ERP integrations through
their statuses and makes the one mistake on purpose: the programmer becomes a direct contact of
the client (slide 9).

`events` returns dated steps (deterministic for a reference date); `crm_impl.demo.load` runs
them with every other domain's, in time order, inside `crm_impl.core.clock.at(...)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from crm_impl.core import users
from crm_impl.core.models import Person, ProjectCreate
from crm_impl.core.permissions import Actor
from crm_impl.rollout.models import (
    BusinessGoalCreate,
    ChangeRequestCreate,
    GoalMeasurementCreate,
    IdeaCreate,
    IntegrationInterfaceCreate,
    IntegrationInterfaceUpdate,
    MilestoneCreate,
    MilestoneUpdate,
    PhaseCreate,
    PhaseUpdate,
    RaciCell,
    RequirementCreate,
    RequirementUpdate,
    Risk,
    RiskCreate,
    RiskUpdate,
    RoleAssignment,
    RoleAssignmentCreate,
    RoleAssignmentUpdate,
)
from crm_impl.rollout.services import changes as change_service
from crm_impl.rollout.services import ideas as idea_service
from crm_impl.rollout.services import plan as plan_service
from crm_impl.rollout.services import projects as project_service
from crm_impl.rollout.services import scope as scope_service
from crm_impl.rollout.services import team as team_service

# A step of the demo's history: when, and what the demo user does then.
Event = tuple[datetime, Callable[[], None]]

PROJECT_NAME = "Budmax CRM 2026"
RESPONSIBILITIES = {
    "sponsor": "Zatwierdza budżet i zakres, prowadzi komitet sterujący.",
    "pm_client": "Zbiera i filtruje pomysły użytkowników, jedyny kontakt z dostawcą po stronie klienta.",
    "pm_vendor": "Pierwszy punkt kontaktu z klientem; planuje i rozdziela prace zespołu dostawcy.",
    "analyst": "Spisuje wymagania na podstawie procesów biznesowych.",
    "consultant": "Konfiguruje system zgodnie z wymaganiami i dobrymi praktykami.",
    "tester_vendor": "Testuje każdą wersję i każdą zgłoszoną poprawkę.",
    "tester_client": "Sprawdza aplikację na rzeczywistych danych.",
    "programmer": "Realizuje zadania przydzielone przez PM i przekazuje wyniki do testów.",
    "trainer": "Przygotowuje i prowadzi szkolenia użytkowników.",
    "end_user": "Pracuje w systemie na co dzień i zgłasza uwagi przez PM klienta.",
}
REPORTS_TO = {
    "programmer": "pm_vendor",
    "tester": "pm_vendor",
    "analyst": "pm_vendor",
    "consultant": "pm_vendor",
    "trainer": "pm_vendor",
    "tester_client": "pm_client",
    "sales_rep": "sales_manager",
    "pm_client": "management",
}
VENDOR_ROLES = {"pm_vendor", "analyst", "consultant", "tester_vendor", "programmer", "trainer"}
PHASE_OWNERS = {"analysis": "analyst", "programming": "pm_vendor", "testing": "tester", "training": "trainer"}
PLAN_WRITERS = {"analyst", "pm_vendor", "pm_client"}  # the demo logins allowed to edit the plan

# kind, name, planned start/end, actual start/end (days from today), % complete, status
PHASES = (
    ("analysis", "Analysis", -210, -169, -210, -164, 100, "done"),
    ("programming", "Programming and configuration", -168, -71, -165, -56, 100, "done"),
    ("testing", "Testing", -70, -15, -56, None, 75, "in_progress"),
    ("training", "Training", -10, 60, -5, None, 20, "in_progress"),
    ("deployment", "Deployment", 20, 74, None, None, 0, "not_started"),
    ("modifications", "Modifications", 75, 135, None, None, 0, "not_started"),
    ("maintenance", "Maintenance", 136, 320, None, None, 0, "not_started"),
)
# baseline name, days created before today, shift of every planned date in that baseline
BASELINES = (("Kick-off", 210, {"testing": -21, "training": -21, "deployment": -21, "default": -14}),)
REPLAN = ("Re-plan after analysis", 160, {"analysis": 5, "testing": -7, "training": -7, "deployment": -7})

MILESTONES = (
    (
        "Requirements signed off",
        "analysis",
        -169,
        -163,
        ["Processes mapped", "Requirements approved by sponsor"],
    ),
    (
        "Configuration complete",
        "programming",
        -71,
        -56,
        ["All core requirements built", "ERP interfaces in test"],
    ),
    (
        "User acceptance passed",
        "testing",
        -15,
        None,
        ["No open critical defects", "Tested on real data", "Sign-off"],
    ),
    ("Go-live", "deployment", 75, None, ["Data migrated", "Users trained", "Legacy sheets retired"]),
    ("End of hypercare", "modifications", 135, None, ["Change requests below threshold"]),
)
RACI = {  # phase kind -> {login: letter}
    "analysis": {"pm_client": "A", "analyst": "R", "pm_vendor": "C", "sales_manager": "C", "management": "I"},
    "programming": {"pm_vendor": "A", "programmer": "R", "consultant": "R", "analyst": "C", "pm_client": "I"},
    "testing": {"pm_vendor": "A", "tester": "R", "tester_client": "R", "programmer": "C", "pm_client": "I"},
    "training": {"pm_client": "A", "trainer": "R", "sales_manager": "C", "management": "I"},
    "deployment": {"pm_vendor": "A", "consultant": "R", "pm_client": "C", "management": "I"},
    "modifications": {"pm_client": "A", "programmer": "R", "tester": "R", "management": "I"},
    "maintenance": {"pm_vendor": "A", "consultant": "R", "pm_client": "I"},
}
# name, kpi, unit, baseline, target, direction, monthly step
GOALS = (
    ("Faster offers", "Median time from enquiry to offer", "h", 48, 24, "decrease", -2.6),
    ("Higher win rate", "Won ÷ (won + lost), quarter", "%", 22, 30, "increase", 0.9),
    ("Pipeline visibility", "Open deals touched in the last 7 days", "%", 35, 90, "increase", 6.5),
    ("Quicker service replies", "Median first reply to a complaint", "h", 8, 4, "decrease", -0.3),
)
PROCESSES = (
    "Lead management",
    "Offer preparation",
    "Order handling",
    "Customer service",
    "Receivables (ERP)",
    "Field sales",
    "Reporting",
    "Marketing campaigns",
)
REQUIREMENTS = (
    ("Register a lead from the web form", 0, "core"),
    ("Assign leads to branches by postcode", 0, "core"),
    ("Lead scoring by sector and size", 0, "extension"),
    ("Duplicate check on new accounts (NIP)", 0, "core"),
    ("Offer from a price list with discounts", 1, "core"),
    ("Offer PDF in company layout", 1, "core"),
    ("Offer approval above discount limit", 1, "core"),
    ("Offer templates per product group", 1, "extension"),
    ("Send offer by e-mail from the CRM", 1, "core"),
    ("Convert a won offer into an ERP order", 2, "core"),
    ("Order status visible in the CRM", 2, "core"),
    ("Delivery date promised vs actual", 2, "core"),
    ("Partial deliveries on one order", 2, "extension"),
    ("Complaint register with deadlines", 3, "core"),
    ("Escalation of overdue complaints", 3, "core"),
    ("Customer service call notes", 3, "core"),
    ("Satisfaction survey after delivery", 3, "extension"),
    ("Overdue balance shown on the account", 4, "core"),
    ("Block offers for clients with negative balance", 4, "core"),
    ("Credit limit from ERP", 4, "core"),
    ("Daily receivables import", 4, "core"),
    ("Visit planning for field reps", 5, "core"),
    ("Mobile access for field reps", 5, "core"),
    ("Visit report with photos", 5, "extension"),
    ("Route optimisation for visits", 5, "extension"),
    ("Pipeline per branch report", 6, "core"),
    ("Sales vs budget per month", 6, "core"),
    ("Win/loss reasons report", 6, "core"),
    ("Export any list to Excel", 6, "core"),
    ("Management dashboard on the home page", 6, "extension"),
    ("Newsletter segments from CRM data", 7, "extension"),
    ("Campaign response tracking", 7, "extension"),
    ("Trade fair lead import", 7, "extension"),
    ("Consent (GDPR) per contact", 7, "core"),
)
# Idea pool: (title, variants that a colleague would submit later as a duplicate)
IDEAS: tuple[tuple[str, list[str]], ...] = (
    ("Export customer list to Excel", ["Exporting the customer list to excel", "customer list export excel"]),
    ("Show overdue payments on the client card", ["Overdue payments visible on client card"]),
    ("Reminder before an offer expires", ["Remind me when an offer is about to expire"]),
    ("Mobile app for field visits", ["Mobile application for visits in the field"]),
    ("Copy an old offer into a new one", ["Copy previous offer to create a new offer"]),
    ("Block orders for clients in debt", ["Block new orders for clients with debt"]),
    ("Birthday reminders for key contacts", []),
    ("Map of clients by region", ["Clients on a map by region"]),
    ("One-click call from the contact card", []),
    ("Weekly pipeline e-mail to managers", ["Weekly e-mail with pipeline for managers"]),
    ("Photo attachments in visit reports", []),
    ("Competitor price notes per deal", []),
    ("Dark mode", []),
    ("Sync contacts with phones", ["Synchronise contacts with mobile phones"]),
    ("Stock level check before an offer", ["Check stock levels before sending offer"]),
    ("Automatic discount approval by region manager", []),
    ("Import trade fair business cards", []),
    ("Show delivery status to the rep", ["Delivery status visible to sales rep"]),
    ("Complaint photos from the construction site", []),
    ("Gamification ranking of reps", []),
    ("Chat inside the CRM", []),
    ("Offer in English and German", []),
    ("Calendar integration with Outlook", ["Outlook calendar integration"]),
    ("Credit limit warning on new deal", []),
    ("Quick note by voice", []),
    ("Show last 5 orders on account", ["Last five orders shown on the account page"]),
    ("Reason required when a deal is lost", []),
    ("Template e-mails for follow-ups", []),
    ("Customer segment A/B/C", []),
    ("Sales budget per rep", []),
    ("Print route plan for the day", []),
    ("Notify rep when client pays overdue invoice", []),
    ("Tag deals with construction project name", []),
    ("Attach drawings to offers", []),
    ("Use company logo on all PDFs", []),
    ("Search clients by NIP", ["Find a client by tax id NIP"]),
    ("Track samples given to clients", []),
    ("SMS reminders to clients", []),
    ("Holiday calendar for reps", []),
    ("Dashboard for branch managers", []),
    ("Integrate with the e-shop orders", []),
    ("Export pipeline to PowerPoint", []),
)
REJECT_REASONS = (
    "Not related to our sales process.",
    "Out of scope for the first release; revisit after go-live.",
    "Already possible with the standard e-mail client.",
    "Cost far above the benefit.",
)
CHANGES = (  # title, effort days, cost, schedule impact days, status, days ago
    ("Extra field 'construction site' on deals", 3, 6000, 0, "approved", 150),
    ("Second offer layout for public tenders", 8, 18000, 3, "approved", 140),
    ("Credit limit check in offer approval", 6, 14000, 2, "approved", 120),
    ("Chat inside the CRM", 25, 60000, 15, "rejected", 118),
    ("Import of trade fair leads", 5, 9000, 0, "approved", 100),
    ("Gamification ranking of reps", 12, 26000, 5, "rejected", 95),
    ("Additional ERP interface for stock levels", 10, 24000, 5, "approved", 80),
    ("Route optimisation for visits", 18, 45000, 10, "rejected", 70),
    ("Offer in English and German", 6, 12000, 2, "approved", 60),
    ("Branch manager dashboard", 7, 15000, 3, "approved", 45),
    ("Complaint photos upload", 4, 8000, 0, "approved", 30),
    ("Outlook calendar synchronisation", 12, 30000, 6, "pending", 20),
    ("Export pipeline to PowerPoint", 3, 5000, 0, "pending", 12),
    ("Voice notes", 9, 20000, 4, "pending", 6),
    ("SMS reminders to clients", 5, 11000, 2, "pending", 3),
)
INTEGRATIONS = (  # name, system, direction, method, frequency, owner login, cost, status
    ("ERP – customer master data", "erp", "inbound", "api", "hourly", "consultant", 38000, "testing"),
    (
        "ERP – receivables and overdue balances",
        "erp",
        "inbound",
        "file",
        "daily",
        "consultant",
        22000,
        "live",
    ),
    (
        "ERP – orders from won offers",
        "erp",
        "outbound",
        "api",
        "realtime",
        "programmer",
        56000,
        "in_progress",
    ),
    ("ERP – stock levels", "erp", "inbound", "database", "hourly", "programmer", 24000, "planned"),
    (
        "Accounting – invoices and payments",
        "accounting",
        "inbound",
        "file",
        "daily",
        "consultant",
        15000,
        "testing",
    ),
    ("E-shop – B2B orders", "eshop", "inbound", "api", "hourly", "programmer", 31000, "planned"),
    ("E-mail – activity logging", "email", "both", "api", "realtime", "consultant", 12000, "live"),
    (
        "Telephony – click to call",
        "telephony",
        "outbound",
        "api",
        "realtime",
        "consultant",
        18000,
        "cancelled",
    ),
    ("BI – sales reports", "bi", "outbound", "database", "daily", "analyst", 9000, "planned"),
)
EXTRA_RISKS = (
    (
        "Customer master data in the ERP is inconsistent",
        4,
        4,
        "analyst",
        "Clean NIP and addresses before migration.",
        "mitigating",
    ),
    (
        "Key users unavailable during testing",
        3,
        3,
        "pm_client",
        "Book testers' time with the sales manager.",
        "open",
    ),
    (
        "Sales reps keep using their Excel sheets",
        4,
        5,
        "sales_manager",
        "Retire the sheets at go-live; show the gains.",
        "open",
    ),
    (
        "Vendor programmer turnover",
        2,
        3,
        "pm_vendor",
        "Pair programming and written handover notes.",
        "closed",
    ),
)
PRESET_STATE = {  # preset key -> (owner login, status)
    "no_management_support": ("management", "mitigating"),
    "programmer_as_pm": ("pm_vendor", "closed"),
    "unclear_roles": ("pm_vendor", "mitigating"),
    "unfiltered_ideas": ("pm_client", "mitigating"),
    "scope_creep": ("management", "open"),
    "strategy_change": ("management", "open"),
}


def _at(today: date, days: int, hour: int = 9, minute: int = 0) -> datetime:
    """`days` from today (negative: in the past) at hour:minute UTC."""
    return datetime.combine(today + timedelta(days=days), time(hour, minute), UTC)


def _d(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def _day(today: date, offset: int) -> date:
    return today + timedelta(days=offset)


def _shift(shifts: dict[str, int], kind: str) -> int:
    return shifts.get(kind, shifts.get("default", 0))


@dataclass
class _State:
    """Ids of what earlier steps created, read by later steps."""

    project_id: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    milestones: dict[str, int] = field(default_factory=dict)
    goals: dict[str, int] = field(default_factory=dict)
    requirements: dict[str, int] = field(default_factory=dict)
    ideas: dict[int, int] = field(default_factory=dict)
    changes: dict[int, int] = field(default_factory=dict)
    integrations: dict[str, int] = field(default_factory=dict)
    risks: dict[str, int] = field(default_factory=dict)


class _Plan:
    """Collects the rollout's dated steps."""

    def __init__(
        self,
        session: Session,
        people: dict[str, Person],
        actors: dict[str, Actor],
        today: date,
    ) -> None:
        self.session, self.people, self.actors, self.today = session, people, actors, today
        self.now = datetime.combine(today, time(18), UTC)
        self.state = _State()
        self.out: list[Event] = []

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if when <= self.now:
            self.out.append((when, step))

    def pid(self, login: str) -> int:
        return int(self.people[login].id or 0)

    def actor(self, login: str) -> Actor:
        return self.actors[login]


def events(
    *,
    session: Session,
    people: dict[str, Person],
    actors: dict[str, Actor],
    project_roles: dict[str, tuple[str, ...]],
    submitters: list[str],
    today: date,
) -> list[Event]:
    """The rollout as dated steps. `people` and `actors` (by demo login) may still be filling up
    when this is called: the steps read them when they run. `project_roles` gives each login's
    roles on the project, `submitters` the client-side logins who submit ideas."""
    rng = random.Random(42)
    plan = _Plan(session, people, actors, today)
    _project_and_team(plan, project_roles)
    _schedule(plan)
    _goals(plan, rng)
    _requirements(plan, rng)
    _ideas(plan, submitters, rng)
    _changes(plan, rng)
    _integrations(plan)
    _risks(plan)
    return plan.out


def project_id(*, session: Session) -> int | None:
    from crm_impl.core.models import Project

    return session.exec(select(Project.id).where(Project.name == PROJECT_NAME)).first()


# ---------------------------------------------------------------- project and team


def _project_and_team(plan: _Plan, project_roles: dict[str, tuple[str, ...]]) -> None:
    today, state = plan.today, plan.state

    def create_project() -> None:
        project = project_service.create_project(
            session=plan.session,
            actor=plan.actor("pm_client"),
            data=ProjectCreate(
                name=PROJECT_NAME,
                client_name="Budmax Dystrybucja sp. z o.o.",
                vendor_name="Softronik CRM Solutions sp. z o.o.",
                description="CRM rollout for sales, logistics and customer service in 16 branches.",
                start_date=_day(today, -210),
                go_live_date=_day(today, 75),
                currency="PLN",
                baseline_effort_days=Decimal(620),
                baseline_cost=Decimal(1_450_000),
            ),
        )
        state.project_id = int(project.id or 0)

    plan.at(_at(today, -216, 9), create_project)
    for n, login in enumerate(project_roles):  # everybody picks the project on their next sign-in

        def pick(login: str = login) -> None:
            users.set_preferences(
                session=plan.session, actor=plan.actor(login), active_project_id=state.project_id
            )

        plan.at(_at(today, -215, 8, 0) + timedelta(minutes=7 * n), pick)
    n = 0
    for login, roles in project_roles.items():
        for role in roles:
            boss = REPORTS_TO.get(login, "sales_manager" if login.startswith("rep") else None)
            manager = "pm_vendor" if role in VENDOR_ROLES else "pm_client"

            def assign(
                login: str = login, role: str = role, boss: str | None = boss, manager: str = manager
            ) -> None:
                project_service.assign_role(
                    session=plan.session,
                    actor=plan.actor(manager),
                    project_id=state.project_id,
                    data=RoleAssignmentCreate(
                        person_id=plan.pid(login),
                        role=role,
                        reports_to_id=plan.pid(boss) if boss else None,
                        responsibilities=RESPONSIBILITIES.get(role, ""),
                    ),
                )

            plan.at(_at(today, -214, 10) + timedelta(minutes=4 * n), assign)
            n += 1

    def programmer_contact() -> None:
        # The one rule broken on purpose: the programmer became a direct contact for the client.
        row = plan.session.exec(
            select(RoleAssignment).where(
                RoleAssignment.project_id == state.project_id,
                RoleAssignment.person_id == plan.pid("programmer"),
                RoleAssignment.role == "programmer",
            )
        ).one()
        team_service.update_assignment(
            session=plan.session,
            actor=plan.actor("pm_vendor"),
            assignment_id=int(row.id or 0),
            expected_version=None,
            changes=RoleAssignmentUpdate(is_client_contact=True),
        )

    plan.at(_at(today, -120, 14, 20), programmer_contact)


# ---------------------------------------------------------------- schedule


def _schedule(plan: _Plan) -> None:
    today, state = plan.today, plan.state
    kickoff_name, kickoff_days, kickoff = BASELINES[0]
    replan_name, replan_days, replan = REPLAN

    for position, (kind, name, ps, pe, _as, _ae, _pct, _status) in enumerate(PHASES):
        shift = _shift(kickoff, kind)

        def create(
            kind: str = kind, name: str = name, ps: int = ps, pe: int = pe, shift: int = shift
        ) -> None:
            phase = plan_service.create_phase(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                project_id=state.project_id,
                data=PhaseCreate(
                    name=name,
                    kind=kind,
                    planned_start=_day(today, ps + shift),
                    planned_end=_day(today, pe + shift),
                    owner_id=plan.pid(PHASE_OWNERS.get(kind, "pm_vendor")),
                ),
            )
            state.phases[kind] = int(phase.id or 0)

        plan.at(_at(today, -213, 9, 5 * position), create)
    for n, (name, kind, due, _done, criteria) in enumerate(MILESTONES):

        def milestone(
            name: str = name, kind: str = kind, due: int = due, criteria: list[str] = criteria
        ) -> None:
            row = plan_service.create_milestone(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                project_id=state.project_id,
                data=MilestoneCreate(
                    name=name,
                    phase_id=state.phases[kind],
                    due_date=_day(today, due + _shift(kickoff, "default")),
                    gate_criteria=[{"text": c, "done": False} for c in criteria],
                ),
            )
            state.milestones[name] = int(row.id or 0)

        plan.at(_at(today, -213, 11, 5 * n), milestone)

    def raci() -> None:
        cells = [
            RaciCell(phase_id=state.phases[kind], person_id=plan.pid(login), letter=letter, was="")
            for kind, letters in RACI.items()
            for login, letter in letters.items()
        ]
        plan_service.save_raci(
            session=plan.session, actor=plan.actor("pm_vendor"), project_id=state.project_id, cells=cells
        )

    plan.at(_at(today, -212, 15), raci)

    def baseline(name: str) -> Callable[[], None]:
        def run() -> None:
            plan_service.save_baseline(
                session=plan.session, actor=plan.actor("pm_vendor"), project_id=state.project_id, name=name
            )

        return run

    plan.at(_at(today, -kickoff_days, 10), baseline(kickoff_name))

    def move_phases(target: dict[str, int], source: dict[str, int], login: str) -> Callable[[], None]:
        def run() -> None:
            for kind, _name, ps, pe, *_ in PHASES:
                shift, was = _shift(target, kind), _shift(source, kind)
                if shift != was:
                    plan_service.update_phase(
                        session=plan.session,
                        actor=plan.actor(login),
                        phase_id=state.phases[kind],
                        expected_version=None,
                        changes=PhaseUpdate(
                            planned_start=_day(today, ps + shift), planned_end=_day(today, pe + shift)
                        ),
                    )

        return run

    def move_milestones() -> None:
        for name, _kind, due, *_ in MILESTONES:
            plan_service.update_milestone(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                milestone_id=state.milestones[name],
                expected_version=None,
                changes=MilestoneUpdate(due_date=_day(today, due)),
            )

    plan.at(_at(today, -166, 11), move_milestones)
    plan.at(_at(today, -replan_days, 9, 30), move_phases(replan, kickoff, "pm_vendor"))
    plan.at(_at(today, -replan_days, 10), baseline(replan_name))
    current: dict[str, int] = {"default": 0}
    analysis_only = {k: v for k, v in replan.items() if k == "analysis"}
    plan.at(_at(today, -150, 12), move_phases({"default": 0}, analysis_only, "pm_vendor"))
    testing_slip = {k: v for k, v in replan.items() if k != "analysis"}
    plan.at(_at(today, -75, 16), move_phases(current, testing_slip, "pm_vendor"))

    # progress: the phase owner (or the vendor PM) reports every two weeks
    for kind, _name, _ps, _pe, as_, ae, pct, _status in PHASES:
        if as_ is None:
            continue
        owner = PHASE_OWNERS.get(kind, "pm_vendor")
        login = owner if owner in PLAN_WRITERS else "pm_vendor"
        end = ae if ae is not None else 0
        for day in range(as_, end + 1, 14):
            progress = 0 if day == as_ else round(pct * (day - as_) / max(1, end - as_))
            if day == as_:
                changes = PhaseUpdate(actual_start=_day(today, as_), status="in_progress")
            else:
                changes = PhaseUpdate(percent_complete=min(progress, 95 if ae is not None else pct))
            plan.at(_at(today, day, 16, 30), _phase_update(plan, kind, login, changes))
        final = (
            PhaseUpdate(actual_end=_day(today, ae), percent_complete=100)
            if ae is not None
            else PhaseUpdate(percent_complete=pct)
        )
        plan.at(_at(today, ae if ae is not None else -1, 17), _phase_update(plan, kind, login, final))

    # milestone gates: criteria ticked off as they are met, the milestone closed when all are
    for name, _kind, due, done, criteria in MILESTONES:
        if done is None and due >= 0:
            continue
        met = done is not None
        ticked = [{"text": c, "done": met or i == 0} for i, c in enumerate(criteria)]
        tick_day = (done - 2) if done is not None else due - 5
        plan.at(
            _at(today, tick_day, 15),
            _milestone_update(plan, name, "pm_client", MilestoneUpdate(gate_criteria=ticked)),
        )
        if done is not None:
            plan.at(
                _at(today, done, 16),
                _milestone_update(plan, name, "pm_client", MilestoneUpdate(done_date=_day(today, done))),
            )


def _phase_update(plan: _Plan, kind: str, login: str, changes: PhaseUpdate) -> Callable[[], None]:
    def run() -> None:
        plan_service.update_phase(
            session=plan.session,
            actor=plan.actor(login),
            phase_id=plan.state.phases[kind],
            expected_version=None,
            changes=changes,
        )

    return run


def _milestone_update(plan: _Plan, name: str, login: str, changes: MilestoneUpdate) -> Callable[[], None]:
    def run() -> None:
        plan_service.update_milestone(
            session=plan.session,
            actor=plan.actor(login),
            milestone_id=plan.state.milestones[name],
            expected_version=None,
            changes=changes,
        )

    return run


# ---------------------------------------------------------------- goals


def _goals(plan: _Plan, rng: random.Random) -> None:
    today, state = plan.today, plan.state
    for n, (name, kpi, unit, base, target, direction, step) in enumerate(GOALS):

        def create(
            name: str = name,
            kpi: str = kpi,
            unit: str = unit,
            base: float = base,
            target: float = target,
            direction: str = direction,
        ) -> None:
            goal = scope_service.create_goal(
                session=plan.session,
                actor=plan.actor("pm_client"),
                project_id=state.project_id,
                data=BusinessGoalCreate(
                    name=name,
                    kpi=kpi,
                    unit=unit,
                    baseline_value=base,
                    target_value=target,
                    target_date=_day(today, 260),
                    direction=direction,
                    owner_id=plan.pid("management" if unit == "%" else "sales_manager"),
                ),
            )
            state.goals[name] = int(goal.id or 0)

        plan.at(_at(today, -205, 11, 10 * n), create)
        for month in range(6, -1, -1):
            value = round(base + step * (6 - month) + rng.uniform(-abs(step), abs(step)) * 0.6, 1)

            def measure(name: str = name, month: int = month, value: float = value) -> None:
                scope_service.add_measurement(
                    session=plan.session,
                    actor=plan.actor("pm_client"),
                    goal_id=state.goals[name],
                    data=GoalMeasurementCreate(measured_on=_day(today, -30 * month), value=value),
                )

            plan.at(_at(today, -30 * month, 15, 5 * n), measure)


# ---------------------------------------------------------------- requirements


def _requirements(plan: _Plan, rng: random.Random) -> None:
    today, state = plan.today, plan.state
    owners = ["sales_manager", "pm_client", "management", "tester_client"]
    statuses = ["done", "done", "in_progress", "approved", "approved", "proposed"]
    for n, (title, process, kind) in enumerate(REQUIREMENTS):
        phase = "programming" if kind == "core" else rng.choice(["programming", "modifications"])
        owner = rng.choice(owners)
        final = rng.choice(statuses) if kind == "core" else rng.choice(["proposed", "deferred", "approved"])
        written = _at(today, -208 + n, 10 + n % 6, 15)

        def create(
            title: str = title,
            process: int = process,
            kind: str = kind,
            phase: str = phase,
            owner: str = owner,
        ) -> None:
            row = scope_service.create_requirement(
                session=plan.session,
                actor=plan.actor("analyst"),
                project_id=state.project_id,
                data=RequirementCreate(
                    title=title,
                    business_process=PROCESSES[process],
                    kind=kind,
                    business_owner_id=plan.pid(owner),
                    phase_id=state.phases[phase],
                ),
            )
            state.requirements[title] = int(row.id or 0)

        plan.at(written, create)
        steps: list[tuple[datetime, str, str]] = []
        if final in ("approved", "in_progress", "done"):
            steps.append((_at(today, -163, 11, n), "approved", "pm_client"))
        elif final == "deferred":
            steps.append((_at(today, -163, 12, n), "deferred", "pm_client"))
        if final in ("in_progress", "done"):
            started = rng.randint(-160, -90)
            steps.append((_at(today, started, 13, n), "in_progress", "pm_vendor"))
            if final == "done":
                steps.append((_at(today, rng.randint(started + 5, -57), 15, n), "done", "pm_vendor"))
        for when, status, login in steps:
            plan.at(when, _requirement_status(plan, title, status, login))


def _requirement_status(plan: _Plan, title: str, status: str, login: str) -> Callable[[], None]:
    def run() -> None:
        scope_service.update_requirement(
            session=plan.session,
            actor=plan.actor(login),
            requirement_id=plan.state.requirements[title],
            expected_version=None,
            changes=RequirementUpdate(status=status),
        )

    return run


# ---------------------------------------------------------------- ideas


def _ideas(plan: _Plan, submitters: list[str], rng: random.Random) -> None:
    today = plan.today
    accepted = 0
    requirement_of: dict[int, bool] = {}
    for index, (title, _variants) in enumerate(IDEAS):
        by = rng.choice(submitters)
        submitted = _at(today, -(200 - index * 4), 9 + rng.randint(0, 7), rng.randint(0, 59))
        plan.at(submitted, _submit(plan, index, title, by))
        decision: dict[str, object] = {}
        if index % 7 == 6:  # the latest few of every batch still wait for the client PM
            pass
        elif index % 5 == 4:
            decision = {"decision": "reject", "rejection_reason": rng.choice(REJECT_REASONS)}
        elif accepted < 10:
            accepted += 1
            requirement_of[index] = True
            process = "" if index % 4 == 3 else rng.choice(PROCESSES)
            decision = {
                "decision": "accept",
                "business_process": process,
                "kind": "extension" if index % 3 == 0 else "core",
            }
        elif index < 30:
            decision = {"decision": "reject", "rejection_reason": REJECT_REASONS[1]}
        if decision:
            plan.at(submitted + timedelta(days=3), _triage(plan, index, decision))
    duplicates = len(IDEAS)
    for index, (_title, variants) in enumerate(IDEAS):
        for offset, variant in enumerate(variants):
            by = rng.choice(submitters)
            original = _at(today, -(200 - index * 4), 9)
            submitted = min(
                original + timedelta(days=10 + 9 * offset, hours=rng.randint(0, 7)),
                _at(today, -1, 9 + rng.randint(0, 7)),
            )
            key = duplicates
            duplicates += 1
            plan.at(submitted, _submit(plan, key, variant, by))
            if index % 6 != 5:
                target = (
                    {"duplicate_of_requirement": index}
                    if requirement_of.get(index) and offset == 0
                    else {"duplicate_of_idea": index}
                )
                plan.at(
                    submitted + timedelta(days=2), _triage(plan, key, {"decision": "duplicate", **target})
                )


def _submit(plan: _Plan, key: int, title: str, login: str) -> Callable[[], None]:
    def run() -> None:
        idea = idea_service.submit_idea(
            session=plan.session,
            actor=plan.actor(login),
            project_id=plan.state.project_id,
            data=IdeaCreate(title=title),
        )
        plan.state.ideas[key] = int(idea.id or 0)

    return run


def _triage(plan: _Plan, key: int, decision: dict[str, object]) -> Callable[[], None]:
    def run() -> None:
        state = plan.state
        of_idea = decision.get("duplicate_of_idea")
        of_requirement = decision.get("duplicate_of_requirement")
        requirement_id = None
        if isinstance(of_requirement, int):
            from crm_impl.rollout.models import Idea

            requirement_id = plan.session.exec(
                select(Idea.requirement_id).where(col(Idea.id) == state.ideas[of_requirement])
            ).one()
        idea_service.triage_idea(
            session=plan.session,
            actor=plan.actor("pm_client"),
            idea_id=state.ideas[key],
            expected_version=None,
            decision=str(decision["decision"]),
            duplicate_of_idea_id=state.ideas[of_idea] if isinstance(of_idea, int) else None,
            duplicate_of_requirement_id=requirement_id,
            rejection_reason=str(decision.get("rejection_reason", "")),
            business_process=str(decision.get("business_process", "")),
            kind=str(decision.get("kind", "core")),
        )

    return run


# ---------------------------------------------------------------- change requests


def _changes(plan: _Plan, rng: random.Random) -> None:
    today, state = plan.today, plan.state
    requesters = ["pm_client", "management", "pm_vendor", "analyst"]
    for n, (title, effort, cost, impact, status, days_ago) in enumerate(CHANGES):
        requested = _at(today, -days_ago, 9 + rng.randint(0, 7), rng.randint(0, 59))
        by = rng.choice(requesters)

        def request(
            n: int = n,
            title: str = title,
            effort: int = effort,
            cost: int = cost,
            impact: int = impact,
            by: str = by,
        ) -> None:
            row = change_service.request_change(
                session=plan.session,
                actor=plan.actor(by),
                project_id=state.project_id,
                data=ChangeRequestCreate(
                    title=title,
                    reason="Requested by the sales team during workshops.",
                    effort_days=Decimal(effort),
                    cost=Decimal(cost),
                    schedule_impact_days=impact,
                ),
            )
            state.changes[n] = int(row.id or 0)

        plan.at(requested, request)
        if status == "pending":
            continue
        decided = requested + timedelta(days=rng.randint(3, 9))

        def decide(n: int = n, approve: bool = status == "approved") -> None:
            change_service.decide_change(
                session=plan.session,
                actor=plan.actor("management"),
                change_id=state.changes[n],
                expected_version=None,
                approve=approve,
                note="" if approve else "Not core; revisit after go-live.",
            )

        plan.at(decided, decide)


# ---------------------------------------------------------------- integrations


INTEGRATION_STEPS = {  # final status -> [(status, days from today)]
    "planned": [],
    "in_progress": [("in_progress", -120)],
    "testing": [("in_progress", -140), ("testing", -60)],
    "live": [("in_progress", -150), ("testing", -90), ("live", -40)],
    "cancelled": [("cancelled", -100)],
}


def _integrations(plan: _Plan) -> None:
    today, state = plan.today, plan.state
    for n, (name, system, direction, method, freq, owner, cost, status) in enumerate(INTEGRATIONS):

        def create(
            name: str = name,
            system: str = system,
            direction: str = direction,
            method: str = method,
            freq: str = freq,
            owner: str = owner,
            cost: int = cost,
        ) -> None:
            row = scope_service.create_integration(
                session=plan.session,
                actor=plan.actor("analyst"),
                project_id=state.project_id,
                data=IntegrationInterfaceCreate(
                    name=name,
                    system=system,
                    direction=direction,
                    method=method,
                    frequency=freq,
                    owner_id=plan.pid(owner),
                    estimated_cost=Decimal(cost),
                ),
            )
            state.integrations[name] = int(row.id or 0)

        plan.at(_at(today, -200 + 2 * n, 14), create)
        for step, days in INTEGRATION_STEPS[status]:

            def move(name: str = name, step: str = step) -> None:
                scope_service.update_integration(
                    session=plan.session,
                    actor=plan.actor("pm_vendor"),
                    integration_id=state.integrations[name],
                    expected_version=None,
                    changes=IntegrationInterfaceUpdate(status=step),
                )

            plan.at(_at(today, days + n, 11), move)


# ---------------------------------------------------------------- risks


def _risks(plan: _Plan) -> None:
    today, state = plan.today, plan.state

    def owners() -> None:  # the presets came with the project; the client PM gives them owners
        rows = plan.session.exec(select(Risk).where(Risk.project_id == state.project_id)).all()
        for row in rows:
            if row.key in PRESET_STATE:
                state.risks[row.key] = int(row.id or 0)
                scope_service.update_risk(
                    session=plan.session,
                    actor=plan.actor("pm_client"),
                    risk_id=int(row.id or 0),
                    expected_version=None,
                    changes=RiskUpdate(owner_id=plan.pid(PRESET_STATE[row.key][0])),
                )

    plan.at(_at(today, -205, 15), owners)
    for n, (key, (_owner, status)) in enumerate(PRESET_STATE.items()):
        if status in ("mitigating", "closed"):
            plan.at(_at(today, -180 + n, 10), _risk_status(plan, key, "mitigating", "pm_client"))
        if status == "closed":
            plan.at(_at(today, -100 + n, 10), _risk_status(plan, key, "closed", "pm_vendor"))
    created = (-195, -150, -120, -190)
    for n, (title, probability, impact, owner, mitigation, status) in enumerate(EXTRA_RISKS):

        def create(
            title: str = title,
            probability: int = probability,
            impact: int = impact,
            owner: str = owner,
            mitigation: str = mitigation,
        ) -> None:
            row = scope_service.create_risk(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                project_id=state.project_id,
                data=RiskCreate(
                    title=title,
                    probability=probability,
                    impact=impact,
                    owner_id=plan.pid(owner),
                    mitigation=mitigation,
                ),
            )
            state.risks[title] = int(row.id or 0)

        plan.at(_at(today, created[n], 11), create)
        if status in ("mitigating", "closed"):
            plan.at(_at(today, created[n] + 20, 10), _risk_status(plan, title, "mitigating", "pm_vendor"))
        if status == "closed":
            plan.at(_at(today, created[n] + 80, 10), _risk_status(plan, title, "closed", "pm_vendor"))


def _risk_status(plan: _Plan, key: str, status: str, login: str) -> Callable[[], None]:
    def run() -> None:
        scope_service.update_risk(
            session=plan.session,
            actor=plan.actor(login),
            risk_id=plan.state.risks[key],
            expected_version=None,
            changes=RiskUpdate(status=status),
        )

    return run
