"""The demo company's sales year, written through the pipeline's services as it happened: the
sales manager imports the product catalogue and sets the monthly budget; reps enter their
customers and contacts, open deals, put products on them, move them through the stages (with
skips, moves back and losses with reasons), log follow-ups and tick them off; the admin imports
the ERP settlements every month (slide 7: some accounts overdue or in the red) and the ERP's
stock report on the last two mornings (one product short for a deal in Offer).

Nothing is written here: `events` plans the year (deterministic for a seed and a reference date)
and returns dated steps; `crm_impl.demo.load` runs every domain's steps in time order, each
inside `crm_impl.core.clock.at(its time)`, so rows, stage history and audit entries carry the
moment the demo user did it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select
from stdnum import iban as std_iban
from stdnum.pl import regon as std_regon

from crm_impl.core.permissions import Actor
from crm_impl.pipeline import importing
from crm_impl.pipeline.models import (
    AccountCreate,
    ActivityCreate,
    ContactCreate,
    DealCreate,
    DealProductLine,
    DealUpdate,
    Product,
    SalesBudgetCreate,
    StageDefinition,
)
from crm_impl.pipeline.services import deals as deal_service
from crm_impl.pipeline.services import settings as settings_service

# A step of the demo's history: when, and what the demo user does then.
Event = tuple[datetime, Callable[[], None]]

# name, series, unit price (PLN)
CATALOGUE: tuple[tuple[str, str, int], ...] = (
    ("Cement CEM II 25 kg", "cement", 28),
    ("Cement CEM I 42.5", "cement", 34),
    ("Roof tile Classic", "roofing", 6),
    ("Roof membrane Pro", "roofing", 420),
    ("Mineral wool 100 mm", "insulation", 95),
    ("EPS facade board", "insulation", 60),
    ("Drywall board 12.5", "drywall", 32),
    ("Ceramic brick P+W", "bricks", 4),
    ("Rebar B500 12 mm", "steel", 3900),
    ("PVC window 120x150", "windows", 1450),
    ("Porcelain tile 60x60", "tiles", 85),
    ("Tile adhesive C2", "tiles", 45),
)
FIRST = (
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
)
LAST = (
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
)
CITIES = (
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
)
# the first two digits of each city's postal codes (Poczta Polska's districts)
POSTAL_PREFIX = {
    "Warszawa": ("00", "01", "02", "03", "04"),
    "Kraków": ("30", "31"),
    "Łódź": ("90", "91", "92", "93"),
    "Wrocław": ("50", "51", "52", "53", "54"),
    "Poznań": ("60", "61"),
    "Gdańsk": ("80",),
    "Szczecin": ("70", "71"),
    "Bydgoszcz": ("85",),
    "Lublin": ("20",),
    "Katowice": ("40",),
    "Białystok": ("15",),
    "Rzeszów": ("35",),
    "Kielce": ("25",),
    "Olsztyn": ("10",),
    "Opole": ("45",),
    "Toruń": ("87",),
}
STREETS = (
    "ul. Przemysłowa",
    "ul. Składowa",
    "ul. Kolejowa",
    "ul. Fabryczna",
    "ul. Magazynowa",
    "ul. Budowlanych",
    "ul. Polna",
    "al. Jana Pawła II",
    "ul. Handlowa",
    "ul. Szkolna",
)
BANKS = ("10901014", "10202892", "11402004", "12401037", "10501012", "11602202")  # sort codes
SECTORS = ("construction", "developer", "retail", "installation", "roofing", "public", "industry")
NAME_A = (
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
)
NAME_B = ("ex", "mar", "pol", "bud", "dom", "serwis", "trans", "plan", "met", "kon", "gal", "tech")
FORMS = ("sp. z o.o.", "S.A.", "sp.j.", "sp. k.", "s.c.")
PRODUCTS = ("cement", "roof tiles", "insulation", "drywall", "bricks", "steel", "windows", "tiles")
ORDER = (
    "prospect",
    "contact_made",
    "needs_analysis",
    "offer",
    "negotiation",
    "contract",
    "fulfilment",
    "completed",
)
ADVANCE = {  # chance that a deal moves on from a stage at its next step
    "prospect": 0.8,
    "contact_made": 0.78,
    "needs_analysis": 0.72,
    "offer": 0.62,
    "negotiation": 0.7,
    "contract": 0.95,
    "fulfilment": 0.9,
}
LOST_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "lost_contact")
FOLLOW_UPS = {
    "call": "Follow-up call",
    "email": "Send the revised offer",
    "meeting": "Visit on the construction site",
    "task": "Check stock and delivery dates",
}


@dataclass
class SalesCounts:
    accounts: int = 0
    contacts: int = 0
    deals: int = 0
    stage_changes: int = 0
    activities: int = 0
    extras: dict[str, int] = field(default_factory=dict)


def person_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if first.endswith("a") and last.endswith("ski"):
        last = last[:-1] + "a"
    return f"{first} {last}"


def ascii_name(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    return text.translate(table).lower()


def _domain(company: str) -> str:
    """A customer's made-up e-mail domain from its name ("Budex Kraków sp. z o.o." -> budex-krakow.pl)."""
    words = re.findall(r"[a-z0-9]+", ascii_name(company.split(" sp.")[0].split(" S.A.")[0]))
    return "-".join(words[:2] or ["firma"]) + ".pl"


