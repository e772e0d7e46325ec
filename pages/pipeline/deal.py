"""One deal: its fields, products, activities and stage history; move it, lose it with a reason,
or open repeat business once it is won. New deals start here too."""

from __future__ import annotations

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_money, t
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.models import DEAL_FIELDS, DealPublic, DealUpdate
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settlements
from crm_impl.pipeline.ui import deal_contact, deal_panels
from crm_impl.pipeline.ui import stock as stock_ui

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
    deal_contact.new_deal(actor, accounts, stages, names)

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
stock = stock_ui.deal_stock(actor, deal.id)

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
deal_contact.summary(detail["contact"])
if erp_flag:
    st.warning(
        t("pipeline.erp.warning", details=ui.erp_badge(erp_flag)),
        icon=":material/account_balance:",
    )
stock_ui.moved_warning(names)  # just moved into Offer with products short
if deal.lost_reason:
    st.caption(
        t(
            "pipeline.deal.lost_because",
            reason=common.plain(look["reasons"].get(deal.lost_reason, deal.lost_reason)),
        )
    )

details, contact, move, products, activities, history = st.tabs(
    [
        t("pipeline.deal.tab_details"),
        t("pipeline.contact.title"),
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
    deal_panels.move(actor, deal, stage, look, erp_flag, stock, may_write)

with contact:
    deal_contact.panel(deal, detail, deal_contact.may_edit(actor, deal))

with products:
    deal_panels.products(deal, detail, look, stock, may_write)

with activities:
    deal_panels.activities(deal, detail, may_write)

with history:
    deal_panels.history(detail["history"], names)
