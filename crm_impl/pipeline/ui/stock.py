"""Stock from the ERP on the pipeline pages (slide 7): the Available column of a deal's products,
the warning when more is offered than is available, the check shown before a move to Offer, and
the warning after a move into Offer (deal page and board)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_number, t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.pipeline.queries import stock as stock_queries

MOVED = "_stock_moved_short"  # the short products of a deal just moved into Offer, for the next run


def deal_stock(actor: Actor, deal_id: int) -> pd.DataFrame:
    """Every line of the deal with offered, available (NaN: no data), as_of and shortfall."""
    with read_session() as session:
        return stock_queries.deal_stock(session=session, actor=actor, deal_id=deal_id)


def _quantity(value: float) -> str:
    return fmt_number(value, 0 if float(value).is_integer() else 2)


def grid_columns(items: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """`items` (the products grid) with the text columns available and stock_as_of."""
    by_product = stock.drop_duplicates("product_id").set_index("product_id")
    available = items["product_id"].map(by_product["available"]) if len(by_product) else None
    as_of = items["product_id"].map(by_product["as_of"]) if len(by_product) else None
    out = items.copy()
    if available is None or as_of is None:
        out["available"] = t("stock.no_data")
        out["stock_as_of"] = common.EMPTY
        return out
    out["available"] = [t("stock.no_data") if pd.isna(v) else _quantity(v) for v in available.tolist()]
    out["stock_as_of"] = [common.EMPTY if pd.isna(d) else fmt_date(d) for d in as_of.tolist()]
    return out


def column_config() -> dict[str, Any]:
    return {
        "available": st.column_config.TextColumn(t("stock.available"), help=t("stock.available_help")),
        "stock_as_of": st.column_config.TextColumn(t("stock.as_of")),
    }


def short_text(short: pd.DataFrame) -> str:
    """ "Cement (offered 120, available 80, short by 40); …" for the short lines."""
    return "; ".join(
        t(
            "stock.short_item",
            product=common.plain(r.product),
            offered=_quantity(r.offered),
            available=_quantity(r.available),
            shortfall=_quantity(r.shortfall),
        )
        for r in short.itertuples()
    )


def shortage_warning(stock: pd.DataFrame) -> None:
    """Under the products grid: the products offered beyond availability, and those without data."""
    short = stock[stock["short"]]
    if len(short):
        st.warning(t("stock.short_warning", products=short_text(short)), icon=":material/inventory_2:")
    unknown = stock[~stock["known"]]
    if len(unknown):
        names = ", ".join(common.plain(p) for p in unknown["product"])
        st.caption(t("stock.no_data_note", products=names))


def move_preview(stock: pd.DataFrame, to_key: str | None, stage_name: str) -> None:
    """On the deal's move tab: what a move to Offer would meet in the stock."""
    if to_key not in stock_queries.CHECK_STAGES or stock.empty:
        return
    short = stock[stock["short"]]
    if len(short):
        st.warning(
            t("stock.move_warning", stage=common.plain(stage_name), products=short_text(short)),
            icon=":material/inventory_2:",
        )
    elif bool(stock["known"].all()):
        st.caption(t("stock.move_ok", as_of=fmt_date(stock["as_of"].min())))
    else:
        names = ", ".join(common.plain(p) for p in stock.loc[~stock["known"], "product"])
        st.caption(t("stock.no_data_note", products=names))


def offer_check(actor: Actor) -> Callable[[Any], None]:
    """The `before_rerun` of a move: when the moved deal now stands in Offer with products
    short, keep them for the warning the next run shows (`moved_warning`)."""

    def check(deal: Any) -> None:
        with read_session() as session:
            short = stock_queries.offer_shortages(session=session, actor=actor, deal_id=int(deal.id))
        if len(short):
            st.session_state[MOVED] = {
                "deal": str(deal.title),
                "stage_id": int(deal.stage_id),
                "lines": short[["product", "offered", "available", "shortfall"]].to_dict("records"),
            }
        else:
            st.session_state.pop(MOVED, None)

    return check


def moved_warning(stage_names: dict[int, str]) -> None:
    """After a move into Offer: the warning naming the short products (shown once)."""
    moved = st.session_state.pop(MOVED, None)
    if not moved:
        return
    lines = pd.DataFrame(moved["lines"], columns=["product", "offered", "available", "shortfall"])
    st.warning(
        t(
            "stock.moved_warning",
            deal=common.plain(moved["deal"]),
            stage=common.plain(stage_names.get(moved["stage_id"], "")),
            products=short_text(lines),
        ),
        icon=":material/inventory_2:",
    )