def nip_for(rng: random.Random) -> str:
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def registry_for(rng: random.Random, city: str) -> dict[str, str | None]:
    """A customer's REGON (9 digits, stdnum's check digit), bank account (a Polish IBAN with
    its ISO check digits; two in five customers have none on file), street and postal code."""
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    regon = body + str(std_regon.calc_check_digit(body))
    bban = rng.choice(BANKS) + "".join(str(rng.randint(0, 9)) for _ in range(16))
    iban = f"PL{std_iban.calc_check_digits('PL00' + bban)}{bban}" if rng.random() < 0.6 else None
    postal = f"{rng.choice(POSTAL_PREFIX.get(city, ('00',)))}-{rng.randint(0, 999):03d}"
    return {
        "regon": regon,
        "iban": iban,
        "postal_code": postal,
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
    }


def month_start(today: date, back: int) -> date:
    index = today.year * 12 + today.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def history_start(today: date) -> datetime:
    """The morning the demo's year begins (the sales team's accounts exist from the day before)."""
    return datetime.combine(today - timedelta(days=366), time(8), UTC)


def work_time(day: date, rng: random.Random) -> datetime:
    """A moment in office hours on `day` (UTC)."""
    return datetime.combine(day, time(7 + rng.randint(0, 9), rng.randint(0, 59)), UTC)


@dataclass
class _Ids:
    """Ids of the rows earlier steps created, by plan index; `rows` keeps those rows alive in
    the session's identity map, so later steps find them without reading them back."""

    account: dict[int, int] = field(default_factory=dict)
    deal: dict[int, int] = field(default_factory=dict)
    activity: dict[int, int] = field(default_factory=dict)
    rows: list[object] = field(default_factory=list)


@dataclass
class _Account:
    name: str
    nip: str
    sector: str
    city: str
    owner: int
    at: datetime  # when its owner enters it
    registry: dict[str, str | None] = field(default_factory=dict)  # regon, iban, postal_code, street


@dataclass
class _Deal:
    index: int
    owner: int
    created: datetime
    path: list[tuple[str, datetime, str | None]]  # (stage key, when, lost reason)
    account: int | None  # index into the accounts list
    value: Decimal
    expected_close: date
    promised: date | None
    actual: date | None
    products: list[tuple[int, float]]  # (catalogue index, share of the value)
    follow_up: tuple[str, datetime, datetime, bool] | None  # kind, created, due, done
    title: str


