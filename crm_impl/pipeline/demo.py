"""The demo company's pipeline extras: a product catalogue with products on deals, a monthly
sales budget, and ERP settlements in which some accounts are overdue or in the red (slide 7).
Deterministic for a given seed and reference date; called by `crm_impl.demo.load`."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import insert
from sqlmodel import Session, select

from crm_impl.core.models import utcnow
from crm_impl.pipeline.models import Account, Deal, DealProduct, ErpBalance, Product, SalesBudget

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


def _month(today: date, back: int) -> date:
    index = today.year * 12 + today.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def load(*, session: Session, seed: int, today: date) -> dict[str, int]:
    rng = random.Random(seed * 7919 + 17)
    session.execute(
        insert(Product),
        [
            {"name": n, "series": s, "price": Decimal(p), "active": True, "version": 1}
            for n, s, p in CATALOGUE
        ],
    )
    products = list(session.exec(select(Product.id, Product.price).order_by(Product.id)).all())
    deal_rows = session.exec(select(Deal.id, Deal.value).order_by(Deal.id)).all()
    lines = []
    for deal_id, value in deal_rows:
        picked = rng.sample(products, rng.choice([1, 1, 2, 3]))
        shares = [rng.random() + 0.2 for _ in picked]
        for (product_id, price), share in zip(picked, shares, strict=True):
            part = Decimal(value) * Decimal(share / sum(shares))
            lines.append(
                {
                    "deal_id": deal_id,
                    "product_id": product_id,
                    "unit_price": price,
                    "quantity": max(Decimal("1"), (part / price).quantize(Decimal("1"))),
                }
            )
    session.execute(insert(DealProduct), lines)

    budget = [
        {
            "month": _month(today, back),
            "amount": Decimal(rng.randrange(120_000, 170_000, 5_000)),
            "version": 1,
        }
        for back in range(12, -4, -1)
    ]
    session.execute(insert(SalesBudget), budget)

    account_ids = list(session.exec(select(Account.id).order_by(Account.id)).all())
    balances = []
    for account_id in account_ids:
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
        for back, factor in ((1, Decimal("0.9")), (0, Decimal("1"))):
            balances.append(
                {
                    "account_id": account_id,
                    "as_of": _month(today, back),
                    "receivable": (receivable * factor).quantize(Decimal("0.01")),
                    "overdue": overdue if back == 0 else Decimal(0),
                    "balance": balance if back == 0 else (receivable * factor).quantize(Decimal("0.01")),
                    "imported_at": utcnow(),
                }
            )
    session.execute(insert(ErpBalance), balances)
    return {
        "products": len(CATALOGUE),
        "deal_products": len(lines),
        "budget_months": len(budget),
        "erp_balances": len(balances),
    }
