"""The demo company's testing, written through the defects services as it happened.

The vendor PM plans four releases (1.0, 1.1, 1.2, 2.0) spread over the rollout plan's testing
phase; each goes into test on its day, and the three older ones through the go-live gate. The
vendor tester files most defects (arrivals peak a few weeks into testing), the client tester
finds some on real data from 1.1 on; the vendor PM confirms the client's, triages some away
(rejected, duplicate, won't fix with a resolution comment) and assigns the rest to the
programmer, who fixes them into the next build; the vendor tester retests on that release,
verifies (or reopens: the fix did not hold, and the PM moves the target to the next release) and
closes; real-data defects need the client tester's sign-off first. Test runs per release show
pass rates rising; the client tester records acceptance of the business processes on real data.
Release 2.0 is the one the gate blocks: critical defects found in its test are still open when
the PM asks for go-live.

`events` returns dated steps (deterministic per seed and reference date); `crm_impl.demo.load`
runs them with every other domain's, in time order, inside `crm_impl.core.clock.at(...)`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from crm_impl.core.permissions import Actor
from crm_impl.defects import services
from crm_impl.defects.models import (
    AcceptanceCreate,
    DefectCreate,
    DefectTransition,
    DefectUpdate,
    ReleaseCreate,
    TestRunCreate,
)

Event = tuple[datetime, Callable[[], None]]

# name, goes into test (days from today), ready for go-live, released (None: not yet)
RELEASES: tuple[tuple[str, int, int | None, int | None], ...] = (
    ("1.0", -56, -42, -40),
    ("1.1", -40, -26, -24),
    ("1.2", -24, -9, None),
    ("2.0", -8, None, None),
)
BLOCKED = "2.0"  # the PM asks for go-live the day before today; the gate refuses
FIRST_DAY, LAST_DAY = -56, -1
MODULES = (
    "Offers",
    "Leads",
    "Orders",
    "ERP interface",
    "Complaints",
    "Reports",
    "Mobile",
    "Accounts",
    "Marketing",
)
PROBLEMS = (
    "{m}: zapis nie działa, gdy pole „{f}” jest puste",
    "{m}: błędne zaokrąglenie kwoty w polu „{f}”",
    "{m}: saving fails when “{f}” holds Polish letters (ą, ę, ł)",
    "{m}: list is not sorted by “{f}”",
    "{m}: filtr po polu „{f}” zwraca za dużo rekordów",
    "{m}: “{f}” shown in English in the Polish version",
    "{m}: timeout after 30 s when opening “{f}”",
    "{m}: uprawnienia – handlowiec widzi „{f}” innego oddziału",
    "{m}: export to Excel loses “{f}”",
    "{m}: data z ERP w polu „{f}” przesunięta o jeden dzień",
    "{m}: double click on “{f}” creates two records",
    "{m}: komunikat błędu bez nazwy pola („{f}”)",
)
FIELDS = (
    "rabat",
    "NIP",
    "termin dostawy",
    "oddział",
    "saldo",
    "osoba kontaktowa",
    "kod pocztowy",
    "price list",
    "delivery date",
    "credit limit",
    "status",
    "branch",
)
SEVERITY_WEIGHTS = (("blocker", 3), ("critical", 9), ("major", 36), ("minor", 37), ("trivial", 15))
PRIORITY_OF = {"blocker": "P1", "critical": "P1", "major": "P2", "minor": "P3", "trivial": "P4"}
TRIAGE = (  # share, status, resolution comment
    (0.04, "rejected", "Działa zgodnie ze specyfikacją wymagań (wymaganie zatwierdzone przez klienta)."),
    (0.03, "wont_fix", "Not worth fixing before go-live; revisit in the modifications phase."),
    (0.04, "duplicate", "Zgłoszone już wcześniej."),
)
REOPEN_SHARE = 0.13
REAL_DATA_SHARE = 0.22  # of the defects found from 1.1 on
CASES = 140  # test cases in a vendor run (the client's real-data run has fewer)


def _at(today: date, days: float) -> datetime:
    """`days` (fractional) from today at 08:00 UTC."""
    return datetime.combine(today, time(8), UTC) + timedelta(days=days)


@dataclass
class _State:
    project_id: int = 0
    releases: dict[str, int] = field(default_factory=dict)
    defects: dict[int, int] = field(default_factory=dict)  # plan index -> defect id


class _Plan:
    def __init__(self, session: Session, actors: dict[str, Actor], today: date) -> None:
        self.session, self.actors, self.today = session, actors, today
        self.now = datetime.combine(today, time(18), UTC)
        self.state = _State()
        self.out: list[Event] = []

    def at(self, days: float, step: Callable[[], None]) -> None:
        when = _at(self.today, days)
        if when <= self.now:
            self.out.append((when, step))

    def actor(self, login: str) -> Actor:
        return self.actors[login]

    def project(self) -> int:
        if not self.state.project_id:
            from crm_impl.rollout import demo as demo_plan

            self.state.project_id = int(demo_plan.project_id(session=self.session) or 0)
        return self.state.project_id


def events(
    *, session: Session, actors: dict[str, Actor], today: date, count: int = 300, seed: int = 7
) -> list[Event]:
    """The testing phase as dated steps. `actors` (by demo login) may still be filling up when
    this is called: the steps read it when they run."""
    rng = random.Random(seed * 1009 + 9)
    plan = _Plan(session, actors, today)
    _releases(plan)
    _defects(plan, rng, count)
    _test_runs(plan, rng)
    _acceptance(plan, rng)
    return plan.out


# ---------------------------------------------------------------- releases


def _release_step(
    plan: _Plan, name: str, status: str, *, gate_may_refuse: bool = False
) -> Callable[[], None]:
    def run() -> None:
        try:
            services.set_release_status(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                release_id=plan.state.releases[name],
                expected_version=None,
                status=status,
            )
        except services.ReleaseBlocked:
            if not gate_may_refuse:
                raise

    return run


def _releases(plan: _Plan) -> None:
    for n, (name, start, ready, released) in enumerate(RELEASES):

        def create(name: str = name, start: int = start) -> None:
            row = services.create_release(
                session=plan.session,
                actor=plan.actor("pm_vendor"),
                project_id=plan.project(),
                data=ReleaseCreate(
                    name=name,
                    planned_date=plan.today + timedelta(days=start),
                    notes="Wersja testowa dla Budmax" if name != "2.0" else "Release for go-live",
                ),
            )
            plan.state.releases[name] = int(row.id or 0)

        plan.at(FIRST_DAY - 6 + n * 0.01, create)
        plan.at(start - 0.05, _release_step(plan, name, "in_test"))
        if ready is not None:
            plan.at(ready + 0.4, _release_step(plan, name, "ready"))
        if released is not None:
            plan.at(released + 0.2, _release_step(plan, name, "released"))
    plan.at(LAST_DAY + 0.3, _release_step(plan, BLOCKED, "ready", gate_may_refuse=True))


def _release_for_fix(after: float) -> str:
    """The first build going into test after a fix made at `after`; the last release, in test
    now, takes later fixes as patch builds."""
    for name, start, _ready, _released in RELEASES:
        if start > after + 0.3:
            return name
    return RELEASES[-1][0]


def _release_found(day: float) -> str:
    found = RELEASES[0][0]
    for name, start, _ready, _released in RELEASES:
        if start <= day:
            found = name
    return found


def _start(name: str) -> int:
    return next(start for n, start, _r, _rel in RELEASES if n == name)


# ---------------------------------------------------------------- defects


def _arrival(rng: random.Random) -> float:
    """Report day: a peak some three weeks into testing, tailing off towards today."""
    return min(LAST_DAY + 0.3, FIRST_DAY + 0.2 + rng.triangular(0, -FIRST_DAY, 18))


def _defects(plan: _Plan, rng: random.Random, count: int) -> None:
    days = sorted(_arrival(rng) for _ in range(count))
    # 2.0's test finds critical defects in its last days: still open when the PM asks for go-live
    late = (LAST_DAY - 4.6, LAST_DAY - 2.4, LAST_DAY - 1.2)
    days = sorted(days[: count - len(late)] + list(late))
    severities = [s for s, _w in SEVERITY_WEIGHTS]
    weights = [w for _s, w in SEVERITY_WEIGHTS]
    eligible = 0  # found from 1.1 on: the client tester finds a steady share of them
    for i, day in enumerate(days):
        found = _release_found(day)
        client = False
        if found != RELEASES[0][0]:
            eligible += 1
            client = int(eligible * REAL_DATA_SHARE) > int((eligible - 1) * REAL_DATA_SHARE)
        severity = rng.choices(severities, weights)[0]
        forced = day in late
        if forced:
            severity = "critical"
        module = rng.choice(MODULES)
        title = rng.choice(PROBLEMS).format(m=module, f=rng.choice(FIELDS))
        _one(plan, rng, i, day, found, client, severity, module, title, days, forced)


def _one(
    plan: _Plan,
    rng: random.Random,
    i: int,
    day: float,
    found: str,
    client: bool,
    severity: str,
    module: str,
    title: str,
    days: list[float],
    forced: bool = False,
) -> None:
    state = plan.state
    reporter = "tester_client" if client else "tester"
    # when it will be fixed decides its target release (the PM's planning, known in advance)
    t = day + rng.uniform(0.1, 1.0)  # confirmed
    triage = rng.random()
    fate = None
    edge = 0.0
    for share, status, comment in TRIAGE:
        edge += share
        if triage < edge and not forced:
            fate = (status, comment)
            break
    assign_at = t + rng.uniform(0.2, 1.5)
    start_at = assign_at + rng.uniform(0.2, 2.0)
    fix_at = start_at + rng.uniform(0.5, 4.0) * (1.5 if severity in ("minor", "trivial") else 1.0)
    target = _release_for_fix(fix_at)

    def report() -> None:
        row = services.report_defect(
            session=plan.session,
            actor=plan.actor(reporter),
            project_id=plan.project(),
            data=DefectCreate(
                title=title,
                steps="1. Zaloguj się jako handlowiec\n2. Otwórz moduł „" + module + "”\n3. Zapisz rekord",
                expected="Rekord zapisany, dane poprawne." if rng.random() < 0.5 else "The record is saved.",
                actual="Komunikat błędu albo błędne dane.",
                severity=severity,
                priority=PRIORITY_OF[severity],
                module=module,
                reproducibility=rng.choice(("always", "always", "sometimes", "once")),
                environment="real_data" if client else "test_data",
                found_in_release_id=state.releases[found],
                target_release_id=state.releases[target],
                links=f"TC-{rng.randint(100, 999)}" if rng.random() < 0.3 else "",
            ),
        )
        state.defects[i] = int(row.id or 0)

    plan.at(day, report)
    # the vendor tester confirms their own; the vendor PM confirms what the client found
    plan.at(t, _move(plan, i, "pm_vendor" if client else "tester", DefectTransition(to_status="confirmed")))
    if fate is not None:
        status, comment = fate
        dup = None
        if status == "duplicate":
            earlier = [j for j in range(i) if days[j] < day - 0.05]
            dup = rng.choice(earlier) if earlier else None
            if dup is None:
                status, comment = "rejected", TRIAGE[0][2]
        plan.at(t + rng.uniform(0.1, 1.0), _triage(plan, i, status, comment, dup))
        return
    plan.at(
        assign_at,
        _move(plan, i, "pm_vendor", DefectTransition(to_status="assigned"), assignee="programmer"),
    )
    plan.at(start_at, _move(plan, i, "programmer", DefectTransition(to_status="in_progress")))
    reopens = 0
    while True:
        fixed_in = _release_for_fix(fix_at)
        plan.at(fix_at, _fixed(plan, i, fixed_in))
        retest = max(_start(fixed_in), fix_at) + rng.uniform(0.2, 5.0)
        plan.at(retest, _move(plan, i, "tester", DefectTransition(to_status="in_retest")))
        if reopens < 2 and rng.random() < (REOPEN_SHARE if reopens == 0 else 0.3):
            reopens += 1
            back = retest + rng.uniform(0.05, 0.8)
            comment = (
                "Poprawka nie działa na wersji " + fixed_in + "." if rng.random() < 0.6 else "Still fails."
            )
            plan.at(back, _move(plan, i, "tester", DefectTransition(to_status="reopened", comment=comment)))
            start_at = back + rng.uniform(0.2, 1.5)
            fix_at = start_at + rng.uniform(0.5, 3.0)
            # the PM moves the target to the build the new fix will be in
            plan.at(back + 0.02, _retarget(plan, i, _release_for_fix(fix_at)))
            plan.at(start_at, _move(plan, i, "programmer", DefectTransition(to_status="in_progress")))
            continue
        verified = retest + rng.uniform(0.1, 1.5)
        plan.at(
            verified,
            _move(
                plan, i, "tester", DefectTransition(to_status="verified", release_id=None), release=fixed_in
            ),
        )
        close_at = verified + rng.uniform(0.2, 3.0)
        if client:
            signoff = verified + rng.uniform(0.2, 1.5)
            plan.at(signoff, _signoff(plan, i))
            close_at = signoff + rng.uniform(0.1, 2.0)
        if rng.random() < 0.85:
            plan.at(close_at, _move(plan, i, "tester", DefectTransition(to_status="closed")))
        return


def _move(
    plan: _Plan,
    i: int,
    login: str,
    data: DefectTransition,
    *,
    assignee: str | None = None,
    release: str | None = None,
) -> Callable[[], None]:
    def run() -> None:
        step = data
        if assignee is not None:
            step = data.model_copy(update={"assignee_id": plan.actor(assignee).id})
        if release is not None:
            step = data.model_copy(update={"release_id": plan.state.releases[release]})
        services.transition(
            session=plan.session,
            actor=plan.actor(login),
            defect_id=plan.state.defects[i],
            expected_version=None,
            data=step,
        )

    return run


def _fixed(plan: _Plan, i: int, release: str) -> Callable[[], None]:
    return _move(plan, i, "programmer", DefectTransition(to_status="fixed"), release=release)


def _triage(plan: _Plan, i: int, status: str, comment: str, dup: int | None) -> Callable[[], None]:
    def run() -> None:
        services.transition(
            session=plan.session,
            actor=plan.actor("pm_vendor"),
            defect_id=plan.state.defects[i],
            expected_version=None,
            data=DefectTransition(
                to_status=status,
                comment=comment,
                duplicate_of_id=plan.state.defects[dup] if dup is not None else None,
            ),
        )

    return run


def _retarget(plan: _Plan, i: int, release: str) -> Callable[[], None]:
    def run() -> None:
        services.update_defect(
            session=plan.session,
            actor=plan.actor("pm_vendor"),
            defect_id=plan.state.defects[i],
            expected_version=None,
            data=DefectUpdate(target_release_id=plan.state.releases[release]),
        )

    return run


def _signoff(plan: _Plan, i: int) -> Callable[[], None]:
    def run() -> None:
        services.client_signoff(
            session=plan.session,
            actor=plan.actor("tester_client"),
            defect_id=plan.state.defects[i],
            expected_version=None,
        )

    return run


# ---------------------------------------------------------------- test runs and acceptance


def _test_runs(plan: _Plan, rng: random.Random) -> None:
    base = {"1.0": 0.70, "1.1": 0.79, "1.2": 0.87, "2.0": 0.90}
    for name, start, _ready, _released in RELEASES:
        for k, offset in enumerate((1, 5, 10)):
            rate = min(0.99, base[name] + 0.025 * k + rng.uniform(-0.01, 0.01))
            _run(plan, rng, name, start + offset + 0.3, "tester", "test_data", CASES, rate)
        if name != "1.0":  # the client tester checks every release from 1.1 on real data
            rate = min(0.98, base[name] - 0.04 + rng.uniform(-0.01, 0.01))
            _run(plan, rng, name, start + 7 + 0.4, "tester_client", "real_data", 60, rate)


def _run(
    plan: _Plan,
    rng: random.Random,
    release: str,
    day: float,
    login: str,
    environment: str,
    cases: int,
    rate: float,
) -> None:
    passed = round(cases * rate)
    blocked = min(cases - passed, rng.randint(0, 4))
    failed = cases - passed - blocked
    notes = "Regresja po buildzie" if environment == "test_data" else "Testy na kopii danych produkcyjnych"

    def run() -> None:
        services.record_test_run(
            session=plan.session,
            actor=plan.actor(login),
            project_id=plan.project(),
            data=TestRunCreate(
                release_id=plan.state.releases[release],
                environment=environment,
                run_on=plan.today + timedelta(days=int(day)),
                passed=passed,
                failed=failed,
                blocked=blocked,
                notes=notes,
            ),
        )

    plan.at(day, run)


def _acceptance(plan: _Plan, rng: random.Random) -> None:
    remarks = (
        "Drobne uwagi do nazw pól; do poprawy w kolejnej wersji.",
        "Raport działa, ale wolno na pełnych danych (ok. 20 s).",
        "Brakuje filtra po oddziale.",
    )
    for name, share_ok in (("1.1", 0.5), ("1.2", 0.8)):
        day = _start(name) + 12.5

        def record(name: str = name, share_ok: float = share_ok, seed: float = rng.random()) -> None:
            local = random.Random(seed)
            pid = plan.project()
            for process in services.business_processes(session=plan.session, project_id=pid):
                roll = local.random()
                decision = (
                    "accepted" if roll < share_ok else "accepted_with_remarks" if roll < 0.93 else "rejected"
                )
                services.record_acceptance(
                    session=plan.session,
                    actor=plan.actor("tester_client"),
                    project_id=pid,
                    data=AcceptanceCreate(
                        release_id=plan.state.releases[name],
                        business_process=process,
                        decision=decision,
                        remarks="" if decision == "accepted" else local.choice(remarks),
                    ),
                )

        plan.at(day, record)
