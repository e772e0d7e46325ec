"""Meetings (issue 10; slides 6, 8 and 11): steering committees per month and the share with
management present, benefit demonstrations after go-live, employees involved in workshops per
department; the list, and for the chosen meeting its attendees, decisions and notes (as plain
text). Whoever holds a meeting records it and edits their own; PMs and management edit any."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.training import charts, metrics, services, ui

actor = common.page("pages/training/meetings.py")
pid = ui.project_id()
f = ui.frames(pid)
today = ui.today()
steer = metrics.steering_summary(f.meetings, today)
demos = metrics.benefit_demos(f.meetings, f.go_live, today)
labels = ui.chart_labels()

c = st.columns(4)
c[0].metric(t("training.ui.steering_held"), fmt_number(steer["held"]))
common.noted_metric(
    c[1],
    t("training.ui.management_share"),
    fmt_pct(steer["share"], 1),
    t("training.ui.with_management_of", n=steer["with_management"], total=steer["held"]),
)
c[2].metric(t("training.ui.demos_after"), fmt_number(demos["held_after_go_live"]))
c[3].metric(t("training.ui.demos_planned"), fmt_number(demos["planned"]))

if actor.can("meeting.organise"):
    with st.expander(t("training.ui.new_meeting"), icon=":material/add:"):
        ui.meeting_form(pid)

if f.meetings.empty:
    st.info(t("training.ui.no_meetings"), icon=":material/info:")
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader(t("training.ui.steering_per_month"))
    per = metrics.steering_per_month(f.meetings, today)
    if per.empty:
        st.info(t("training.ui.no_steering"), icon=":material/info:")
    else:
        st.altair_chart(charts.steering(per, today=today, labels=labels), width="stretch")
with right:
    st.subheader(t("training.ui.involvement"))
    st.altair_chart(
        charts.involvement(
            metrics.workshop_involvement(f.meetings, f.attendees, f.people, today), labels=labels
        ),
        width="stretch",
    )

table = ui.meetings_table(pid)
ui.show_meetings(table)
titles = {
    int(i): f"{d:%Y-%m-%d} · {ui.label('kind', k)} · {n}"
    for i, d, k, n in zip(table["id"], table["meeting_date"], table["kind"], table["title"], strict=True)
}
chosen = st.selectbox(
    t("training.ui.pick_meeting"),
    list(titles),
    format_func=lambda i: titles.get(i, ""),
    index=None,
    placeholder=t("common.choose"),
    key="meeting_pick",
)
if chosen is not None:
    row, attendees = ui.get_meeting(int(chosen))
    if row is not None:
        st.subheader(t("training.ui.meeting_heading"))
        st.text(row.title)
        ui.meeting_details(row, attendees, pid)
        if services.may_edit(actor, row):
            with st.expander(t("training.ui.edit_meeting"), icon=":material/edit:"):
                ui.meeting_form(pid, row, attendees)
