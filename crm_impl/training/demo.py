"""The demo company's training and meetings, written through the training services as they
happened (issue 10).

The admin adds the client's other licensed users (customer service, logistics, finance) when the
project opens. The vendor's trainer trains key users early, then runs the training programme
module by module per department: 24 sessions, the older ones held (the trainer marks each held
and records attendance and scores the day after), one cancelled, one held yesterday whose
attendance is not recorded yet, the rest planned up to go-live. A few people are never invited
(the untrained list is not empty). Meetings cover a year: a monthly steering committee organised
by the client PM (management missing twice), workshops with employees during the analysis, the
trainer's practice sessions every other week since the training began, two benefit
demonstrations before go-live and three planned after it.

`events` returns dated steps (deterministic per seed and reference date); `crm_impl.demo.load`
runs them with every other domain's, in time order, inside `crm_impl.core.clock.at(...)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from crm_impl.core.models import Person, PersonCreate
from crm_impl.core.permissions import Actor
from crm_impl.rollout.services import projects as project_service
from crm_impl.training import services
from crm_impl.training.models import (
    AttendanceRecord,
    MeetingCreate,
    TrainingSessionCreate,
    TrainingSessionUpdate,
)

Event = tuple[datetime, Callable[[], None]]

# The client's licensed users without a login of their own yet: name, department
STAFF = (
    ("Joanna Wróbel", "Customer service"),
    ("Paweł Kaczmarek", "Customer service"),
    ("Magdalena Zając", "Customer service"),
    ("Tomasz Pietrzak", "Customer service"),
    ("Krzysztof Szymański", "Logistics"),
    ("Agnieszka Lewandowska", "Logistics"),
    ("Marek Dąbrowski", "Logistics"),
    ("Ewelina Kozłowska", "Logistics"),
    ("Barbara Mazur", "Finance"),
    ("Łukasz Jankowski", "Finance"),
)
NEVER_INVITED = {"Tomasz Pietrzak", "Ewelina Kozłowska"}  # forgotten: the PM's list shows them
LATE_LOGINS = {"rep6", "rep7"}  # joined late: only the catch-up session yesterday
# days from today, title, module, audience departments, online, status
SESSIONS: tuple[tuple[int, str, str, tuple[str, ...], bool, str], ...] = (
    (-120, "Key users: CRM basics", "Basics", ("Sales", "IT", "Board"), False, "held"),
    (-110, "Key users: the sales pipeline", "Pipeline", ("Sales",), False, "held"),
    (-90, "Podstawy CRM dla handlowców", "Basics", ("Sales",), False, "held"),
    (-83, "Klienci i kontakty", "Accounts", ("Sales", "Customer service"), False, "held"),
    (-76, "Szanse sprzedaży i etapy", "Pipeline", ("Sales",), False, "held"),
    (-67, "Raporty sprzedaży", "Reports", ("Board", "Sales"), False, "cancelled"),
    (-60, "Podstawy CRM – obsługa klienta", "Basics", ("Customer service",), False, "held"),
    (-53, "Oferty i rabaty", "Offers", ("Sales",), False, "held"),
    (-46, "Podstawy CRM – logistyka", "Basics", ("Logistics",), False, "held"),
    (-39, "Raporty sprzedaży", "Reports", ("Board", "Sales"), False, "held"),
    (-32, "Aplikacja mobilna w terenie", "Mobile", ("Sales",), True, "held"),
    (-25, "Dane z ERP: saldo i należności", "ERP data", ("Finance", "Sales"), True, "held"),
    (-18, "Reklamacje w CRM", "Complaints", ("Customer service", "Logistics"), False, "held"),
    (-11, "Zamówienia i terminy dostaw", "Orders", ("Logistics", "Sales"), False, "held"),
    (-4, "Oferty – ćwiczenia praktyczne", "Offers", ("Sales", "Customer service"), False, "held"),
    (-1, "Podstawy CRM – sesja uzupełniająca", "Basics", ("Finance", "Sales"), True, "held_unrecorded"),
    (3, "Raporty dla kierowników", "Reports", ("Board", "Sales"), False, "planned"),
    (8, "Aplikacja mobilna – druga tura", "Mobile", ("Sales",), True, "planned"),
    (15, "Reklamacje – przypadki trudne", "Complaints", ("Customer service",), False, "planned"),
    (22, "ERP: limity kredytowe", "ERP data", ("Finance",), True, "planned"),
    (29, "Zamówienia – ćwiczenia", "Orders", ("Logistics",), False, "planned"),
    (36, "Etapy sprzedaży – powtórka", "Pipeline", ("Sales",), False, "planned"),
    (
        43,
        "Podstawy CRM – nowi pracownicy",
        "Basics",
        ("Sales", "Customer service", "Logistics"),
        True,
        "planned",
    ),
    (
        50,
        "Przed startem: pytania i odpowiedzi",
        "Basics",
        ("Sales", "Customer service", "Logistics", "Finance"),
        True,
        "planned",
    ),
)
VENUES = ("Poznań, sala szkoleniowa 2", "Warszawa, oddział Wola", "Wrocław, sala konferencyjna")
ATTEND_SHARE = 0.85
STEERING_MISSED = (-150, -60)  # roughly the months management did not come
BENEFIT_DEMOS = (-20, -6, 90, 120, 150)  # days from today; go-live is at +75
WORKSHOPS = (
    (-205, "Warsztat: proces ofertowania"),
    (-198, "Warsztat: obsługa reklamacji"),
    (-191, "Warsztat: dostawy i terminy"),
    (-184, "Warsztat: raporty dla zarządu"),
    (-177, "Warsztat: dane klientów i NIP"),
    (-170, "Warsztat: aplikacja mobilna"),
)
WORKSHOP_DEPARTMENTS = {
    "Warsztat: proces ofertowania": ("Sales",),
    "Warsztat: obsługa reklamacji": ("Customer service",),
    "Warsztat: dostawy i terminy": ("Logistics",),
    "Warsztat: raporty dla zarządu": ("Board", "Sales"),
    "Warsztat: dane klientów i NIP": ("Sales", "Customer service"),
    "Warsztat: aplikacja mobilna": ("Sales",),
}


def _at(today: date, days: int, hour: int = 9) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(hour), UTC)


@dataclass
class _Plan:
    session: Session
    people: dict[str, Person]
    actors: dict[str, Actor]
    today: date
    rng: random.Random
    out: list[Event] = field(default_factory=list)
    staff: dict[str, int] = field(default_factory=dict)

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if when <= datetime.combine(self.today, time(18), UTC):
            self.out.append((when, step))

    def project(self) -> int:
        from crm_impl.rollout import demo as demo_plan

        return int(demo_plan.project_id(session=self.session) or 0)

    def in_departments(self, departments: tuple[str, ...], *, licensed: bool = True) -> list[Person]:
        query = select(Person).where(col(Person.department).in_(departments), col(Person.side) == "client")
        if licensed:
            query = query.where(col(Person.licensed_user))
        return list(self.session.exec(query.order_by(col(Person.id))).all())


def events(
    *, session: Session, people: dict[str, Person], actors: dict[str, Actor], today: date, seed: int = 7
) -> list[Event]:
    """Training and meetings as dated steps. `people` and `actors` (by demo login) may still be
    filling up when this is called: the steps read them when they run."""
    plan = _Plan(session, people, actors, today, random.Random(seed * 7919 + 10))
    _staff(plan)
    for n, spec in enumerate(SESSIONS):
        _session(plan, n, *spec)
    _meetings(plan)
    return plan.out


def _staff(plan: _Plan) -> None:
    def add() -> None:
        for name, department in STAFF:
            person = project_service.create_person(
                session=plan.session,
                actor=plan.actors["admin"],
                data=PersonCreate(full_name=name, side="client", department=department, licensed_user=True),
            )
            plan.staff[name] = int(person.id or 0)

    plan.at(_at(plan.today, -214, 11), add)


def _excluded(plan: _Plan, days: int) -> set[int]:
    never = {plan.staff[n] for n in NEVER_INVITED if n in plan.staff}
    late = {int(plan.people[login].id or 0) for login in LATE_LOGINS if login in plan.people}
    return never | (late if days != -1 else set())


def _session(
    plan: _Plan,
    n: int,
    days: int,
    title: str,
    module: str,
    audience: tuple[str, ...],
    online: bool,
    status: str,
) -> None:
    state: dict[str, int] = {}
    trainer = plan.actors.get
    rng = random.Random(plan.rng.random() + n)

    def create() -> None:
        row = services.create_session(
            session=plan.session,
            actor=trainer("trainer") or plan.actors["pm_vendor"],
            project_id=plan.project(),
            data=TrainingSessionCreate(
                title=title,
                module=module,
                session_date=plan.today + timedelta(days=days),
                duration_minutes=(90, 120, 180, 240)[n % 4],
                trainer_id=plan.people["trainer"].id,
                audience=list(audience),
                online=online,
                venue="Microsoft Teams" if online else VENUES[n % len(VENUES)],
            ),
        )
        state["id"], state["version"] = int(row.id or 0), row.version
        excluded = _excluded(plan, days)
        invited = [int(p.id or 0) for p in plan.in_departments(audience) if p.id not in excluded]
        if status != "cancelled" and invited:
            services.invite(
                session=plan.session, actor=plan.actors["trainer"], session_id=state["id"], person_ids=invited
            )

    def held() -> None:
        row = services.update_session(
            session=plan.session,
            actor=plan.actors["trainer"],
            session_id=state["id"],
            expected_version=state["version"],
            data=TrainingSessionUpdate(status="cancelled" if status == "cancelled" else "held"),
        )
        state["version"] = row.version
        if status != "held":
            return
        invitations = services.attendance_of(session=plan.session, session_id=state["id"])
        records = []
        for a in invitations:
            went = rng.random() < ATTEND_SHARE
            score = max(20, min(100, round(rng.gauss(76, 13)))) if went else None
            records.append(
                AttendanceRecord(
                    person_id=a.person_id, attended=went, score=score, expected_version=a.version
                )
            )
        services.record_attendance(
            session=plan.session, actor=plan.actors["trainer"], session_id=state["id"], records=records
        )

    plan.at(_at(plan.today, min(days - 14, -1), 10), create)  # put in the calendar two weeks ahead
    if status == "cancelled":
        plan.at(_at(plan.today, days - 2, 12), held)
    elif status == "held":
        plan.at(_at(plan.today, days + 1, 8), held)
    elif status == "held_unrecorded":

        def mark() -> None:
            row = services.update_session(
                session=plan.session,
                actor=plan.actors["trainer"],
                session_id=state["id"],
                expected_version=state["version"],
                data=TrainingSessionUpdate(status="held"),
            )
            state["version"] = row.version

        plan.at(_at(plan.today, days, 16), mark)


def _ids(people: list[Person]) -> list[int]:
    return [int(p.id or 0) for p in people]


def _meeting(plan: _Plan, login: str, days: int, data: Callable[[], MeetingCreate]) -> None:
    def run() -> None:
        services.create_meeting(
            session=plan.session, actor=plan.actors[login], project_id=plan.project(), data=data()
        )

    plan.at(_at(plan.today, min(days, -1), 15), run)  # a meeting ahead is put in the calendar now


def _meetings(plan: _Plan) -> None:
    p = plan.people
    board = ("management", "pm_client", "pm_vendor")
    for month in range(12):
        days = -208 + 30 * month
        present = not any(abs(days - missed) < 15 for missed in STEERING_MISSED)

        def steering(days: int = days, present: bool = present, month: int = month) -> MeetingCreate:
            who = [login for login in board if login != "management" or present]
            return MeetingCreate(
                kind="steering",
                title=f"Komitet sterujący #{month + 1}",
                meeting_date=plan.today + timedelta(days=days),
                management_present=present,
                decisions="Harmonogram bez zmian; ryzyka omówione." if days < 0 else "",
                notes="" if present else "Zarząd nieobecny – decyzje budżetowe odłożone.",
                attendee_ids=[int(p[login].id or 0) for login in who],
            )

        _meeting(plan, "pm_client", days, steering)
    for days, title in WORKSHOPS:

        def workshop(days: int = days, title: str = title) -> MeetingCreate:
            staff = plan.in_departments(WORKSHOP_DEPARTMENTS[title], licensed=False)
            chosen = [q for i, q in enumerate(staff) if i % 2 == 0]  # every other employee takes part
            return MeetingCreate(
                kind="workshop",
                title=title,
                meeting_date=plan.today + timedelta(days=days),
                notes="Uwagi pracowników zebrane przez analityka; pomysły przekazane PM klienta.",
                attendee_ids=[*_ids(chosen), int(p["analyst"].id or 0)],
            )

        _meeting(plan, "analyst", days, workshop)
    for days in range(-3, -40, -14):

        def practice(days: int = days) -> MeetingCreate:
            return MeetingCreate(
                kind="motivation",
                title="Ćwiczenia: praca na prawdziwych danych",
                meeting_date=plan.today + timedelta(days=days),
                management_present=days == -31,
                notes="Przykłady z codziennej pracy handlowców.",
                attendee_ids=_ids(plan.in_departments(("Sales",))),
            )

        _meeting(plan, "trainer", days, practice)
    for days in BENEFIT_DEMOS:

        def demo(days: int = days) -> MeetingCreate:
            return MeetingCreate(
                kind="benefit_demo",
                title="Co zyskujemy z CRM",
                meeting_date=plan.today + timedelta(days=days),
                management_present=True,
                benefits_shown="Oferta w 15 minut zamiast 2 godzin; saldo z ERP bez telefonu do księgowości."
                if days < 0
                else "",
                attendee_ids=_ids(plan.in_departments(("Sales", "Customer service", "Board"))),
            )

        _meeting(plan, "pm_client", days, demo)
