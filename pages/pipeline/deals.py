"""Deal list (Pipedrive's list view): every deal with its client, contact person, stage, owner,
value and dates; filters and the user's saved filters; sort by any column; open a deal; CSV /
Excel of the listed deals; and for managers a bulk change (owner, stage, expected close) of the
selected deals, all or nothing."""

from __future__ import annotations

import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.core.i18n import fmt_money_short, fmt_number, t
from crm_impl.core.ui import common
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.queries.deal_list import summary
from crm_impl.pipeline.queries.values import base_currency
from crm_impl.pipeline.services.deals import today_utc
from crm_impl.pipeline.ui import deal_list

actor = common.page("pages/pipeline/deals.py")
look = ui.current_lookups()
names = ui.stage_name_map(look["stages"])

with st.expander(t("pipeline.deals.filters"), icon=":material/filter_list:", expanded=True):
    filters = deal_list.filter_bar(actor, look, names)
frame, total = deal_list.load(actor, filters)

figures = summary(frame, base_currency(), today_utc())
c = st.columns(4)
c[0].metric(t("pipeline.deals.shown"), fmt_number(total))
c[1].metric(t("pipeline.deals.open_value"), fmt_money_short(figures["open_value"], base_currency()))
c[2].metric(t("pipeline.deals.weighted"), fmt_money_short(figures["weighted"], base_currency()))
c[3].metric(t("pipeline.deals.overdue_count"), fmt_number(figures["overdue"]))
if total > len(frame):
    st.caption(t("pipeline.deals.truncated", shown=fmt_number(len(frame)), total=fmt_number(total)))
ui.currency_note(ui.other_currencies(ui.data_version(), get_settings().database_url), base_currency())

if frame.empty:
    key = "pipeline.deals.none" if filters.is_empty() else "pipeline.deals.none_filtered"
    st.info(t(key), icon=":material/search_off:")
    st.stop()

bulk = actor.can("deal.write_any")
st.caption(t("pipeline.deals.select_hint_bulk" if bulk else "pipeline.deals.select_hint"))
selected = deal_list.table(frame, names, multi=bulk)
deal_list.exports(frame, names)

if bulk and selected:
    with st.container(border=True):
        st.subheader(t("pipeline.deals.bulk_change"))
        deal_list.bulk_change(frame, selected, look, names)
