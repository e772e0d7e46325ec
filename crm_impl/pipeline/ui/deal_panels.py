"""The deal page's move, products, activities and stage-history panels (pages/pipeline/deal.py stays a
storyboard)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_datetime, t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.pipeline import ui
from crm_impl.pipeline.models import ACTIVITY_KINDS, ActivityCreate, DealProductLine, DealPublic
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settlements
from crm_impl.pipeline.ui import stock as stock_ui


def open_new(deal: object) -> None:
    """After a deal is created: open it, and every form starts empty (no second deal by a
    second click)."""
    st.query_params["deal"] = str(getattr(deal, "id", ""))
    common.forms_saved()


def move(
    actor: Actor,
    deal: DealPublic,
    stage: pd.Series,
    look: dict[str, Any],
    erp_flag: dict[str, Any] | None,
    stock: pd.DataFrame,
    may_write: bool,
) -> None:
    """Move the deal to another stage (lost: with a reason), with the ERP's warnings about the
    account and, for Offer, the stock; a won deal can open repeat business."""
    stages = look["stages"]
    names = ui.stage_name_map(stages)
    by_key = stages.set_index("key")
    move_version = common.shown_version(f"deal_move_{deal.id}", deal.version)
    targets = [
        k for k in by_key.index if int(by_key.loc[k, "id"]) != deal.stage_id and bool(by_key.loc[k, "active"])
    ]
    to_key = st.selectbox(
        t("pipeline.deal.move_to"),
        targets,
        format_func=lambda k: names[int(by_key.loc[k, "id"])],
        key=f"move_to_{deal.id}",
        placeholder=t("common.choose"),
    )
    reason = None
    if to_key and by_key.loc[to_key, "kind"] == "lost":
        reason = st.selectbox(
            t("pipeline.field.lost_reason"),
            list(look["reasons"]),
            index=None,
            format_func=look["reasons"].get,
            key=f"reason_{deal.id}",
            placeholder=t("common.choose"),
        )
    to_name = names[int(by_key.loc[to_key, "id"])] if to_key else ""
    if erp_flag and to_key in settlements.FLAG_STAGES:
        st.warning(
            t("pipeline.erp.move_warning", stage=common.plain(to_name), details=ui.erp_badge(erp_flag)),
            icon=":material/warning:",
        )
    stock_ui.move_preview(stock, to_key, to_name)
    if st.button(
        t("pipeline.deal.move"),
        type="primary",
        icon=":material/arrow_forward:",
        disabled=not may_write,
        key=f"move_{deal.id}",
    ):
        common.save(
            pipeline.move_deal,
            "pipeline.moved",
            deal_id=deal.id,
            expected_version=move_version,
            to_stage_key=to_key,
            lost_reason=reason,
            before_rerun=stock_ui.offer_check(actor),  # into Offer with products short: warn
        )
    if stage["kind"] == "won":
        st.divider()
        st.caption(t("pipeline.deal.repeat_help"))
        if st.button(
            t("pipeline.deal.repeat"),
            icon=":material/autorenew:",
            disabled=not may_write,
            key=f"repeat_{deal.id}",
        ):
            common.save(
                pipeline.repeat_business,
                "pipeline.deal.repeat_created",
                deal_id=deal.id,
                before_rerun=open_new,
            )


def _loaded_version(deal: DealPublic, editor_key: str) -> int:
    """The deal's version the products grid was loaded at: it moves on with the deal only while
    nothing is edited in the grid, so a save of edits made on an older state of the deal is
    refused as "changed by someone else" (see `common.shown_version`)."""
    return common.shown_version(editor_key, deal.version, grid=editor_key)


def _reload_products(base_key: str) -> None:
    """After a save: the grid starts again from the deal as stored (a new editor key)."""
    st.session_state[f"{base_key}_gen"] = st.session_state.get(f"{base_key}_gen", 0) + 1


def products(
    deal: DealPublic, detail: dict[str, Any], look: dict[str, Any], stock: pd.DataFrame, may_write: bool
) -> None:
    """The deal's products grid, with what the ERP has available of each (read-only columns),
    and the warning when more is offered than is available."""
    items = stock_ui.grid_columns(detail["products"], stock)
    catalogue = look["products"]
    editor_key = f"products_{deal.id}_{st.session_state.get(f'products_{deal.id}_gen', 0)}"
    loaded_version = _loaded_version(deal, editor_key)
    edited = st.data_editor(
        items[["product_id", "quantity", "unit_price", "available", "stock_as_of"]],
        num_rows="dynamic",
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        key=editor_key,
        disabled=["available", "stock_as_of"] if may_write else True,
        column_config={
            **stock_ui.column_config(),
            "product_id": st.column_config.SelectboxColumn(
                t("pipeline.field.product"), options=list(catalogue), format_func=catalogue.get, required=True
            ),
            "quantity": st.column_config.NumberColumn(
                t("pipeline.field.quantity"), min_value=0.01, default=1.0
            ),
            "unit_price": st.column_config.NumberColumn(
                t("pipeline.field.unit_price"), min_value=0.0, format="%.2f"
            ),
        },
    )
    stock_ui.shortage_warning(stock)
    update_value = st.checkbox(t("pipeline.deal.value_from_products"), key=f"upd_{deal.id}")
    if st.button(
        t("common.save"), icon=":material/save:", disabled=not may_write, key=f"save_products_{deal.id}"
    ):
        rows = edited.dropna(subset=["product_id"]).to_dict(orient="records")
        lines = [
            DealProductLine(
                product_id=int(r["product_id"]),
                quantity=1 if pd.isna(r.get("quantity")) else r["quantity"],
                unit_price=None if pd.isna(r.get("unit_price")) else r["unit_price"],
            )
            for r in rows
        ]
        common.save(
            pipeline.set_deal_products,
            "common.saved",
            deal_id=deal.id,
            expected_version=loaded_version,  # changed since the grid was loaded: refused
            items=lines,
            update_value=update_value,
            before_rerun=lambda _: _reload_products(f"products_{deal.id}"),
        )


def activities(deal: DealPublic, detail: dict[str, Any], may_write: bool) -> None:
    for act in detail["activities"]:
        c = st.columns([1, 4, 2, 1])
        c[0].markdown(t(f"pipeline.activity.{act.kind}"))
        c[1].text(act.subject)  # user text is data, never Markdown
        c[2].caption(
            t("pipeline.activity.done_at", when=fmt_datetime(act.done_at))
            if act.done_at
            else t("pipeline.activity.due", when=fmt_datetime(act.due_at))
        )
        if (
            act.done_at is None
            and may_write
            and c[3].button(t("pipeline.activity.complete"), key=f"done_{act.id}", icon=":material/check:")
        ):
            common.save(
                pipeline.complete_activity,
                "pipeline.activity.completed",
                activity_id=act.id,
                expected_version=act.version,
            )
    if may_write:
        with common.form(f"activity_{deal.id}"):
            c = st.columns([1, 3, 2, 1])
            kind = c[0].selectbox(
                t("pipeline.field.kind"),
                ACTIVITY_KINDS,
                format_func=lambda k: t(f"pipeline.activity.{k}"),
                placeholder=t("common.choose"),
            )
            subject = c[1].text_input(t("pipeline.field.subject"))
            due = c[2].date_input(t("pipeline.field.due"), value=None)
            done = c[3].checkbox(t("pipeline.activity.done"))
            if st.form_submit_button(t("pipeline.activity.add"), icon=":material/add_task:"):
                due_at = pd.Timestamp(due).tz_localize("UTC").to_pydatetime() if due else None
                common.save(
                    pipeline.create_activity,
                    "pipeline.activity.added",
                    data=ActivityCreate(
                        deal_id=deal.id, kind=kind, subject=subject, due_at=due_at, done=done
                    ),
                    before_rerun=lambda _: common.forms_saved(),
                )


def history(hist: pd.DataFrame, names: dict[int, str]) -> None:
    """The deal's stage moves: when, from, to, by whom."""
    st.dataframe(
        pd.DataFrame(
            {
                "at": hist["at"].map(fmt_datetime),
                "from": hist["from_stage_id"].map(lambda i: names.get(int(i), "–") if pd.notna(i) else "–"),
                "to": hist["to_stage_id"].map(names),
                "by": hist["by"],
            }
        ),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "at": t("field.when"),
            "from": t("pipeline.deal.from"),
            "to": t("pipeline.deal.to"),
            "by": t("field.user"),
        },
    )
