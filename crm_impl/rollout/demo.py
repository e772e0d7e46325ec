"""The demo company's rollout plan: phases that slipped against two baselines, milestones with gate
criteria, a RACI, business goals with monthly measurements, ~40 requirements, ~60 ideas (some of
them duplicates), ~15 change requests, ERP integrations, risks, and one role-rule violation (the
programmer talks to the client directly, slide 9). Deterministic for a given reference date."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from crm_impl.core.models import Person, Project
from crm_impl.rollout.models import (
    BaselineItem,
    BusinessGoal,
    ChangeRequest,
    GoalMeasurement,
    Idea,
    IntegrationInterface,
    Milestone,
    Phase,
    PhaseBaseline,
    PlanSettings,
    RaciEntry,
    Requirement,
    Risk,
    RoleAssignment,
)
from crm_impl.rollout.services.scope import PRESET_RISKS

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
IDEAS = (
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


def _d(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def _at(today: date, days_ago: int, rng: random.Random) -> datetime:
    return datetime.combine(
        today - timedelta(days=days_ago), time(9 + rng.randint(0, 7), rng.randint(0, 59)), UTC
    )


def load(*, session: Session, project: Project, people: dict[str, Person], today: date) -> None:
    """Add the plan to the demo project (people by demo login). Flushes; the caller commits."""
    rng = random.Random(42)
    pid = int(project.id)  # type: ignore[arg-type]
    session.add(PlanSettings(project_id=pid, scope_creep_limit=0.10, changes_per_month_limit=3))
    phases = _phases(session, pid, people, today)
    _milestones_and_baselines(session, pid, phases, today)
    for kind, letters in RACI.items():
        for login, letter in letters.items():
            session.add(
                RaciEntry(project_id=pid, phase_id=phases[kind].id, person_id=people[login].id, letter=letter)
            )
    _goals(session, pid, people, today, rng)
    requirements = _requirements(session, pid, phases, people, rng)
    _ideas(session, pid, people, requirements, today, rng)
    _changes(session, pid, people, today, rng)
    for name, system, direction, method, freq, owner, cost, status in INTEGRATIONS:
        session.add(
            IntegrationInterface(
                project_id=pid,
                name=name,
                system=system,
                direction=direction,
                method=method,
                frequency=freq,
                owner_id=people[owner].id,
                estimated_cost=Decimal(cost),
                status=status,
            )
        )
    _risks(session, pid, people)
    # The one rule broken on purpose: the programmer became a direct contact for the client.
    programmer = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.project_id == pid,
            RoleAssignment.person_id == people["programmer"].id,
            RoleAssignment.role == "programmer",
        )
    ).one()
    programmer.is_client_contact = True
    session.add(programmer)
    session.flush()


def _phases(session: Session, pid: int, people: dict[str, Person], today: date) -> dict[str, Phase]:
    owners = {"analysis": "analyst", "programming": "pm_vendor", "testing": "tester", "training": "trainer"}
    phases = {}
    for position, (kind, name, ps, pe, as_, ae, pct, status) in enumerate(PHASES):
        phase = Phase(
            project_id=pid,
            kind=kind,
            name=name,
            position=position,
            planned_start=_d(today, ps),
            planned_end=_d(today, pe),
            actual_start=_d(today, as_),
            actual_end=_d(today, ae),
            percent_complete=pct,
            status=status,
            owner_id=people[owners.get(kind, "pm_vendor")].id,
        )
        session.add(phase)
        phases[kind] = phase
    session.flush()
    return phases


def _milestones_and_baselines(session: Session, pid: int, phases: dict[str, Phase], today: date) -> None:
    milestones = []
    for name, kind, due, done, criteria in MILESTONES:
        met = done is not None
        gate = [{"text": c, "done": met or (i == 0 and due < 0)} for i, c in enumerate(criteria)]
        milestone = Milestone(
            project_id=pid,
            phase_id=phases[kind].id,
            name=name,
            due_date=_d(today, due),
            done_date=_d(today, done),
            gate_criteria=gate,
        )
        session.add(milestone)
        milestones.append(milestone)
    session.flush()
    for name, days_ago, shifts in (*BASELINES, REPLAN):
        baseline = PhaseBaseline(
            project_id=pid,
            name=name,
            created_at=datetime.combine(today - timedelta(days=days_ago), time(10), UTC),
            created_by="pm_vendor",
        )
        session.add(baseline)
        session.flush()
        for kind, phase in phases.items():
            shift = timedelta(days=shifts.get(kind, shifts.get("default", 0)))
            session.add(
                BaselineItem(
                    baseline_id=baseline.id,
                    kind="phase",
                    ref_id=phase.id,
                    name=phase.name,
                    start=phase.planned_start + shift,
                    end=phase.planned_end + shift,
                )
            )
        for milestone in milestones:
            session.add(
                BaselineItem(
                    baseline_id=baseline.id,
                    kind="milestone",
                    ref_id=milestone.id,
                    name=milestone.name,
                    end=milestone.due_date + timedelta(days=shifts.get("default", 0)),
                )
            )


def _goals(session: Session, pid: int, people: dict[str, Person], today: date, rng: random.Random) -> None:
    for name, kpi, unit, base, target, direction, step in GOALS:
        goal = BusinessGoal(
            project_id=pid,
            name=name,
            kpi=kpi,
            unit=unit,
            baseline_value=base,
            target_value=target,
            target_date=today + timedelta(days=260),
            direction=direction,
            owner_id=people["management" if unit == "%" else "sales_manager"].id,
        )
        session.add(goal)
        session.flush()
        for month in range(6, -1, -1):
            value = base + step * (6 - month) + rng.uniform(-abs(step), abs(step)) * 0.6
            session.add(
                GoalMeasurement(
                    goal_id=goal.id, measured_on=today - timedelta(days=30 * month), value=round(value, 1)
                )
            )


def _requirements(
    session: Session, pid: int, phases: dict[str, Phase], people: dict[str, Person], rng: random.Random
) -> list[Requirement]:
    owners = ["sales_manager", "pm_client", "management", "tester_client"]
    statuses = ["done", "done", "in_progress", "approved", "approved", "proposed"]
    rows = []
    for title, process, kind in REQUIREMENTS:
        phase = "programming" if kind == "core" else rng.choice(["programming", "modifications"])
        rows.append(
            Requirement(
                project_id=pid,
                title=title,
                business_process=PROCESSES[process],
                kind=kind,
                business_owner_id=people[rng.choice(owners)].id,
                phase_id=phases[phase].id,
                status=rng.choice(statuses)
                if kind == "core"
                else rng.choice(["proposed", "deferred", "approved"]),
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def _ideas(
    session: Session,
    pid: int,
    people: dict[str, Person],
    requirements: list[Requirement],
    today: date,
    rng: random.Random,
) -> None:
    submitters = [p for login, p in people.items() if p.side == "client" and login != "pm_client"]
    by_title = {r.title: r for r in requirements}
    originals: list[Idea] = []
    for index, (title, _variants) in enumerate(IDEAS):
        idea = Idea(
            project_id=pid,
            title=title,
            submitted_by_id=rng.choice(submitters).id,
            submitted_at=_at(today, 200 - index * 4, rng),
        )
        if index % 7 == 6:  # the latest few of every batch still wait for the client PM
            pass
        elif index % 5 == 4:
            idea.status, idea.rejection_reason = "rejected", rng.choice(REJECT_REASONS)
        else:
            requirement = Requirement(
                project_id=pid,
                title=title if title not in by_title else f"{title} (from idea)",
                business_process="" if index % 4 == 3 else rng.choice(PROCESSES),
                kind="extension" if index % 3 == 0 else "core",
                business_owner_id=idea.submitted_by_id,
                status="proposed",
            )
            if len(requirements) < 44:
                session.add(requirement)
                session.flush()
                requirements.append(requirement)
                idea.status, idea.requirement_id = "accepted", requirement.id
            elif index < 30:
                idea.status, idea.rejection_reason = "rejected", REJECT_REASONS[1]
        if idea.status != "new":
            idea.triaged_by, idea.triaged_at = "pm_client", idea.submitted_at + timedelta(days=3)
        session.add(idea)
        originals.append(idea)
    session.flush()
    for index, (original, (_title, variants)) in enumerate(zip(originals, IDEAS, strict=True)):
        for offset, variant in enumerate(variants):
            submitted = original.submitted_at + timedelta(days=10 + 9 * offset)
            duplicate = Idea(
                project_id=pid,
                title=variant,
                submitted_by_id=rng.choice(submitters).id,
                submitted_at=min(submitted, _at(today, 1, rng)),
            )
            if index % 6 != 5:
                duplicate.status = "duplicate"
                if original.requirement_id and offset == 0:
                    duplicate.duplicate_of_requirement_id = original.requirement_id
                else:
                    duplicate.duplicate_of_idea_id = original.id
                duplicate.triaged_by, duplicate.triaged_at = (
                    "pm_client",
                    duplicate.submitted_at + timedelta(days=2),
                )
            session.add(duplicate)


def _changes(session: Session, pid: int, people: dict[str, Person], today: date, rng: random.Random) -> None:
    requesters = ["pm_client", "sales_manager", "management", "pm_vendor"]
    for title, effort, cost, impact, status, days_ago in CHANGES:
        requested = _at(today, days_ago, rng)
        decided = requested + timedelta(days=rng.randint(3, 9)) if status != "pending" else None
        session.add(
            ChangeRequest(
                project_id=pid,
                title=title,
                reason="Requested by the sales team during workshops.",
                requested_by_id=people[rng.choice(requesters)].id,
                requested_at=requested,
                effort_days=Decimal(effort),
                cost=Decimal(cost),
                schedule_impact_days=impact,
                status=status,
                after_go_live=False,
                decided_by="management" if decided else None,
                decided_at=decided,
                decision_note="Not core; revisit after go-live." if status == "rejected" else "",
            )
        )


def _risks(session: Session, pid: int, people: dict[str, Person]) -> None:
    from crm_impl.core.i18n import catalogue

    english = catalogue("en")
    for key, probability, impact, slide in PRESET_RISKS:
        owner, status = PRESET_STATE[key]
        session.add(
            Risk(
                project_id=pid,
                key=key,
                title=english[f"plan.risk_preset.{key}"],
                mitigation=english[f"plan.risk_mitigation.{key}"],
                probability=probability,
                impact=impact,
                owner_id=people[owner].id,
                status=status,
                slide=slide,
            )
        )
    for title, probability, impact, owner, mitigation, status in EXTRA_RISKS:
        session.add(
            Risk(
                project_id=pid,
                title=title,
                probability=probability,
                impact=impact,
                owner_id=people[owner].id,
                mitigation=mitigation,
                status=status,
            )
        )
