"""My work: for a programmer the defects assigned to me (reopened first); for a tester the
fixes waiting for my retest and on which release; for the client tester the real-data defects
waiting for sign-off; for a PM the defects waiting for triage or an assignee."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.defects import ui

actor = common.page("pages/defects/my_work.py")
pid = ui.project_id()
look = ui.lookups(pid)
lists = ui.my_work(pid, ui.defects(pid), actor, look)

if not lists:
    st.info(t("defects.my_work.nothing_for_role"), icon=":material/info:")
    st.stop()

c = st.columns(len(lists))
for col_, (kind, df) in zip(c, lists.items(), strict=True):
    col_.metric(t(f"defects.my_work.{kind}"), fmt_number(len(df)))

for kind, df in lists.items():
    st.subheader(t(f"defects.my_work.{kind}"))
    st.caption(t(f"defects.my_work.{kind}_hint"))
    if df.empty:
        st.info(t("defects.my_work.empty"), icon=":material/task_alt:")
    else:
        ui.defect_table(df, key=f"my_work_{kind}")
