"""A believable demo company: Budmax, a Polish building-materials distributor rolling out a CRM
with an outside vendor (Softronik). Deterministic for a given seed and reference date.

Loaded in bulk for speed (thousands of rows in a couple of seconds); it runs only on an empty
database and leaves one audit entry saying what it loaded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from crm_impl.core import audit
from crm_impl.core.auth import hash_password
from crm_impl.core.models import Person, Project, UserAccount
from crm_impl.core.permissions import SYSTEM
from crm_impl.pipeline import demo as demo_pipeline
from crm_impl.pipeline.models import Account, Activity, Contact, Deal, StageChange, StageDefinition
from crm_impl.pipeline.services.stages import ensure_default_stages
from crm_impl.rollout import demo as demo_plan
from crm_impl.rollout.models import RoleAssignment

DEMO_PASSWORD = "demo-pass-2026"
PROJECT_NAME = "Budmax CRM 2026"

FIRST = [
    "Anna",
    "Piotr",
    "Katarzyna",
    "Tomasz",
    "Magdalena",
    "Paweł",
    "Agnieszka",
    "Michał",
    "Joanna",
    "Krzysztof",
    "Ewa",
    "Marcin",
    "Barbara",
    "Łukasz",
    "Monika",
    "Grzegorz",
    "Aleksandra",
    "Jakub",
    "Natalia",
    "Wojciech",
    "Zofia",
    "Adam",
    "Karolina",
    "Rafał",
]
LAST = [
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Kwiatkowski",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Nowakowski",
    "Pawłowski",
]
CITIES = [
    "Warszawa",
    "Kraków",
    "Łódź",
    "Wrocław",
    "Poznań",
    "Gdańsk",
    "Szczecin",
    "Bydgoszcz",
    "Lublin",
    "Katowice",
    "Białystok",
    "Rzeszów",
    "Kielce",
    "Olsztyn",
    "Opole",
    "Toruń",
]
SECTORS = ["construction", "developer", "retail", "installation", "roofing", "public", "industry"]
NAME_A = [
    "Bud",
    "Dom",
    "Stal",
    "Mur",
    "Dach",
    "Tech",
    "Inwest",
    "Term",
    "Eko",
    "Pol",
    "Mega",
    "Kam",
    "Drew",
    "Bet",
    "Graf",
    "Sys",
    "Max",
    "Nova",
    "Pro",
    "Uni",
]
NAME_B = ["ex", "mar", "pol", "bud", "dom", "serwis", "trans", "plan", "met", "kon", "gal", "tech"]
FORMS = ["sp. z o.o.", "S.A.", "sp.j.", "sp. k.", "s.c."]
PRODUCTS = ["cement", "roof tiles", "insulation", "drywall", "bricks", "steel", "windows", "tiles"]

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


@dataclass
class DemoSummary:
    users: int
    people: int
    accounts: int
    contacts: int
    deals: int
    stage_changes: int
    activities: int


def nip_for(rng: random.Random) -> str:
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _person_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if first.endswith("a") and last.endswith("ski"):
        last = last[:-1] + "a"
    return f"{first} {last}"


def _ascii(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    return text.translate(table).lower()


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(8 + rng.randint(0, 9), rng.randint(0, 59)), UTC)


def is_empty(session: Session) -> bool:
    return session.exec(select(UserAccount.id).limit(1)).first() is None


def load(
    *,
    session: Session,
    seed: int = 7,
    accounts: int = 300,
    deals: int = 1500,
    today: date | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo company. Commits."""
    rng = random.Random(seed)
    today = today or date.today()
    ensure_default_stages(session=session)
    stages = {s.key: s for s in session.exec(select(StageDefinition)).all()}

    project = Project(
        name=PROJECT_NAME,
        client_name="Budmax Dystrybucja sp. z o.o.",
        vendor_name="Softronik CRM Solutions sp. z o.o.",
        description="CRM rollout for sales, logistics and customer service in 16 branches.",
        start_date=today - timedelta(days=210),
        go_live_date=today + timedelta(days=75),
        currency="PLN",
        baseline_effort_days=Decimal(620),
        baseline_cost=Decimal(1_450_000),
    )
    session.add(project)
    session.flush()

    password_hash = hash_password(DEMO_PASSWORD)
    users: list[UserAccount] = []
    people: list[Person] = []
    team_rows = list(TEAM) + [
        (f"rep{i}", ("sales_rep",), "client", "Sales", ("end_user",)) for i in range(1, EXTRA_REPS + 1)
    ]
    for login, roles, side, dept, _ in team_rows:
        name = _person_name(rng)
        company = "budmax.pl" if side == "client" else "softronik.pl"
        email = f"{_ascii(name).replace(' ', '.')}.{login}@{company}"
        person = Person(
            full_name=name,
            email=email,
            side=side,
            department=dept,
            experience_years=rng.randint(1, 18) if side == "vendor" else rng.randint(0, 25),
            licensed_user=side == "client" or "admin" in roles,
        )
        session.add(person)
        people.append(person)
        users.append(
            UserAccount(
                username=login,
                display_name=name,
                email=email,
                password_hash=password_hash,
                roles=list(roles),
                locale="en",
                active_project_id=None,
            )
        )
    session.flush()
    by_login: dict[str, Person] = {}
    for user, person, row in zip(users, people, team_rows, strict=True):
        user.person_id = person.id
        user.active_project_id = project.id
        session.add(user)
        by_login[row[0]] = person
    session.flush()
    reports_to = {
        "programmer": "pm_vendor",
        "tester": "pm_vendor",
        "analyst": "pm_vendor",
        "consultant": "pm_vendor",
        "trainer": "pm_vendor",
        "tester_client": "pm_client",
        "sales_rep": "sales_manager",
        "pm_client": "management",
    }
    for login, _roles, _side, _dept, project_roles in team_rows:
        for role in project_roles:
            boss = reports_to.get(login, "sales_manager" if login.startswith("rep") else None)
            session.add(
                RoleAssignment(
                    project_id=project.id,
                    person_id=by_login[login].id,
                    role=role,
                    reports_to_id=by_login[boss].id if boss else None,
                    responsibilities=RESPONSIBILITIES.get(role, ""),
                )
            )

    owner_ids = [u.id for u in users if "sales_rep" in u.roles or "sales_manager" in u.roles]
    account_rows = []
    for i in range(accounts):
        name = f"{rng.choice(NAME_A)}{rng.choice(NAME_B)} {rng.choice(FORMS)}"
        account_rows.append(
            {
                "name": name if i < len(NAME_A) * len(NAME_B) else f"{name} {i}",
                "nip": nip_for(rng),
                "sector": rng.choice(SECTORS),
                "city": rng.choice(CITIES),
                "owner_id": rng.choice(owner_ids),
                "external_ref": f"DEMO-A{i + 1:04d}",
                "created_at": _at(today - timedelta(days=rng.randint(380, 2000)), rng),
                "version": 1,
            }
        )
    session.execute(insert(Account), account_rows)
    account_ids = list(session.exec(select(Account.id).order_by(Account.id)).all())
    contact_rows = []
    for account_id in account_ids:
        for _ in range(rng.randint(1, 3)):
            name = _person_name(rng)
            contact_rows.append(
                {
                    "account_id": account_id,
                    "full_name": name,
                    "email": f"{_ascii(name).replace(' ', '.')}@example.pl",
                    "phone": f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                    "position": rng.choice(["Purchasing", "Owner", "Site manager", "Procurement"]),
                    "created_at": _at(today - timedelta(days=rng.randint(300, 900)), rng),
                    "version": 1,
                }
            )
    session.execute(insert(Contact), contact_rows)

    deal_rows, change_rows, activity_rows = _deals(rng, stages, account_ids, owner_ids, deals, today)
    session.execute(insert(Deal), deal_rows)
    deal_ids = list(session.exec(select(Deal.id).order_by(Deal.id)).all())
    for row in change_rows:
        row["deal_id"] = deal_ids[row.pop("deal_index")]
    for row in activity_rows:
        row["deal_id"] = deal_ids[row.pop("deal_index")]
    session.execute(insert(StageChange), change_rows)
    session.execute(insert(Activity), activity_rows)
    demo_pipeline.load(session=session, seed=seed, today=today)
    demo_plan.load(session=session, project=project, people=by_login, today=today)

    summary = DemoSummary(
        users=len(users),
        people=len(people),
        accounts=len(account_rows),
        contacts=len(contact_rows),
        deals=len(deal_rows),
        stage_changes=len(change_rows),
        activities=len(activity_rows),
    )
    audit.record(
        session=session,
        actor=SYSTEM,
        entity="demo",
        entity_id=seed,
        action="load",
        after=summary.__dict__,
        project_id=project.id,
    )
    session.commit()
    return summary


