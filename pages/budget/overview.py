"""Budget overview: planned vs committed vs actual vs forecast by category and by phase, the
cumulative actual against the planned curve, the variance table (largest overruns first), the
findings of slide 10 (every stage budgeted, a proper share for training) and the export."""

import streamlit as st

from crm_impl.budget import charts, importing, ui
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_pct, t
from crm_impl.core.ui import common

actor = common.page("pages/budget/overview.py")
pid = ui.project_id()
data = ui.report(pid)
cur = data["currency"]
totals = data["totals"]
frames = data["frames"]
phases = dict(zip(frames["phases"]["id"].astype(int), frames["phases"]["name"], strict=True))
labels = ui.chart_labels()

# three a row: five side by side cut amounts in the millions short ("1,490,00…")
c = ui.cols(3)
c[0].metric(ui.field("planned"), ui.money(totals["planned"], cur))
c[1].metric(ui.field("committed"), ui.money(totals["committed"], cur))
c[2].metric(ui.field("actual"), ui.money(totals["actual"], cur))
c = ui.cols(3)
c[0].metric(ui.field("forecast"), ui.money(totals["forecast"], cur))
c[1].metric(t("budget.overview.training_share"), fmt_pct(data["training_share"], 1))

st.subheader(t("budget.overview.findings"))
ui.findings(data["findings"], cur)

if frames["lines"].empty:
    st.info(t("budget.ui.no_lines"), icon=":material/info:")
    st.stop()

by_cat, by_phase, curve = st.tabs(
    [t("budget.overview.tab_category"), t("budget.overview.tab_phase"), t("budget.overview.tab_curve")]
)
with by_cat:
    cats = data["by_category"]
    names = ui.categories()
    st.altair_chart(
        charts.amounts_by(cats, "category", names=names, labels=labels | {"row": ui.field("category")}),
        width="stretch",
    )
    st.dataframe(ui.amounts_table(cats, "category", names, cur), hide_index=True, width="stretch")
with by_phase:
    ph = data["by_phase"]
    ph_names = {
        int(k): (v or t("budget.ui.no_phase")) for k, v in zip(ph["phase_id"], ph["phase"], strict=True)
    }
    st.altair_chart(
        charts.amounts_by(ph, "phase_id", names=ph_names, labels=labels | {"row": ui.field("phase")}),
        width="stretch",
    )
    st.dataframe(ui.amounts_table(ph, "phase_id", ph_names, cur), hide_index=True, width="stretch")
with curve:
    st.caption(t("budget.overview.curve_hint"))
    cum = data["cumulative"]
    if cum.empty:
        st.info(t("budget.ev.no_history"), icon=":material/info:")
    else:
        st.altair_chart(charts.cumulative(cum, labels=labels), width="stretch")

st.subheader(t("budget.overview.variance"))
st.caption(t("budget.overview.variance_hint"))
ui.variance_table(data["lines"], cur, phases)

with read_session() as session:
    sheets = importing.export_frames(session=session, actor=actor, project_id=pid)
c = ui.cols(3)
common.csv_download(sheets["lines"], "budget-lines.csv", key="budget_lines_csv", where=c[0])
common.csv_download(
    sheets["postings"],
    "cost-postings.csv",
    key="budget_postings_csv",
    label_key="budget.ui.export_postings",
    where=c[1],
)
common.xlsx_download(sheets, "budget.xlsx", key="budget_xlsx", label_key="budget.ui.export_xlsx", where=c[2])
