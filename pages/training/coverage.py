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
common.noted_metric(
    c[0],
    t("training.ui.coverage"),
    fmt_pct(total["share"], 1),
    t("training.ui.trained_of", n=total["trained"], total=total["licensed"]),
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
    cov.assign(
        department=cov["department"].replace("", common.EMPTY),
        share=cov["share"].map(lambda v: fmt_pct(v, 1)),  # as the tile writes it, in the reader's language
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "department": ui.field("department"),
        "licensed": ui.count_column("licensed"),
        "trained": ui.count_column("trained"),
        "share": st.column_config.TextColumn(ui.field("share")),
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

modules, by_department = scores["by_module"], scores["by_department"]
if modules.empty:
    st.subheader(t("training.ui.scores_by_module"))
    st.info(t("training.ui.no_scores"), icon=":material/info:")
else:
    by_module_col, by_department_col = st.columns(2)
    for where, heading, frame, key in (
        (by_module_col, "training.ui.scores_by_module", modules, "module"),
        (by_department_col, "training.ui.scores_by_department", by_department, "department"),
    ):
        with where:
            st.subheader(t(heading))
            st.dataframe(
                frame.assign(
                    mean=frame["mean"].map(lambda v: fmt_number(v, 1)),
                    **{key: frame[key].replace("", common.EMPTY)},
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    key: ui.field(key),
                    "mean": st.column_config.TextColumn(ui.field("mean_score")),
                    "scored": ui.count_column("scored"),
                },
            )