def _plan_deal(
    rng: random.Random,
    index: int,
    rot: dict[str, int],
    kinds: dict[str, str],
    owners: list[int],
    now: datetime,
) -> _Deal:
    created = work_time((now - timedelta(days=rng.randint(0, 364))).date(), rng)
    created = min(created, now - timedelta(hours=1))
    position = 0 if rng.random() < 0.85 else 1
    at = created
    path: list[tuple[str, datetime, str | None]] = [(ORDER[position], at, None)]
    highest = position
    while True:
        key = ORDER[position]
        if key == "completed":
            break
        step = timedelta(days=rng.uniform(1, rot[key] * 0.9 if key != "contract" else 20))
        if at + step > now:
            break  # still open
        if rng.random() < 0.07:  # the deal stalls
            gone_quiet = at + timedelta(days=rot[key] * 3)
            if gone_quiet < now and kinds[key] == "open" and rng.random() < 0.8:
                # most long-stalled deals get closed as lost by their owner eventually;
                # the rest stay on the board as stale deals
                path.append(("lost", gone_quiet, "lost_contact"))
            break
        at += step
        if rng.random() < ADVANCE[key]:
            nxt = position + (2 if rng.random() < 0.06 and position < 5 else 1)
            if rng.random() < 0.04 and position > 1:
                nxt = position - 1  # reality: back to an earlier stage
            path.append((ORDER[nxt], at, None))
            position = nxt
            highest = max(highest, nxt)
        elif rng.random() < 0.55:
            path.append(("lost", at, rng.choice(LOST_REASONS)))
            break
    final, last_at, _ = path[-1]
    value = Decimal(round(rng.lognormvariate(10.3, 0.9), -2) + 1000)
    won = kinds[final] == "won"
    promised = (last_at + timedelta(days=rng.randint(10, 40))).date() if won else None
    actual = None
    if final == "completed" and promised:
        actual = promised + timedelta(days=rng.choice([0, 1, 0, 0, 0, 2, 5, 12]))
    needs_account = highest >= ORDER.index("needs_analysis")
    account = -1 if needs_account or rng.random() < 0.7 else None  # -1: picked by the caller
    stale_bias = rng.random() < 0.15
    follow_up = None
    if kinds[final] == "open":
        due = last_at + timedelta(days=rng.randint(1, 20))
        kind = rng.choice(list(FOLLOW_UPS))
        follow_up = (kind, last_at + timedelta(minutes=20), due, not stale_bias and due <= now)
    picked = rng.sample(range(len(CATALOGUE)), rng.choice([1, 1, 2, 3]))
    shares = [rng.random() + 0.2 for _ in picked]
    return _Deal(
        index=index,
        owner=rng.choice(owners),
        created=created,
        path=path,
        account=account,
        value=value,
        expected_close=(created + timedelta(days=rng.randint(30, 150))).date(),
        promised=promised,
        actual=actual,
        products=[(p, s / sum(shares)) for p, s in zip(picked, shares, strict=True)],
        follow_up=follow_up,
        title=f"{rng.choice(PRODUCTS).capitalize()} – {index + 1:04d}",
    )


