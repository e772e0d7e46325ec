"""The deal page's new-deal form, products and activities panels (pages/pipeline/deal.py stays a
storyboard)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_datetime, t
from crm_impl.core.ui import common
from crm_impl.pipeline.models import ACTIVITY_KINDS, ActivityCreate, DealCreate, DealProductLine, DealPublic
from crm_impl.pipeline.services import deals as pipeline


def open_new(deal: object) -> None:
    """After a deal is created: open it, and every form starts empty (no second deal by a
    second click)."""
    st.query_params["deal"] = str(getattr(deal, "id", ""))
    common.forms_saved()


def new_deal(accounts: dict[int, str], by_key: pd.DataFrame, names: dict[int, str]) -> None:
    """The "new deal" form (its fields are what `DealCreate` takes from a person)."""
    with st.expander(t("pipeline.deal.new"), icon=":material/add:"), common.form("new_deal"):
        c = st.columns(3)
        title = c[0].text_input(t("pipeline.field.title"))
        stage_key = c[1].selectbox(
            t("field.stage"),
            [k for k in by_key.index if by_key.loc[k, "kind"] == "open"],
            format_func=lambda k: names[int(by_key.loc[k, "id"])],
            placeholder=t("common.choose"),
        )
        account_id = c[2].selectbox(
            t("pipeline.field.account"),
            [None, *accounts],
            format_func=lambda v: "–" if v is None else accounts[v],
            placeholder=t("common.choose"),
        )
        value = c[0].number_input(t("pipeline.field.value"), min_value=0.0, step=1000.0)
        expected = c[1].date_input(t("pipeline.field.expected_close"), value=None)
        if st.form_submit_button(t("pipeline.deal.create"), type="primary", icon=":material/add:"):
            common.save(
                pipeline.create_deal,
                "pipeline.deal.created",
                data=DealCreate(
                    title=title,
                    stage_key=stage_key,
                    account_id=account_id,
                    value=value,
                    expected_close=expected,
                ),
                before_rerun=open_new,  # show the new deal; the form starts empty
            )


def _loaded_version(deal: DealPublic, editor_key: str) -> int:
    """The deal's version the products grid was loaded at: it moves on with the deal only while
    nothing is edited in the grid, so a save of edits made on an older state of the deal is
    refused as "changed by someone else" (see `common.shown_version`)."""
    return common.shown_version(editor_key, deal.version, grid=editor_key)


def _reload_products(base_key: str) -> None:
    """After a save: the grid starts again from the deal as stored (a new editor key)."""
    st.session_state[f"{base_key}_gen"] = st.session_state.get(f"{base_key}_gen", 0) + 1


def products(deal: DealPublic, detail: dict[str, Any], look: dict[str, Any], may_write: bool) -> None:
    items = detail["products"]
    catalogue = look["products"]
    editor_key = f"products_{deal.id}_{st.session_state.get(f'products_{deal.id}_gen', 0)}"
    loaded_version = _loaded_version(deal, editor_key)
    edited = st.data_editor(
        items[["product_id", "quantity", "unit_price"]],
        num_rows="dynamic",
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        key=editor_key,
        disabled=not may_write,
        column_config={
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
