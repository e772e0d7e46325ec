"""The defect list (Bugzilla / Jira): filters (status, severity, module, release, assignee,
mine), the user's saved filters, a sortable table with a link to each defect, CSV / Excel
export, and for PMs a bulk change of the selected rows in one all-or-nothing call."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.defects import models as dm
from crm_impl.defects import ui

actor = common.page("pages/defects/list.py")
pid = ui.project_id()
look = ui.lookups(pid)

if actor.can("defect.report"):
    st.page_link("pages/defects/new.py", label=t("page.defects_new"), icon=":material/add_circle:")

with st.expander(t("defects.list.filters"), icon=":material/filter_list:", expanded=True):
    criteria = ui.filter_bar(actor, look)
shown = ui.defect_list(pid, criteria, actor)

c = st.columns(4)
c[0].metric(t("defects.list.shown"), fmt_number(len(shown)))
c[1].metric(t("defects.list.open"), fmt_number(int(shown["status"].isin(dm.OPEN_STATUSES).sum())))
c[2].metric(
    t("defects.list.blocking"),
    fmt_number(
        int((shown["status"].isin(dm.OPEN_STATUSES) & shown["severity"].isin(("blocker", "critical"))).sum())
    ),
)
c[3].metric(t("defects.list.real_data"), fmt_number(int((shown["environment"] == "real_data").sum())))

if shown.empty:
    st.info(t("defects.list.none"), icon=":material/search_off:")
    st.stop()

bulk = actor.can("defect.triage")
st.caption(t("defects.list.select_hint_bulk" if bulk else "defects.list.select_hint"))
selected = ui.defect_table(shown, key="defects_table", multi=bulk)
ui.exports(shown, key="defects_export")

if bulk and selected:
    with st.container(border=True):
        st.subheader(t("defects.list.bulk_change"))
        ui.bulk_change(selected, look)