def events(
    *,
    session: Session,
    seed: int,
    accounts: int,
    deals: int,
    today: date,
    reps: dict[int, Actor],
    manager: Actor,
    admin: Actor,
) -> tuple[list[Event], SalesCounts]:
    """The sales year as dated steps. `reps` are the users who own accounts and deals (by user
    id), `manager` imports products and sets the budget, `admin` imports ERP settlements."""
    rng = random.Random(seed)
    stages = {s.key: s for s in session.exec(select(StageDefinition)).all()}
    rot = {k: s.rot_days for k, s in stages.items()}
    kinds = {k: s.kind for k, s in stages.items()}
    now = datetime.combine(today, time(18), UTC)
    start = history_start(today)
    owners = sorted(reps)
    counts = SalesCounts()
    out: list[Event] = []
    ids = _Ids()

    # -- the plan: accounts, their contacts, deals (all random draws happen here, in order)
    names: set[str] = set()
    nips: set[str] = set()
    account_plan: list[_Account] = []
    # the registry numbers draw from a stream of their own: the plan's draws stay as they were
    registry_rng = random.Random(f"registry-{seed}")
    for i in range(accounts):
        name = f"{rng.choice(NAME_A)}{rng.choice(NAME_B)} {rng.choice(FORMS)}"
        if name.lower() in names:
            name = f"{name} {i + 1}"
        names.add(name.lower())
        nip = nip_for(rng)
        while nip in nips:
            nip = nip_for(rng)
        nips.add(nip)
        account_plan.append(
            _Account(
                name=name,
                nip=nip,
                sector=rng.choice(SECTORS),
                city=rng.choice(CITIES),
                owner=rng.choice(owners),
                at=start + timedelta(days=rng.uniform(1, 340)),
            )
        )
        account_plan[-1].registry = registry_for(registry_rng, account_plan[-1].city)
    deal_plan = [_plan_deal(rng, i, rot, kinds, owners, now) for i in range(deals)]
    for deal in deal_plan:
        if deal.account == -1:
            deal.account = rng.randrange(accounts)
            acc = account_plan[deal.account]
            acc.at = min(acc.at, deal.created - timedelta(days=rng.uniform(1, 30)))
    contact_plan = []
    for i, acc in enumerate(account_plan):
        # the customers a rep already had are entered on the first morning
        acc.at = max(acc.at, start + timedelta(hours=rng.uniform(1, 9)))
        for _ in range(rng.randint(1, 3)):
            name = person_name(rng)
            contact_plan.append(
                (
                    i,
                    min(acc.at + timedelta(minutes=rng.randint(5, 60 * 24 * 20)), now),
                    ContactCreate(
                        account_id=0,
                        full_name=name,
                        # at the customer's own domain (a shared made-up domain would make
                        # namesakes at two customers look like one person to the duplicate check)
                        email=f"{ascii_name(name).replace(' ', '.')}@{_domain(acc.name)}",
                        phone=f"+48 {rng.randint(500, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                        position=rng.choice(["Purchasing", "Owner", "Site manager", "Procurement"]),
                    ),
                )
            )

    # -- the catalogue and the budget: the sales manager, on the first days of the year
    def import_catalogue() -> None:
        lines = ["name,series,price"] + [f"{n},{s},{p}.00" for n, s, p in CATALOGUE]
        importing.run_import(
            session=session,
            actor=manager,
            entity="products",
            data="\n".join(lines).encode(),
            dry_run=False,
            filename="catalogue.csv",
        )

    out.append((start + timedelta(hours=9), import_catalogue))
    budget = [
        (month_start(today, back), Decimal(rng.randrange(120_000, 170_000, 5_000)))
        for back in range(12, -4, -1)
    ]
    for n, (month, amount) in enumerate(budget):
        # the year's budget at the start; the next quarter's when the year is nearly over
        when = start + timedelta(hours=10, minutes=n) if n < 13 else now - timedelta(days=20, hours=-n)
        out.append((when, _budget(session, manager, month, amount)))
    counts.extras["budget_months"] = len(budget)
    counts.extras["products"] = len(CATALOGUE)

    # -- accounts and contacts, entered by the account's owner
    for i, acc in enumerate(account_plan):
        out.append((acc.at, _account(session, reps[acc.owner], acc, i, ids)))
    for account_index, when, data in contact_plan:
        owner = reps[account_plan[account_index].owner]
        out.append((when, _contact(session, owner, data, account_index, ids)))
    counts.accounts, counts.contacts = accounts, len(contact_plan)

    catalogue: list[tuple[int, Decimal]] = []
    # -- deals: created, priced, moved, followed up by their owner
    for deal in deal_plan:
        actor = reps[deal.owner]
        out.append((deal.created, _create_deal(session, actor, deal, ids)))
        out.append((deal.created + timedelta(minutes=3), _products(session, actor, deal, ids, catalogue)))
        for n, (key, when, reason) in enumerate(deal.path[1:], start=1):
            out.append((when, _move(session, actor, deal, n, key, reason, ids)))
        if deal.follow_up:
            kind, created, due, done = deal.follow_up
            out.append((min(created, now), _follow_up(session, actor, deal, kind, due, ids)))
            if done:  # ticked off on the day it was due
                out.append((due, _tick_off(session, actor, deal, ids)))
            counts.activities += 1
        counts.stage_changes += len(deal.path)
    counts.deals = deals
    counts.extras["deal_products"] = sum(len(d.products) for d in deal_plan)

    # -- ERP settlements: the admin imports last month's and this month's balances (an account
    # the CRM did not know yet on the day of an import is not in that file)
    files: dict[int, list[tuple[_Account, date, Decimal, Decimal, Decimal]]] = {1: [], 0: []}
    for acc in account_plan:
        if rng.random() < 0.3:
            continue  # not an ERP customer (yet)
        receivable = Decimal(rng.randrange(0, 250_000, 100))
        roll = rng.random()
        overdue = (
            (receivable * Decimal(rng.uniform(0.1, 0.6))).quantize(Decimal("1"))
            if roll < 0.15
            else Decimal(0)
        )
        balance = -Decimal(rng.randrange(1_000, 40_000, 100)) if 0.15 <= roll < 0.2 else receivable - overdue
        last = (receivable * Decimal("0.9")).quantize(Decimal("0.01"))
        files[1].append((acc, month_start(today, 1), last, Decimal(0), last))
        files[0].append((acc, month_start(today, 0), receivable, overdue, balance))
    for back, rows in files.items():
        when = min(datetime.combine(month_start(today, back), time(6, 30), UTC), now)
        known = [row for row in rows if row[0].at < when]
        out.append((when, _settlements(session, admin, known, f"erp-{month_start(today, back):%Y-%m}.csv")))
        counts.extras["erp_balances"] = counts.extras.get("erp_balances", 0) + len(known)

    # -- ERP stock levels: the admin imports yesterday's and this morning's stock report
    stock = stock_plan(seed, deal_plan, kinds, today)
    for day, levels in stock.items():
        when = min(datetime.combine(day, time(6, 45), UTC), now)
        out.append((when, _stock(session, admin, levels, f"stock-{day:%Y-%m-%d}.csv")))
        counts.extras["stock_levels"] = counts.extras.get("stock_levels", 0) + len(levels)
    return out, counts


