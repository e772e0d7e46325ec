"""The demo company's adoption registers, written through the adoption services as they happened
(issue 11).

The client PM keeps them. Legacy tools found during the analysis (six: spreadsheets, paper, other
programs, each with its users and a retire-by date) are retired one by one — three retired, the
customer service's paper contact book overdue, two still due. Benefits are registered with their
baselines when the key users start (five: hours per offer, minutes to check a balance, complaints
closed on time, paper costs, days from enquiry to offer) and measured monthly; the two benefit
demonstrations before go-live link the benefits measured by then. Two ADKAR rounds survey every
client department (named responses in Sales, Board, IT and Finance; anonymous rows in customer
service and logistics): the first after the key users' training, the second before go-live, when
Customer service stalls at Knowledge (though its Ability is lower), Logistics at Ability and
Finance at Desire, while Sales, the Board and IT have no barrier left.

`events` returns dated steps (deterministic for a reference date); `crm_impl.demo.load` runs them
with every other domain's, in time order, inside `crm_impl.core.clock.at(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from crm_impl.adoption.models import (
    ADKAR_ELEMENTS,
    AdkarRoundCreate,
    AdkarScores,
    BenefitCreate,
    LegacyTool,
    LegacyToolCreate,
    LegacyToolUpdate,
    MeasurementCreate,
)
from crm_impl.adoption.services import adkar, registers
from crm_impl.core.models import Person
from crm_impl.core.permissions import Actor
from crm_impl.training import services as meetings
from crm_impl.training.models import Meeting, MeetingUpdate

Event = tuple[datetime, Callable[[], None]]
KEEPER = "pm_client"

# the round's day (from today), its title, and per department the base score of each element
# (A, D, K, A, R) and whether the department answers anonymously
ROUNDS: tuple[tuple[int, str, dict[str, tuple[int, ...]]], ...] = (
    (
        -100,
        "Ankieta ADKAR – po szkoleniu użytkowników kluczowych",
        {
            "Sales": (4, 3, 3, 2, 2),
            "Customer service": (3, 3, 2, 2, 2),
            "Logistics": (3, 2, 2, 2, 1),
            "Finance": (3, 3, 3, 3, 2),
            "Board": (4, 4, 3, 3, 3),
            "IT": (5, 4, 4, 3, 3),
        },
    ),
    (
        -10,
        "Ankieta ADKAR – przed startem",
        {
            "Sales": (5, 4, 4, 4, 4),
            "Customer service": (4, 4, 3, 2, 3),
            "Logistics": (4, 4, 4, 3, 3),
            "Finance": (4, 3, 4, 4, 3),
            "Board": (5, 5, 4, 4, 4),
            "IT": (5, 5, 5, 4, 4),
        },
    ),
)
ANONYMOUS = ("Customer service", "Logistics")
# a respondent's offset from the department's base: the running mean never rises above the base,
# so a base of 3 is a barrier and a base of 4 is none, whatever the number of respondents
OFFSETS = (0, -1, 1)

# name, kind, departments of its users, retire by (days from today), retired on (or None)
TOOLS: tuple[tuple[str, str, tuple[str, ...], int, int | None], ...] = (
    ("Arkusz ofert handlowców (Excel)", "spreadsheet", ("Sales",), -30, -25),
    ("Zeszyt kontaktów biura obsługi", "paper", ("Customer service",), -10, None),
    ("WMS-Lite – stary program magazynowy", "program", ("Logistics",), 60, None),
    ("Kalendarz wizyt w Outlooku", "program", ("Sales",), -40, -45),
    ("Lista należności w Excelu", "spreadsheet", ("Finance",), 30, None),
    ("Karteczki z zamówieniami telefonicznymi", "paper", ("Logistics", "Customer service"), -60, -62),
)
TOOLS_FOUND = -200

# name, unit, direction, baseline, {day from today: value}
BENEFITS: tuple[tuple[str, str, str, str, dict[int, str]], ...] = (
    (
        "Czas przygotowania oferty",
        "hours",
        "decrease",
        "2.00",
        {-90: "1.50", -60: "0.80", -30: "0.40", -7: "0.25"},
    ),
    ("Czas sprawdzenia salda klienta", "minutes", "decrease", "15", {-60: "6", -30: "2", -7: "1"}),
    ("Reklamacje zamknięte w terminie", "percent", "increase", "62", {-60: "70", -30: "78", -7: "84"}),
    (
        "Koszt druku i archiwum papierowego (miesięcznie)",
        "pln",
        "decrease",
        "4200",
        {-60: "3900", -30: "3100", -7: "2600"},
    ),
    ("Dni od zapytania do oferty", "days", "decrease", "4", {-30: "2", -7: "1.5"}),
)
BENEFITS_FROM = -130
# the benefit demonstrations (crm_impl.training.demo.BENEFIT_DEMOS before go-live) and the
# benefits (by place in BENEFITS) measured by then
DEMO_LINKS = {-20: (0, 1), -6: (0, 1, 2, 3)}


def _at(today: date, days: int, hour: int = 9) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(hour), UTC)


@dataclass
class _Plan:
    session: Session
    people: dict[str, Person]
    actors: dict[str, Actor]
    today: date
    out: list[Event] = field(default_factory=list)
    tools: dict[str, int] = field(default_factory=dict)
    benefits: list[int] = field(default_factory=list)

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if when <= datetime.combine(self.today, time(18), UTC):
            self.out.append((when, step))

    @property
    def actor(self) -> Actor:
        return self.actors[KEEPER]

    def project(self) -> int:
        from crm_impl.rollout import demo as demo_plan

        return int(demo_plan.project_id(session=self.session) or 0)

    def staff(self, departments: tuple[str, ...]) -> list[int]:
        query = select(Person.id).where(
            col(Person.department).in_(departments),
            col(Person.side) == "client",
            col(Person.licensed_user),
            col(Person.active),
        )
        return [int(i) for i in self.session.exec(query.order_by(col(Person.id))).all() if i is not None]


def events(
    *, session: Session, people: dict[str, Person], actors: dict[str, Actor], today: date, seed: int = 7
) -> list[Event]:
    """The registers as dated steps. `people` and `actors` may still be filling up when this is
    called: the steps read them when they run. (`seed` is accepted for symmetry with the other
    domains: the registers are the same for every seed.)"""
    plan = _Plan(session, people, actors, today)
    _tools(plan)
    _benefits(plan)
    for days, title, profile in ROUNDS:
        _round(plan, days, title, profile)
    return plan.out


def _tools(plan: _Plan) -> None:
    for n, (name, kind, departments, retire_by, retired_on) in enumerate(TOOLS):

        def found(
            name: str = name,
            kind: str = kind,
            departments: tuple[str, ...] = departments,
            retire_by: int = retire_by,
        ) -> None:
            users = plan.staff(departments)[:4]
            row = registers.create_tool(
                session=plan.session,
                actor=plan.actor,
                project_id=plan.project(),
                data=LegacyToolCreate(
                    name=name, kind=kind, retire_by=plan.today + timedelta(days=retire_by), user_ids=users
                ),
            )
            plan.tools[name] = int(row.id or 0)

        plan.at(_at(plan.today, TOOLS_FOUND, 10) + timedelta(minutes=5 * n), found)
        if retired_on is not None:

            def retire(name: str = name, retired_on: int = retired_on) -> None:
                tool_id = plan.tools[name]
                row = plan.session.get(LegacyTool, tool_id)
                registers.update_tool(
                    session=plan.session,
                    actor=plan.actor,
                    tool_id=tool_id,
                    expected_version=row.version if row else None,
                    data=LegacyToolUpdate(retired_on=plan.today + timedelta(days=retired_on), user_ids=[]),
                )

            plan.at(_at(plan.today, retired_on, 16), retire)


def _benefits(plan: _Plan) -> None:
    for n, (name, unit, direction, baseline, values) in enumerate(BENEFITS):

        def register(
            name: str = name, unit: str = unit, direction: str = direction, baseline: str = baseline
        ) -> None:
            row = registers.create_benefit(
                session=plan.session,
                actor=plan.actor,
                project_id=plan.project(),
                data=BenefitCreate(
                    name=name,
                    unit=unit,
                    direction=direction,
                    baseline=baseline,
                    baseline_on=plan.today + timedelta(days=BENEFITS_FROM),
                ),
            )
            plan.benefits.append(int(row.id or 0))

        plan.at(_at(plan.today, BENEFITS_FROM, 11) + timedelta(minutes=n), register)
        for days, value in values.items():

            def measure(n: int = n, days: int = days, value: str = value) -> None:
                registers.add_measurement(
                    session=plan.session,
                    actor=plan.actor,
                    benefit_id=plan.benefits[n],
                    data=MeasurementCreate(
                        measured_on=plan.today + timedelta(days=days), value=Decimal(value)
                    ),
                )

            plan.at(_at(plan.today, days, 12) + timedelta(minutes=n), measure)
    for days, shown in DEMO_LINKS.items():

        def link(days: int = days, shown: tuple[int, ...] = shown) -> None:
            demo = plan.session.exec(
                select(Meeting).where(
                    Meeting.project_id == plan.project(),
                    Meeting.kind == "benefit_demo",
                    Meeting.meeting_date == plan.today + timedelta(days=days),
                )
            ).first()
            if demo is None:
                return
            meetings.update_meeting(
                session=plan.session,
                actor=plan.actor,
                meeting_id=int(demo.id or 0),
                expected_version=demo.version,
                data=MeetingUpdate(benefit_ids=[plan.benefits[i] for i in shown]),
            )

        plan.at(_at(plan.today, days, 16), link)  # the demo is recorded at 15:00 the same day


def _round(plan: _Plan, days: int, title: str, profile: dict[str, tuple[int, ...]]) -> None:
    def survey() -> None:
        rnd = adkar.create_round(
            session=plan.session,
            actor=plan.actor,
            project_id=plan.project(),
            data=AdkarRoundCreate(title=title, survey_date=plan.today + timedelta(days=days)),
        )
        lines: list[AdkarScores] = []
        for department, bases in profile.items():
            for n, person_id in enumerate(plan.staff((department,))):
                offset = OFFSETS[n % len(OFFSETS)]
                scores = {
                    e: min(5, max(1, base + offset)) for e, base in zip(ADKAR_ELEMENTS, bases, strict=True)
                }
                anonymous = department in ANONYMOUS
                lines.append(
                    AdkarScores(department=department, person_id=None if anonymous else person_id, **scores)
                )
        adkar.record_responses(session=plan.session, actor=plan.actor, round_id=int(rnd.id or 0), lines=lines)

    plan.at(_at(plan.today, days, 14), survey)
