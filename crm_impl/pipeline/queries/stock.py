"""Stock levels from the ERP, read side (slide 7): what is available per product now, and the
deal lines that offer more than that. Rows are written by the stock import
(`crm_impl.pipeline.importing_stock`).

Available now, per product: for each of its warehouses the newest day the ERP reported, on hand
minus reserved, summed over the warehouses. `as_of` is the oldest of those days (the figure is
at least that fresh), `newest` the newest; a warehouse the ERP stopped reporting keeps its last
figure until a file reports it again (ERPs report an emptied warehouse as 0).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.metrics import stock as stock_metrics
from crm_impl.pipeline.models import Deal, DealProduct, Product, StageDefinition, StockLevel

# entering these stages checks the deal's offered quantities against the stock
CHECK_STAGES = ("offer",)
AVAILABLE_COLUMNS = ["product_id", "on_hand", "reserved", "available", "as_of", "newest", "warehouses"]
LINE_COLUMNS = ["deal_id", "product_id", "product", "quantity"]


def available(*, session: Session, product_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """One row per product with stock data (products without any are absent: no data)."""
    wanted = None if product_ids is None else sorted({int(i) for i in product_ids})
    if wanted == []:
        return _typed(pd.DataFrame(columns=AVAILABLE_COLUMNS))
    newest = sa_select(
        col(StockLevel.product_id), col(StockLevel.warehouse), func.max(col(StockLevel.as_of)).label("day")
    ).group_by(col(StockLevel.product_id), col(StockLevel.warehouse))
    if wanted is not None:
        newest = newest.where(col(StockLevel.product_id).in_(wanted))
    latest = newest.subquery()
    query = (
        sa_select(
            col(StockLevel.product_id),
            func.sum(col(StockLevel.on_hand)),
            func.sum(col(StockLevel.reserved)),
            func.min(col(StockLevel.as_of)),
            func.max(col(StockLevel.as_of)),
            func.count(),
        )
        .join(
            latest,
            and_(
                col(StockLevel.product_id) == latest.c.product_id,
                col(StockLevel.warehouse) == latest.c.warehouse,
                col(StockLevel.as_of) == latest.c.day,
            ),
        )
        .group_by(col(StockLevel.product_id))
        .order_by(col(StockLevel.product_id))
    )
    rows = session.execute(query).all()
    df = pd.DataFrame(rows, columns=["product_id", "on_hand", "reserved", "as_of", "newest", "warehouses"])
    df["available"] = pd.to_numeric(df["on_hand"]) - pd.to_numeric(df["reserved"])
    return _typed(df[AVAILABLE_COLUMNS])


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["product_id"] = out["product_id"].astype("int64")
    for name in ("on_hand", "reserved", "available"):
        out[name] = pd.to_numeric(out[name]).astype("float64")
    for name in ("as_of", "newest"):
        out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
    out["warehouses"] = out["warehouses"].astype("int64")
    return out


def deal_lines(*, session: Session, deal_ids: Iterable[int]) -> pd.DataFrame:
    """The products on the deals: deal_id, product_id, product (its name), quantity."""
    ids = sorted({int(i) for i in deal_ids})
    if not ids:
        return pd.DataFrame(columns=LINE_COLUMNS)
    rows = session.execute(
        sa_select(
            col(DealProduct.deal_id),
            col(DealProduct.product_id),
            col(Product.name),
            col(DealProduct.quantity),
        )
        .join(Product, col(Product.id) == col(DealProduct.product_id))
        .where(col(DealProduct.deal_id).in_(ids))
        .order_by(col(DealProduct.deal_id), col(Product.name))
    ).all()
    df = pd.DataFrame(rows, columns=LINE_COLUMNS)
    df["quantity"] = pd.to_numeric(df["quantity"]).astype("float64")
    return df


def deal_stock(*, session: Session, actor: Actor, deal_id: int) -> pd.DataFrame:
    """Every line of the deal with its offered quantity, what is available (NaN: no data), as of
    when, and the shortfall (see `metrics.stock.shortages`)."""
    require(actor, "pipeline.read")
    lines = deal_lines(session=session, deal_ids=[deal_id])
    stock = available(session=session, product_ids=lines["product_id"].tolist())
    return stock_metrics.shortages(lines, stock)


def offer_shortages(*, session: Session, actor: Actor, deal_id: int) -> pd.DataFrame:
    """The deal's lines that offer more than is available, when the deal stands in a stage that
    checks stock (Offer); empty in every other stage or when nothing is short."""
    require(actor, "pipeline.read")
    key = session.execute(
        sa_select(col(StageDefinition.key))
        .join(Deal, col(Deal.stage_id) == col(StageDefinition.id))
        .where(col(Deal.id) == deal_id)
    ).scalar_one_or_none()
    if key not in CHECK_STAGES:
        return stock_metrics.shortages(
            pd.DataFrame(columns=LINE_COLUMNS), available(session=session, product_ids=[])
        )
    found = deal_stock(session=session, actor=actor, deal_id=deal_id)
    return found[found["short"]]
