"""Quality dashboard (issue 9): open defects by severity and status; arrival vs closure per week
with the open backlog; reopen rate; time to fix and to verify (Kaplan–Meier median and 90th
percentile, open ones censored); by module and by found-in release; share found on real data by
the client tester; pass rate per release; per programmer. The numbers as metrics, the same as
`crm-impl report defects`."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.defects import charts, ui

actor = common.page("pages/defects/dashboard.py")
pid = ui.project_id()
data = ui.dashboard(pid)
labels = ui.chart_labels()
d = "defects.dashboard."


def days(value: float | None) -> str:
    return t(d + "days_value", days=fmt_number(value, 1)) if value is not None else common.EMPTY


totals, reopen, real = data["totals"], data["reopen"], data["real_data"]
c = st.columns(4)
c[0].metric(t(d + "defects"), fmt_number(totals["defects"]))
c[1].metric(t(d + "open"), fmt_number(totals["open"]))
common.noted_metric(
    c[2],
    t(d + "reopen_rate"),
    fmt_pct(reopen["rate"], 1),
    t(d + "reopened_of", n=reopen["reopened"], fixed=reopen["fixed"]),
)
common.noted_metric(
    c[3],
    t(d + "real_data_share"),
    fmt_pct(real["share"], 1),
    t(d + "real_data_of", n=real["real_data_by_client"], total=real["defects"]),
)
c = st.columns(4)
c[0].metric(t(d + "fix_median"), days(data["fix"]["median"]))
c[1].metric(t(d + "fix_p90"), days(data["fix"]["p90"]))
c[2].metric(t(d + "verify_median"), days(data["verify"]["median"]))
c[3].metric(t(d + "verify_p90"), days(data["verify"]["p90"]))
st.caption(t(d + "censored_note", fix=data["fix"]["censored"], verify=data["verify"]["censored"]))

if totals["defects"] == 0:
    st.info(t(d + "no_defects"), icon=":material/info:")
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader(t(d + "open_by_severity"))
    st.altair_chart(charts.open_by_severity(data["severity"], labels=labels["severity"]), width="stretch")
with right:
    st.subheader(t(d + "durations"))
    st.altair_chart(
        charts.durations({"fix": data["fix"], "verify": data["verify"]}, labels=labels["durations"]),
        width="stretch",
    )

st.subheader(t(d + "arrival_closure"))
st.altair_chart(charts.arrival_closure(data["flow"], labels=labels["flow"]), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader(t(d + "by_module"))
    st.altair_chart(charts.by_module(data["modules"], labels=labels["modules"]), width="stretch")
with right:
    st.subheader(t(d + "by_release"))
    st.altair_chart(charts.by_release(data["releases"], labels=labels["releases"]), width="stretch")

st.subheader(t(d + "pass_rate"))
if data["pass_rate"].empty:
    st.info(t(d + "no_runs"), icon=":material/info:")
else:
    st.altair_chart(charts.pass_rate(data["pass_rate"], labels=labels["pass_rate"]), width="stretch")

st.subheader(t(d + "per_programmer"))
people = data["programmers"]
if people.empty:
    st.info(t(d + "no_programmers"), icon=":material/info:")
else:
    st.altair_chart(charts.per_programmer(people, labels=labels["programmers"]), width="stretch")
    st.dataframe(
        people,
        hide_index=True,
        width="stretch",
        column_order=["name", "assigned", "open", "fixed", "reopened"],
        column_config={
            "name": t(d + "programmer"),
            "assigned": st.column_config.NumberColumn(t(d + "assigned"), format="%d"),
            "open": st.column_config.NumberColumn(t(d + "open"), format="%d"),
            "fixed": st.column_config.NumberColumn(t(d + "fixed"), format="%d"),
            "reopened": st.column_config.NumberColumn(t(d + "reopened"), format="%d"),
        },
        placeholder=common.EMPTY,
    )
