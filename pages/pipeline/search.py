"""Search results: clients, contacts and deals matching the sidebar's search box (the query is
in the address, `?q=…`, so a link to the results works). Ranked by crm_impl.pipeline.search."""

from __future__ import annotations

import streamlit as st

from crm_impl.core.i18n import fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.core.ui import search as core_search
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.ui import search as search_ui

actor = common.page(search_ui.PAGE)
query = core_search.query()
if not query:
    st.info(t("search.hint"), icon=":material/search:")
    st.stop()

found = search_ui.results(actor, query)
st.caption(t("search.results_for", query=common.plain(query)))
if not found.total:
    st.info(t("search.none"), icon=":material/search_off:")
    st.stop()

c = st.columns(len(found.counts))
for col, (kind, n) in zip(c, found.counts.items(), strict=True):
    col.metric(t(f"search.kinds.{kind}"), fmt_number(n))
if found.total > len(found.top):
    st.caption(tn("search.first", found.total, shown=fmt_number(len(found.top))))
search_ui.show_hits(found.top, ui.stage_name_map(ui.current_lookups()["stages"]))
