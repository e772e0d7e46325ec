"""Earned value: PV, EV, AC, CV, SV, CPI, SPI, EAC, ETC and VAC now and per month. Closed months
are frozen snapshots (the % complete as it was then); the month in progress is computed live
and drawn as partial."""

import streamlit as st

from crm_impl.budget import charts, ui
from crm_impl.core.i18n import t
from crm_impl.core.ui import common

actor = common.page("pages/budget/earned_value.py")
pid = ui.project_id()
ui.freeze_last_month(pid, actor)
data = ui.report(pid)
cur = data["currency"]
ev = data["earned_value"]
history = data["history"]

st.caption(t("budget.ev.intro"))
ui.ev_tiles(ev, cur)

labels = ui.chart_labels()
if len(history) > 0:
    left, right = st.columns(2)
    with left:
        st.subheader(t("budget.ev.chart_values"))
        st.altair_chart(charts.earned_value(history, labels=labels), width="stretch")
    with right:
        st.subheader(t("budget.ev.chart_indices"))
        st.altair_chart(charts.indices(history, labels=labels), width="stretch")
st.subheader(t("budget.ev.table"))
st.caption(t("budget.ev.snapshot_hint"))
ui.ev_table(history, cur)
