"""ADKAR readiness (issue 11, Prosci): per department the latest survey round's mean per element
with the first barrier point (the first element at or below 3, Awareness → Reinforcement)
highlighted, beside the department's use of the CRM and its training coverage — readiness and
usage in one view; the trend over the rounds; the responses of a round, entered one by one, as a
grid or imported from a form tool's CSV."""

import streamlit as st

from crm_impl.adoption.charts import registers as charts
from crm_impl.adoption.metrics import adkar as metrics
from crm_impl.adoption.ui import registers as ui
from crm_impl.core.i18n import fmt_date, fmt_number, t
from crm_impl.core.ui import common

actor = common.page("pages/adoption/readiness.py")
pid = ui.project_id()
f = ui.frames(pid)
day = ui.today()
view = ui.readiness(pid, day)
counts = metrics.barrier_counts(view)
stalled = counts["surveyed_departments"] - counts["none"]

c = st.columns(4)
c[0].metric(t("adoption.adkar.rounds"), fmt_number(len(f.rounds)))
c[1].metric(
    t("adoption.adkar.latest_round"),
    fmt_date(f.rounds["survey_date"].max().date()) if len(f.rounds) else common.EMPTY,
)
c[2].metric(t("adoption.adkar.surveyed"), fmt_number(counts["surveyed_departments"]))
c[3].metric(t("adoption.adkar.with_barrier"), fmt_number(stalled))

if actor.can("adoption.manage"):
    with st.expander(t("adoption.adkar.new_round"), icon=":material/add:"):
        ui.round_form(pid)
    with st.expander(t("adoption.adkar.import"), icon=":material/upload_file:"):
        ui.csv_import(pid)

if f.responses.empty:
    st.info(t("adoption.adkar.no_responses"), icon=":material/info:")
    st.stop()

labels = ui.chart_labels()
st.subheader(t("adoption.adkar.by_department"))
st.caption(t("adoption.adkar.barrier_note"))
latest = metrics.latest_by_department(f.rounds, f.responses)
st.altair_chart(charts.readiness_heatmap(latest, labels=labels), width="stretch")
ui.show_readiness(view)
st.caption(t("adoption.adkar.beside_note"))

st.subheader(t("adoption.adkar.trend"))
trend = metrics.trend(f.rounds, f.responses)
surveyed = sorted(set(trend["department"]))
chosen = st.selectbox(t("adoption.field.department"), surveyed, index=0, key="adkar_trend_department")
one = trend.loc[trend["department"] == chosen]
st.altair_chart(charts.adkar_trend(metrics.trend_long(one), labels=labels), width="stretch")

st.subheader(t("adoption.adkar.responses"))
rounds = ui.round_options(pid)
picked = st.selectbox(
    t("adoption.field.round"),
    list(rounds),
    format_func=lambda i: rounds.get(i, ""),
    index=0,
    key="adkar_round",
)
if picked is not None:
    rows = ui.responses_table(pid, int(picked))
    if rows.empty:
        st.info(t("adoption.adkar.round_empty"), icon=":material/info:")
    else:
        ui.show_responses(rows)
        common.csv_download(ui.export_responses(rows), "adkar-responses.csv", key="adkar_csv_download")
    if actor.can("adoption.manage"):
        with st.expander(t("adoption.adkar.add_response"), icon=":material/person_add:"):
            ui.response_form(pid, int(picked))
        with st.expander(t("adoption.adkar.bulk"), icon=":material/table_rows:"):
            ui.bulk_editor(pid, int(picked))