def _deals(
    rng: random.Random,
    stages: dict[str, StageDefinition],
    account_ids: list[int],
    owner_ids: list[int],
    count: int,
    today: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    order = [
        "prospect",
        "contact_made",
        "needs_analysis",
        "offer",
        "negotiation",
        "contract",
        "fulfilment",
        "completed",
    ]
    advance = {
        "prospect": 0.8,
        "contact_made": 0.78,
        "needs_analysis": 0.72,
        "offer": 0.62,
        "negotiation": 0.7,
        "contract": 0.95,
        "fulfilment": 0.9,
    }
    now = datetime.combine(today, time(18), UTC)
    deals, changes, activities = [], [], []
    for index in range(count):
        created = _at(today - timedelta(days=rng.randint(0, 364)), rng)
        position = 0 if rng.random() < 0.85 else 1
        at = created
        path = [(None, order[position], at)]
        lost_reason = None
        while True:
            key = order[position]
            if key == "completed":
                break
            step = timedelta(days=rng.uniform(1, stages[key].rot_days * 0.9 if key != "contract" else 20))
            if at + step > now:
                break  # still open
            if rng.random() < 0.07:  # the deal stalls
                gone_quiet = at + timedelta(days=stages[key].rot_days * 3)
                if gone_quiet < now and stages[key].kind == "open" and rng.random() < 0.8:
                    # most long-stalled deals get closed as lost by their owner eventually;
                    # the rest stay on the board as stale deals
                    lost_reason = "lost_contact"
                    path.append((key, "lost", gone_quiet))
                break
            at += step
            if rng.random() < advance[key]:
                nxt = position + (2 if rng.random() < 0.06 and position < 5 else 1)
                if rng.random() < 0.04 and position > 1:
                    nxt = position - 1  # reality: back to an earlier stage
                path.append((key, order[nxt], at))
                position = nxt
            elif rng.random() < 0.55:
                lost_reason = rng.choice(
                    ["price", "competitor", "no_budget", "no_decision", "timing", "lost_contact"]
                )
                path.append((key, "lost", at))
                break
        final = path[-1][1]
        value = Decimal(round(rng.lognormvariate(10.3, 0.9), -2) + 1000)
        won = stages[final].kind == "won"
        promised = (path[-1][2] + timedelta(days=rng.randint(10, 40))).date() if won else None
        actual = None
        if final == "completed" and promised:
            actual = promised + timedelta(days=rng.choice([-3, -1, 0, 0, 0, 2, 5, 12]))
        account = rng.choice(account_ids) if position >= 2 or rng.random() < 0.7 else None
        closed_at = None
        if final == "lost" or won:
            closed_at = next(a for _f, to, a in path if stages[to].kind in ("won", "lost"))
        last_touch = path[-1][2]
        stale_bias = rng.random() < 0.15
        deals.append(
            {
                "title": f"{rng.choice(PRODUCTS).capitalize()} – {index + 1:04d}",
                "account_id": account,
                "value": value,
                "currency": "PLN",
                "stage_id": stages[final].id,
                "probability": None,
                "expected_close": (created + timedelta(days=rng.randint(30, 150))).date(),
                "owner_id": rng.choice(owner_ids),
                "lost_reason": lost_reason,
                "promised_delivery": promised,
                "actual_delivery": actual,
                "external_ref": f"DEMO-D{index + 1:05d}",
                "created_at": created,
                "stage_entered_at": path[-1][2],
                "last_touch_at": last_touch,
                "closed_at": closed_at,
                "version": 1,
                "contact_id": None,
                "parent_deal_id": None,
            }
        )
        for from_key, to_key, when in path:
            changes.append(
                {
                    "deal_index": index,
                    "from_stage_id": stages[from_key].id if from_key else None,
                    "to_stage_id": stages[to_key].id,
                    "at": when,
                    "by_user_id": deals[-1]["owner_id"],
                }
            )
        if stages[final].kind == "open":
            due = last_touch + timedelta(days=rng.randint(1, 20))
            done = None if stale_bias or due > now else due
            activities.append(
                {
                    "deal_index": index,
                    "kind": rng.choice(["call", "email", "meeting", "task"]),
                    "subject": "Follow-up",
                    "account_id": account,
                    "owner_id": deals[-1]["owner_id"],
                    "due_at": due,
                    "done_at": done,
                    "notes": "",
                    "created_at": last_touch,
                    "version": 1,
                }
            )
    return deals, changes, activities
