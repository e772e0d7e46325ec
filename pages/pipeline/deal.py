"""One deal: its fields, products, activities and stage history; move it, lose it with a reason,
or open repeat business once it is won. New deals start here too."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_datetime, fmt_money, t
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.models import DEAL_FIELDS, DealPublic, DealUpdate
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settlements
from crm_impl.pipeline.ui import deal_panels

actor = common.page("pages/pipeline/deal.py")
ui_session.live_page(ui.live_every(), "deal")  # another user's change shows without a click
look = ui.current_lookups()
stages = look["stages"]
names = ui.stage_name_map(stages)
by_key = stages.set_index("key")
may_write = actor.can("deal.write")

with read_session() as session:
    accounts = dict(pipeline.pick_accounts(session=session, actor=actor))


if may_write:
    deal_panels.new_deal(accounts, by_key, names)

search = st.text_input(t("pipeline.deal.search"), key="deal_search")
with read_session() as session:
    options = dict(pipeline.pick_deals(session=session, actor=actor, search=search))
wanted = st.query_params.get("deal")
if wanted and wanted.isdigit() and int(wanted) not in options:
    with read_session() as session:
        options = {**pipeline.deal_titles(session=session, deal_ids=[int(wanted)]), **options}
ids = list(options)
if not ids:
    st.info(t("pipeline.deal.none"), icon=":material/info:")
    st.stop()
default = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in options else 0
deal_id = st.selectbox(
    t("pipeline.field.deal"),
    ids,
    index=default,
    format_func=lambda i: f"#{i} {options[i]}",
    placeholder=t("common.choose"),
)
st.query_params["deal"] = str(deal_id)

with read_session() as session:
    detail = pipeline.deal_detail(session=session, actor=actor, deal_id=deal_id)
    flags = settlements.account_flags(
        session=session, account_ids=[detail["deal"].account_id] if detail["deal"].account_id else []
    )
deal: DealPublic = detail["deal"]
stage = stages[stages["id"] == deal.stage_id].iloc[0]
erp_flag = flags.get(deal.account_id) if deal.account_id is not None else None

head = st.columns(4)
head[0].metric(t("field.stage"), common.plain(names[deal.stage_id]))
head[1].metric(t("pipeline.field.value"), fmt_money(deal.value, deal.currency))
head[2].metric(t("pipeline.field.owner"), common.plain(look["owners"].get(deal.owner_id, "–")))
head[3].metric(t("pipeline.field.expected_close"), fmt_date(deal.expected_close))
if detail["account"] is not None:
    st.page_link(
        "pages/pipeline/client.py",
        label=common.plain(detail["account"].name),
        query_params={"account": str(deal.account_id)},
        icon=":material/storefront:",
    )
if erp_flag:
    st.warning(
        t("pipeline.erp.warning", details=ui.erp_badge(erp_flag)),
        icon=":material/account_balance:",
    )
if deal.lost_reason:
    st.caption(
        t(
            "pipeline.deal.lost_because",
            reason=common.plain(look["reasons"].get(deal.lost_reason, deal.lost_reason)),
        )
    )

details, move, products, activities, history = st.tabs(
    [
        t("pipeline.deal.tab_details"),
        t("pipeline.deal.tab_move"),
        t("pipeline.deal.tab_products"),
        t("pipeline.deal.tab_activities"),
        t("pipeline.deal.tab_history"),
    ]
)

edit_version = common.shown_version(f"deal_edit_{deal.id}", deal.version)  # as the form showed it
with details, st.form(f"edit_{deal.id}"):
    c = st.columns(3)
    new_title = c[0].text_input(t("pipeline.field.title"), value=deal.title)
    acc_opts = [None, *accounts]
    new_account = c[1].selectbox(
        t("pipeline.field.account"),
        acc_opts,
        index=acc_opts.index(deal.account_id) if deal.account_id in acc_opts else 0,
        format_func=lambda v: "–" if v is None else accounts[v],
        placeholder=t("common.choose"),
    )
    owner_opts = list(look["owners"])
    new_owner = c[2].selectbox(
        t("pipeline.field.owner"),
        owner_opts,
        index=owner_opts.index(deal.owner_id) if deal.owner_id in owner_opts else 0,
        format_func=look["owners"].get,
        disabled=not actor.can("deal.write_any"),
        placeholder=t("common.choose"),
    )
    new_value = c[0].number_input(
        t("pipeline.field.value"), min_value=0.0, value=float(deal.value), step=1000.0
    )
    prob = c[1].number_input(
        t("pipeline.field.probability"),
        min_value=0.0,
        max_value=1.0,
        value=deal.probability,
        step=0.05,
        help=t("pipeline.deal.probability_help", p=f"{stage['probability']:.0%}"),
    )
    new_expected = c[2].date_input(t("pipeline.field.expected_close"), value=deal.expected_close)
    promised = c[0].date_input(t("pipeline.field.promised_delivery"), value=deal.promised_delivery)
    actual = c[1].date_input(t("pipeline.field.actual_delivery"), value=deal.actual_delivery)
    if st.form_submit_button(t("common.save"), icon=":material/save:", disabled=not may_write):
        typed = {
            "title": new_title,
            "account_id": new_account,
            "owner_id": new_owner,
            "value": new_value,
            "probability": prob,
            "expected_close": new_expected,
            "promised_delivery": promised,
            "actual_delivery": actual,
        }
        # only what the user changed is sent (the editable fields are DealUpdate's)
        changed = {f: typed[f] for f in DEAL_FIELDS if f in typed and typed[f] != getattr(deal, f)}
        common.save(
            pipeline.update_deal,
            "common.saved",
            deal_id=deal.id,
            expected_version=edit_version,
            data=DealUpdate(**changed),
        )

with move:
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
    if erp_flag and to_key in settlements.FLAG_STAGES:
        st.warning(
            t(
                "pipeline.erp.move_warning",
                stage=common.plain(names[int(by_key.loc[to_key, "id"])]),
                details=ui.erp_badge(erp_flag),
            ),
            icon=":material/warning:",
        )
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
                before_rerun=deal_panels.open_new,
            )

with products:
    deal_panels.products(deal, detail, look, may_write)

with activities:
    deal_panels.activities(deal, detail, may_write)

with history:
    hist = detail["history"]
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
