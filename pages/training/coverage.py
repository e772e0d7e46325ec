"""Training coverage (issue 10, slide 10: a proper share for thorough training): licensed CRM users
trained before go-live per department, who is still untrained (the PM's list, exportable), and
the assessment scores."""

import streamlit as st

from crm_impl.core.i18n import fmt_date, fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.training import charts, metrics, ui

actor = common.page("pages/training/coverage.py")
pid = ui.project_id()
f = ui.frames(pid)
status = ui.status(pid)
total = metrics.coverage_total(status)
scores = metrics.scores(f.sessions, f.attendance, f.people)
left = ui.untrained_table(pid)

c = st.columns(4)
c[0].metric(
    t("training.ui.coverage"),
    fmt_pct(total["share"], 1),
    t("training.ui.trained_of", n=total["trained"], total=total["licensed"]),
    delta_color="off",
    delta_arrow="off",
)
c[1].metric(t("training.ui.untrained"), fmt_number(len(left)))
c[2].metric(t("training.field.mean_score"), fmt_number(scores["mean"], 1))
c[3].metric(t("training.ui.pass_share"), fmt_pct(scores["pass_share"], 1))
st.caption(
    t("training.ui.coverage_note", date=fmt_date(f.go_live)) if f.go_live else t("training.ui.no_go_live")
)

if total["licensed"] == 0:
    st.info(t("training.ui.no_licensed"), icon=":material/info:")
    st.stop()

cov = metrics.coverage(status)
st.subheader(t("training.ui.by_department"))
st.altair_chart(charts.coverage(cov, labels=ui.chart_labels()), width="stretch")
st.dataframe(
    cov.assign(department=cov["department"].replace("", common.EMPTY)),
    hide_index=True,
    width="stretch",
    column_config={
        "department": ui.field("department"),
        "licensed": ui.count_column("licensed"),
        "trained": ui.count_column("trained"),
        "share": ui.pct_column("share"),
    },
)

st.subheader(t("training.ui.untrained_heading"))
st.caption(t("training.ui.untrained_hint"))
if left.empty:
    st.success(t("training.ui.everyone_trained"), icon=":material/task_alt:")
else:
    st.dataframe(
        left,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_config={
            "name": ui.field("name"),
            "department": ui.field("department"),
            "next_session": ui.field("next_session"),
        },
    )
    common.csv_download(
        ui.export_frame(left, ["name", "department", "next_session"]), "untrained.csv", key="untrained_csv"
    )

st.subheader(t("training.ui.scores_by_module"))
modules = scores["by_module"]
if modules.empty:
    st.info(t("training.ui.no_scores"), icon=":material/info:")
else:
    st.dataframe(
        modules,
        hide_index=True,
        width="stretch",
        column_config={
            "module": ui.field("module"),
            "mean": st.column_config.NumberColumn(ui.field("mean_score"), format="%.1f"),
            "scored": ui.count_column("scored"),
        },
    )
