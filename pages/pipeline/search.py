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

hits = search_ui.results(actor, query)
st.caption(t("search.results_for", query=common.plain(query)))
if hits.empty:
    st.info(t("search.none"), icon=":material/search_off:")
    st.stop()

counts = hits["kind"].value_counts()
c = st.columns(3)
for col, kind in zip(c, ("client", "contact", "deal"), strict=True):
    col.metric(t(f"search.kinds.{kind}"), fmt_number(int(counts.get(kind, 0))))
if len(hits) > search_ui.LIMIT:
    st.caption(tn("search.first", len(hits), shown=fmt_number(search_ui.LIMIT)))
search_ui.show_hits(hits.head(search_ui.LIMIT), ui.stage_name_map(ui.current_lookups()["stages"]))