WAREHOUSES = ("WAW", "KRK")
StockRow = tuple[str, str, date, Decimal, Decimal]  # product, warehouse, day, on hand, reserved


def stock_plan(
    seed: int, deal_plan: list[_Deal], kinds: dict[str, str], today: date
) -> dict[date, list[StockRow]]:
    """Yesterday's and today's stock per catalogue product and warehouse: plenty for the open
    deals, except the first product of the deal that entered Offer last (it stays in Offer):
    today only half of what that deal offers is available, so the deal shows the warning. The
    last catalogue product has no stock figures at all ("no data"). Its own random stream, so
    the rest of the demo does not change."""
    rng = random.Random(f"{seed}-stock")
    demand: dict[int, Decimal] = {}
    for deal in deal_plan:
        if kinds[deal.path[-1][0]] == "open":
            for product, share in deal.products:
                wanted = line_quantity(deal.value, share, Decimal(CATALOGUE[product][2]))
                demand[product] = max(demand.get(product, Decimal(0)), wanted)
    in_offer = [d for d in deal_plan if d.path[-1][0] == "offer"]
    short: tuple[int, Decimal] | None = None
    if in_offer:
        deal = max(in_offer, key=lambda d: d.path[-1][1])
        product, share = deal.products[0]
        short = (product, line_quantity(deal.value, share, Decimal(CATALOGUE[product][2])))
    days = (today - timedelta(days=1), today)
    plan: dict[date, list[StockRow]] = {day: [] for day in days}
    for index, (name, _series, _price) in enumerate(CATALOGUE[:-1]):
        need = demand.get(index, Decimal(10))
        for n, warehouse in enumerate(WAREHOUSES):
            on_hand = (need * Decimal(rng.uniform(1.5, 3.0))).quantize(Decimal("1"))
            reserved = (on_hand * Decimal(rng.uniform(0, 0.3))).quantize(Decimal("1"))
            for day in days:
                if short is not None and index == short[0] and day == today:
                    # today: the ERP's first warehouse holds half the offer, the second is empty
                    on_hand, reserved = (
                        (short[1] / 2).quantize(Decimal("1")) if n == 0 else Decimal(0),
                        Decimal(0),
                    )
                plan[day].append((name, warehouse, day, on_hand, reserved))
                on_hand = max(Decimal(0), on_hand - Decimal(rng.randrange(0, 5)))  # sold since
    return plan


def _budget(session: Session, actor: Actor, month: date, amount: Decimal) -> Callable[[], None]:
    def run() -> None:
        settings_service.set_budget(
            session=session, actor=actor, data=SalesBudgetCreate(month=month, amount=amount)
        )

    return run


def _account(session: Session, actor: Actor, acc: _Account, index: int, ids: _Ids) -> Callable[[], None]:
    def run() -> None:
        account = deal_service.create_account(
            session=session,
            actor=actor,
            data=AccountCreate.model_validate(
                {"name": acc.name, "nip": acc.nip, "sector": acc.sector, "city": acc.city, **acc.registry}
            ),
        )
        ids.account[index] = int(account.id or 0)
        ids.rows.append(account)

    return run


def _contact(
    session: Session, actor: Actor, data: ContactCreate, account_index: int, ids: _Ids
) -> Callable[[], None]:
    def run() -> None:
        data.account_id = ids.account[account_index]
        deal_service.create_contact(session=session, actor=actor, data=data)

    return run


