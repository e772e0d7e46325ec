"""The demo company's budget, written through the budget services as it happened.

The day after the phases are planned the client PM enters the budget (1,490,000 PLN): one line
per stage of slide 10 except modifications — nobody budgeted the changes after go-live, which
the findings point out — plus licences and consulting; training gets 210,000 PLN, 14.1 % of the
total, a little under the project's 15–20 % band. Invoices are posted as the phases run;
analysis (closed when it ended), programming and consulting overrun their plans and the vendor
PM raises their forecasts. On the first day of every month the vendor PM freezes the previous
month's earned value, so the history shows the % complete as it was reported then.

`events` returns dated steps (deterministic per reference date); `crm_impl.demo.load` runs them
with every other domain's, in time order, inside `crm_impl.core.clock.at(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from crm_impl.budget import metrics, services
from crm_impl.budget.models import (
    DEFAULT_TRAINING_SOURCE,
    BudgetLineCreate,
    BudgetLineUpdate,
    BudgetSettingsUpdate,
    CostPostingCreate,
)
from crm_impl.core.permissions import Actor
from crm_impl.rollout.models import Phase

Event = tuple[datetime, Callable[[], None]]

VENDOR = "Softronik CRM Solutions sp. z o.o."
# key, name, category, phase kind (None: the whole project), planned, committed
LINES: tuple[tuple[str, str, str, str | None, int, int], ...] = (
    ("analysis", "Analiza przedwdrożeniowa", "analysis", "analysis", 140_000, 140_000),
    ("programming", "Programowanie i konfiguracja", "programming", "programming", 520_000, 520_000),
    ("testing", "Testy (dostawca i klient)", "testing", "testing", 150_000, 150_000),
    ("deployment", "Wdrożenie w 16 oddziałach", "deployment", "deployment", 120_000, 0),
    ("training", "Szkolenia użytkowników", "training", "training", 210_000, 60_000),
    ("maintenance", "Utrzymanie – pierwszy rok", "maintenance", "maintenance", 110_000, 0),
    ("licences", "Licencje CRM (120 użytkowników)", "licences", None, 180_000, 180_000),
    ("consulting", "Doradztwo procesowe", "consulting", None, 60_000, 60_000),
)
# day (from today), line key, amount, supplier, document number, description
POSTINGS: tuple[tuple[int, str, str, str, str, str], ...] = (
    (
        -200,
        "licences",
        "180000.00",
        "CRM Software Polska sp. z o.o.",
        "FV/L/0412",
        "Licencje CRM – 120 stanowisk",
    ),
    (-190, "consulting", "18400.00", "Nowak Doradztwo sp.k.", "F/118/D", "Warsztaty procesów sprzedaży"),
    (-180, "analysis", "70000.00", VENDOR, "FV/S/1021", "Analiza – etap 1"),
    (-164, "analysis", "86800.00", VENDOR, "FV/S/1077", "Analiza – etap 2 z poprawkami"),
    (-140, "programming", "130000.00", VENDOR, "FV/S/1130", "Konfiguracja – sprint 1–3"),
    (-130, "consulting", "24500.00", "Nowak Doradztwo sp.k.", "F/164/D", "Mapowanie procesów logistyki"),
    (-110, "programming", "140000.00", VENDOR, "FV/S/1188", "Konfiguracja – sprint 4–6"),
    (-80, "programming", "150000.00", VENDOR, "FV/S/1240", "Interfejsy ERP"),
    (-70, "consulting", "25000.00", "Nowak Doradztwo sp.k.", "F/201/D", "Przegląd procesów po konfiguracji"),
    (-56, "programming", "128000.00", VENDOR, "FV/S/1297", "Konfiguracja – odbiór"),
    (-40, "testing", "46000.00", VENDOR, "FV/S/1333", "Testy wersji 1.0 i 1.1"),
    (-12, "testing", "50000.00", VENDOR, "FV/S/1389", "Testy wersji 1.2"),
    (-3, "training", "12500.00", "Centrum Szkoleń Proszkol", "FV/2/11/PS", "Materiały szkoleniowe"),
)
# day, line key, changes (the vendor PM's forecasts, the client PM closing analysis)
UPDATES: tuple[tuple[int, str, str, BudgetLineUpdate], ...] = (
    (-160, "analysis", "pm_client", BudgetLineUpdate(status="closed")),
    (-100, "maintenance", "pm_client", BudgetLineUpdate(committed=Decimal(110_000))),
    (-65, "consulting", "pm_vendor", BudgetLineUpdate(forecast=Decimal(72_000))),
    (-50, "programming", "pm_vendor", BudgetLineUpdate(forecast=Decimal(575_000))),
)


def _at(today: date, days: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(hour, minute), UTC)


@dataclass
class _State:
    project_id: int = 0
    lines: dict[str, int] = field(default_factory=dict)


class _Plan:
    def __init__(self, session: Session, actors: dict[str, Actor], today: date) -> None:
        self.session, self.actors, self.today = session, actors, today
        self.now = datetime.combine(today, time(18), UTC)
        self.state = _State()
        self.out: list[Event] = []

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        if when <= self.now:
            self.out.append((when, step))

    def project(self) -> int:
        if not self.state.project_id:
            from crm_impl.rollout import demo as demo_plan

            self.state.project_id = int(demo_plan.project_id(session=self.session) or 0)
        return self.state.project_id

    def phase(self, kind: str | None) -> int | None:
        if kind is None:
            return None
        return self.session.exec(
            select(Phase.id).where(col(Phase.project_id) == self.project(), col(Phase.kind) == kind)
        ).first()


def events(*, session: Session, actors: dict[str, Actor], today: date) -> list[Event]:
    """The budget as dated steps. `actors` (by demo login) may still be filling up when this is
    called: the steps read it when they run."""
    plan = _Plan(session, actors, today)
    _settings(plan)
    _lines(plan)
    _postings(plan)
    _updates(plan)
    _snapshots(plan)
    return plan.out


def _settings(plan: _Plan) -> None:
    def run() -> None:
        services.update_settings(
            session=plan.session,
            actor=plan.actors["pm_client"],
            project_id=plan.project(),
            expected_version=0,
            data=BudgetSettingsUpdate(
                training_share_low=0.15, training_share_high=0.20, training_source=DEFAULT_TRAINING_SOURCE
            ),
        )

    plan.at(_at(plan.today, -212, 9), run)


def _lines(plan: _Plan) -> None:
    for n, (key, name, category, kind, planned, committed) in enumerate(LINES):

        def run(
            key: str = key,
            name: str = name,
            category: str = category,
            kind: str | None = kind,
            planned: int = planned,
            committed: int = committed,
        ) -> None:
            line = services.create_line(
                session=plan.session,
                actor=plan.actors["pm_client"],
                project_id=plan.project(),
                data=BudgetLineCreate(
                    name=name,
                    category=category,
                    phase_id=plan.phase(kind),
                    planned=Decimal(planned),
                    committed=Decimal(committed),
                ),
            )
            plan.state.lines[key] = int(line.id or 0)

        plan.at(_at(plan.today, -212, 10, 3 * n), run)


def _postings(plan: _Plan) -> None:
    for day, key, amount, supplier, document, description in POSTINGS:

        def run(
            day: int = day,
            key: str = key,
            amount: str = amount,
            supplier: str = supplier,
            document: str = document,
            description: str = description,
        ) -> None:
            services.add_posting(
                session=plan.session,
                actor=plan.actors["pm_client"],
                project_id=plan.project(),
                data=CostPostingCreate(
                    line_id=plan.state.lines[key],
                    posted_on=plan.today + timedelta(days=day),
                    amount=Decimal(amount),
                    supplier=supplier,
                    description=description,
                    document_number=document,
                ),
            )

        plan.at(_at(plan.today, day, 11), run)


def _updates(plan: _Plan) -> None:
    for day, key, login, changes in UPDATES:

        def run(key: str = key, login: str = login, changes: BudgetLineUpdate = changes) -> None:
            services.update_line(
                session=plan.session,
                actor=plan.actors[login],
                line_id=plan.state.lines[key],
                expected_version=None,
                data=changes,
            )

        plan.at(_at(plan.today, day, 12), run)


def _snapshots(plan: _Plan) -> None:
    """The vendor PM's monthly job: each month's figures frozen on the 1st of the next month."""
    month = metrics.month_start(plan.today - timedelta(days=212))
    last = metrics.last_closed_month(plan.today)
    while month <= last:
        first_next = metrics.month_end(month) + timedelta(days=1)

        def run(month: date = month) -> None:
            services.take_snapshot(
                session=plan.session, actor=plan.actors["pm_vendor"], project_id=plan.project(), month=month
            )

        plan.at(datetime.combine(first_next, time(7), UTC), run)
        month = first_next
