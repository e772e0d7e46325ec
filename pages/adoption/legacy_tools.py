"""Legacy tools (issue 11, slide 11: after go-live the other programs and the paper notes must
go): the spreadsheets, paper and other programs people still use instead of the CRM, who uses
them, the retire-by date and the day each was retired; the share retired and the overdue ones
(retire-by passed, still in use) first. The register is exportable."""

import streamlit as st

from crm_impl.adoption.charts import registers as charts
from crm_impl.adoption.metrics import registers as metrics
from crm_impl.adoption.ui import registers as ui
from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common

actor = common.page("pages/adoption/legacy_tools.py")
pid = ui.project_id()
day = ui.today()
table = ui.tools_table(pid, day)
s = metrics.tool_summary(table)

c = st.columns(4)
common.noted_metric(
    c[0],
    t("adoption.tools.share_retired"),
    fmt_pct(s["share_retired"], 1),
    t("adoption.tools.retired_of", n=s["retired"], total=s["tools"]),
)
c[1].metric(t("adoption.tools.overdue"), fmt_number(s["overdue"]))
c[2].metric(t("adoption.tools.in_use"), fmt_number(s["in_use"]))
c[3].metric(t("adoption.tools.still_used_by"), fmt_number(s["still_used_by"]))

if actor.can("adoption.manage"):
    with st.expander(t("adoption.tools.new"), icon=":material/add:"):
        ui.tool_form(pid)

if table.empty:
    st.info(t("adoption.tools.none"), icon=":material/info:")
    st.stop()

late = metrics.overdue(table)
st.subheader(t("adoption.tools.overdue_heading"))
if late.empty:
    st.success(t("adoption.tools.none_overdue"), icon=":material/task_alt:")
else:
    ui.show_tools(late, ["name", "kind_label", "retire_by", "days_overdue", "user_names"])

st.subheader(t("adoption.tools.by_kind"))
st.altair_chart(charts.tools_by_kind(metrics.tools_by_kind(table), labels=ui.chart_labels()), width="stretch")
st.subheader(t("adoption.tools.register"))
ui.show_tools(table)
common.csv_download(ui.export_tools(table), "legacy-tools.csv", key="tools_csv")

if actor.can("adoption.manage"):
    options = dict(zip(table["id"].astype(int), table["name"].astype(str), strict=True))
    chosen = st.selectbox(
        t("adoption.tools.pick"),
        list(options),
        format_func=lambda i: options.get(i, ""),
        index=None,
        placeholder=t("common.choose"),
        key="tool_pick",
    )
    if chosen is not None:
        row, users = ui.get_tool(int(chosen))
        if row is not None:
            ui.retire_button(row)
            with st.expander(t("adoption.tools.edit"), icon=":material/edit:", expanded=True):
                ui.tool_form(pid, row, users)
