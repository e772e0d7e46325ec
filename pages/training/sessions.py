"""Training sessions (issue 10): held vs planned per month, the list, and for the chosen session
its invitations and attendance; trainers (and PMs) create and edit sessions, invite people, mark
a session held and record attendance and scores."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.training import charts, metrics, ui

actor = common.page("pages/training/sessions.py")
pid = ui.project_id()
f = ui.frames(pid)
manage = actor.can("training.manage")
counts = metrics.held_vs_planned(f.sessions, ui.today())

c = st.columns(4)
c[0].metric(t("training.ui.sessions"), fmt_number(counts["sessions"]))
c[1].metric(t("training.status.held"), fmt_number(counts["held"]))
c[2].metric(t("training.status.planned"), fmt_number(counts["planned"]))
c[3].metric(t("training.ui.overdue"), fmt_number(counts["overdue"]), help=t("training.ui.overdue_help"))

if manage:
    with st.expander(t("training.ui.new_session"), icon=":material/add:"):
        ui.session_form(pid)

if f.sessions.empty:
    st.info(t("training.ui.no_sessions"), icon=":material/info:")
    st.stop()

st.subheader(t("training.ui.per_month"))
per_month = metrics.sessions_per_month(f.sessions)
st.altair_chart(
    charts.sessions_per_month(per_month, today=ui.today(), labels=ui.chart_labels()), width="stretch"
)

table = ui.sessions_table(pid)
ui.show_sessions(table)
titles = {
    int(i): f"{d:%Y-%m-%d} · {n}"
    for i, d, n in zip(table["id"], table["session_date"], table["title"], strict=True)
}
# the newest held session first: its attendance is what the trainer records next
held = [int(i) for i in table.loc[table["status"] == "held", "id"]]
chosen = st.selectbox(
    t("training.ui.pick_session"),
    list(titles),
    index=list(titles).index(held[0]) if held else 0,
    format_func=lambda i: titles.get(i, ""),
    placeholder=t("common.choose"),
    key="session_pick",
)
row = ui.get_session(int(chosen)) if chosen is not None else None
if row is not None:
    st.subheader(t("training.ui.session_heading"))
    st.text(f"{row.title} · {ui.label('status', row.status)}")
    rows = ui.attendance_frame(pid, int(row.id or 0))
    if rows.empty:
        st.info(t("training.ui.nobody_invited"), icon=":material/info:")
    elif manage and row.status == "held":
        ui.attendance_form(row, rows)
    else:
        ui.show_attendance(rows)
        if manage and row.status == "planned":
            st.caption(t("training.ui.attendance_after_held"))
    if manage:
        ui.status_buttons(row)
        with st.expander(t("training.ui.invite"), icon=":material/person_add:"):
            ui.invite_form(pid, row, set(rows["person_id"].astype(int)))
        with st.expander(t("training.ui.edit_session"), icon=":material/edit:"):
            ui.session_form(pid, row)