def _create_deal(session: Session, actor: Actor, deal: _Deal, ids: _Ids) -> Callable[[], None]:
    def run() -> None:
        row = deal_service.create_deal(
            session=session,
            actor=actor,
            data=DealCreate(
                title=deal.title,
                stage_key=deal.path[0][0],
                account_id=None if deal.account is None else ids.account[deal.account],
                value=deal.value,
                currency="PLN",
                expected_close=deal.expected_close,
            ),
        )
        ids.deal[deal.index] = int(row.id or 0)
        ids.rows.append(row)

    return run


def line_quantity(value: Decimal, share: float, price: Decimal) -> Decimal:
    """How many units of a product a demo deal offers: its share of the deal's value."""
    return max(Decimal("1"), (value * Decimal(share) / price).quantize(Decimal("1")))


def _products(
    session: Session,
    actor: Actor,
    deal: _Deal,
    ids: _Ids,
    cache: list[tuple[int, Decimal]],
) -> Callable[[], None]:
    def run() -> None:
        if not cache:  # the imported catalogue, in catalogue order
            rows = session.exec(select(col(Product.id), col(Product.price)).order_by(col(Product.id))).all()
            cache.extend((int(i or 0), Decimal(p)) for i, p in rows)
        catalogue = cache
        lines = []
        for product, share in deal.products:
            product_id, price = catalogue[product]
            quantity = line_quantity(deal.value, share, price)
            lines.append(DealProductLine(product_id=product_id, quantity=quantity, unit_price=price))
        deal_service.set_deal_products(
            session=session, actor=actor, deal_id=ids.deal[deal.index], expected_version=None, items=lines
        )

    return run


def _move(
    session: Session,
    actor: Actor,
    deal: _Deal,
    step: int,
    key: str,
    reason: str | None,
    ids: _Ids,
) -> Callable[[], None]:
    def run() -> None:
        deal_id = ids.deal[deal.index]
        deal_service.move_deal(
            session=session,
            actor=actor,
            deal_id=deal_id,
            expected_version=None,
            to_stage_key=key,
            lost_reason=reason,
        )
        last = step == len(deal.path) - 1
        if last and deal.promised is not None:  # the delivery date promised when the deal was won
            deal_service.update_deal(
                session=session,
                actor=actor,
                deal_id=deal_id,
                expected_version=None,
                data=DealUpdate(promised_delivery=deal.promised, actual_delivery=deal.actual),
            )

    return run


def _follow_up(
    session: Session,
    actor: Actor,
    deal: _Deal,
    kind: str,
    due: datetime,
    ids: _Ids,
) -> Callable[[], None]:
    def run() -> None:
        activity = deal_service.create_activity(
            session=session,
            actor=actor,
            data=ActivityCreate(
                subject=FOLLOW_UPS[kind], kind=kind, deal_id=ids.deal[deal.index], due_at=due
            ),
        )
        ids.activity[deal.index] = int(activity.id or 0)
        ids.rows.append(activity)

    return run


def _tick_off(session: Session, actor: Actor, deal: _Deal, ids: _Ids) -> Callable[[], None]:
    def run() -> None:
        deal_service.complete_activity(
            session=session, actor=actor, activity_id=ids.activity[deal.index], expected_version=None
        )

    return run


def _settlements(
    session: Session,
    actor: Actor,
    rows: list[tuple[_Account, date, Decimal, Decimal, Decimal]],
    filename: str,
) -> Callable[[], None]:
    def run() -> None:
        lines = ["account,as_of,receivable,overdue,balance"]
        for acc, as_of, receivable, overdue, balance in rows:
            quoted = '"' + acc.name.replace('"', '""') + '"'
            lines.append(f"{quoted},{as_of.isoformat()},{receivable:.2f},{overdue:.2f},{balance:.2f}")
        importing.run_import(
            session=session,
            actor=actor,
            entity="settlements",
            data="\n".join(lines).encode(),
            dry_run=False,
            filename=filename,
        )

    return run


def _stock(session: Session, actor: Actor, rows: list[StockRow], filename: str) -> Callable[[], None]:
    def run() -> None:
        lines = ["product,warehouse,as_of,on_hand,reserved"]
        lines += [
            f"{p},{w},{d.isoformat()},{on_hand:.2f},{reserved:.2f}" for p, w, d, on_hand, reserved in rows
        ]
        importing.run_import(
            session=session,
            actor=actor,
            entity="stock",
            data="\n".join(lines).encode(),
            dry_run=False,
            filename=filename,
        )

    return run
