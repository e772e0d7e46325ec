"""Stock levels from the ERP (slide 7), imported through the shared engine as the entity `stock`.

Fields (the mapping's targets): `product`* (the product's code: its catalogue name,
case-insensitive; a mapping's value map turns the ERP's own item codes into catalogue names,
see `examples/mappings/erp-stock-pl.toml`), `warehouse` (empty: the ERP reports one stock),
`on_hand`* and `reserved` (quantities, never negative; reserved empty = 0) and `as_of`* (the
day the ERP counted them; not in the future).

One row per product, warehouse and day (`StockLevel`'s unique key). A row whose key is already
stored replaces that day's figures when they differ (before/after kept in the audit) and is
skipped when they are the same, so importing the same file again changes nothing; a day not yet
stored is added and the older days stay as history. The current stock of a product is the
newest day of each of its warehouses, summed (`crm_impl.pipeline.queries.stock`). The same key
twice in one file is a row error; like every import, a refused or strict run writes nothing.

Registered from `crm_impl.pipeline.importing` (import that module to run any pipeline import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from crm_impl.core import clock
from crm_impl.core.config import local_tz
from crm_impl.core.errors import ConflictError
from crm_impl.core.models import utcnow
from crm_impl.importers.cleaning import Cleaned, FieldSpec, to_decimal
from crm_impl.importers.engine import Run
from crm_impl.importers.registry import EntitySpec, register
from crm_impl.pipeline.models import Product, StockLevel

ENTITY = "stock"
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("product", "ref", True, 120),
    FieldSpec("warehouse", "text", False, 60),
    FieldSpec("on_hand", "money", True),  # "money": exact to 0.01, negative refused
    FieldSpec("reserved", "money"),
    FieldSpec("as_of", "date", True),
)
QUANTITIES = ("on_hand", "reserved")
# (product id, warehouse in lower case, day) -> (row id, on hand, reserved)
Stored = dict[tuple[int, str, date], tuple[int, Decimal, Decimal]]


@dataclass
class Lookups:
    """The catalogue (by name, lower case), loaded once per run."""

    session: Session
    products: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for pid, name in self.session.execute(select(col(Product.id), col(Product.name))).all():
            self.products[str(name).lower()] = int(pid)
            self.names.append(str(name))


StockRun = Run[Lookups]


def _stored(session: Session, product_ids: list[int], days: list[date]) -> Stored:
    """The stored rows among the chunk's products and days, one query."""
    if not product_ids or not days:
        return {}
    rows = session.execute(
        sa_select(
            col(StockLevel.id),
            col(StockLevel.product_id),
            col(StockLevel.warehouse),
            col(StockLevel.as_of),
            col(StockLevel.on_hand),
            col(StockLevel.reserved),
        ).where(col(StockLevel.product_id).in_(product_ids), col(StockLevel.as_of).in_(days))
    ).all()
    return {
        (int(pid), str(wh).lower(), day): (int(rid), Decimal(on_hand), Decimal(reserved))
        for rid, pid, wh, day, on_hand, reserved in rows
    }


def _stock(run: StockRun, c: Cleaned, write: bool) -> None:
    lk, sink = run.lookups, c.sink
    index = sink.bad.index
    products = run.resolve(c, "product", lk.products, lk.names, "product")
    warehouse = c.values.get("warehouse", pd.Series("", index=index, dtype=object))
    as_of = c.values["as_of"]
    today = clock.now().astimezone(local_tz()).date()
    sink.flag(
        as_of.notna() & (as_of.dt.normalize() > pd.Timestamp(today)),
        run.sources["as_of"],
        "stock.import.error.future",
        c.text.get("as_of"),
    )
    day_text = as_of.dt.strftime("%Y-%m-%d").fillna("")
    key = (
        products.map(lambda v: "" if pd.isna(v) else str(int(v)))
        + "|"
        + warehouse.str.lower()
        + "|"
        + day_text
    )
    run.duplicates(c, key.where(products.notna() & (day_text != ""), ""), run.sources["product"])
    valid = ~sink.bad
    if not valid.any():
        return
    quantities = {
        name: to_decimal(c.amounts[name], c.values[name]) if name in c.values else [None] * len(index)
        for name in QUANTITIES
    }
    positions = {idx: pos for pos, idx in enumerate(index)}
    rows = valid[valid].index
    days = [as_of[idx].date() for idx in rows]
    stored = _stored(run.session, sorted({int(products[idx]) for idx in rows}), sorted(set(days)))
    new: list[dict[str, Any]] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for idx, day in zip(rows, days, strict=True):
        pos = positions[idx]
        values = {name: quantities[name][pos] or Decimal("0.00") for name in QUANTITIES}
        product_id = int(products[idx])
        known = stored.get((product_id, warehouse[idx].lower(), day))
        if known is None:
            run.report.created += 1
            new.append({"product_id": product_id, "warehouse": warehouse[idx], "as_of": day, **values})
        elif (known[1], known[2]) == (values["on_hand"], values["reserved"]):
            run.report.skipped += 1
        else:
            run.report.updated += 1
            updates.append((known[0], values))
    if write and (new or updates):
        run.later(lambda p: _write(run, *p), (new, updates))


def _write(run: StockRun, new: list[dict[str, Any]], updates: list[tuple[int, dict[str, Any]]]) -> None:
    now = utcnow()
    session = run.session
    session.add_all([StockLevel(imported_at=now, **values) for values in new])
    if updates:
        rows = {
            int(r.id or 0): r
            for r in session.exec(
                select(StockLevel).where(col(StockLevel.id).in_([row_id for row_id, _ in updates]))
            ).all()
        }
        for row_id, values in updates:
            row = rows.get(row_id)
            if row is None:  # deleted by someone else between checking and writing
                raise ConflictError()
            before = {k: getattr(row, k) for k in values}
            for k, v in values.items():
                setattr(row, k, v)
            row.imported_at = now
            session.add(row)
            run.changed("stock_level", row_id, before, values)
    session.flush()


register(ENTITY, EntitySpec(fields=FIELDS, handler=_stock, lookups=Lookups, deferred=True))

__all__ = ["ENTITY", "FIELDS", "Lookups"]
