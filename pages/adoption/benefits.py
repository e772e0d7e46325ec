"""Benefits (issue 11, slide 11: people who are not shown real gains will not use the CRM): what
the CRM gains, in hours, złoty, days or percent, from a baseline, measured on dates; the gain of
each over time (a positive gain is an improvement, whichever way its unit should move); the
benefit demonstration meetings that showed each. The register is exportable."""

import streamlit as st

from crm_impl.adoption.charts import registers as charts
from crm_impl.adoption.metrics import registers as metrics
from crm_impl.adoption.ui import registers as ui
from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common

actor = common.page("pages/adoption/benefits.py")
pid = ui.project_id()
f = ui.frames(pid)
table = ui.benefits_table(pid)
s = metrics.benefit_summary(table)

c = st.columns(4)
c[0].metric(t("adoption.benefits.count"), fmt_number(s["benefits"]))
common.noted_metric(
    c[1],
    t("adoption.benefits.improved"),
    fmt_number(s["improved"]),
    t("adoption.benefits.measured_of", n=s["measured"]),
)
c[2].metric(t("adoption.benefits.mean_gain"), fmt_pct(s["mean_gain_share"], 1))
c[3].metric(t("adoption.benefits.shown"), fmt_number(s["shown"]))

if actor.can("adoption.manage"):
    with st.expander(t("adoption.benefits.new"), icon=":material/add:"):
        ui.benefit_form(pid)
    if not table.empty:
        with st.expander(t("adoption.benefits.add_measurement"), icon=":material/add_chart:"):
            ui.measurement_form(pid)

if table.empty:
    st.info(t("adoption.benefits.none"), icon=":material/info:")
    st.stop()

st.subheader(t("adoption.benefits.gains"))
points = metrics.gains_over_time(f.benefits, f.measurements)
if points["gain_share"].notna().any():
    st.altair_chart(charts.benefit_gains(points, f.benefits, labels=ui.chart_labels()), width="stretch")
    st.caption(t("adoption.benefits.gain_note"))
else:
    st.info(t("adoption.benefits.no_measurements"), icon=":material/info:")

st.subheader(t("adoption.benefits.register"))
ui.show_benefits(table)
c = st.columns([1, 1, 2])
with c[0]:
    common.csv_download(ui.export_benefits(table), "benefits.csv", key="benefits_csv")
with c[1]:
    common.csv_download(
        ui.export_measurements(pid),
        "benefit-measurements.csv",
        key="measurements_csv",
        label_key="adoption.benefits.export_measurements",
    )

options = dict(zip(table["id"].astype(int), table["name"].astype(str), strict=True))
chosen = st.selectbox(
    t("adoption.benefits.pick"),
    list(options),
    format_func=lambda i: options.get(i, ""),
    index=None,
    placeholder=t("common.choose"),
    key="benefit_pick",
)
if chosen is not None:
    shown = ui.shown_at(pid, int(chosen))
    st.caption(t("adoption.benefits.shown_at"))
    if shown.empty:
        st.text(t("adoption.benefits.never_shown"))
    else:
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                "meeting_date": ui.date_column("meeting_date"),
                "title": ui.field("meeting_title"),
            },
        )
