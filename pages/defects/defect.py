"""One defect (?id=N): its fields, the moves this user may make (each with the inputs it
needs), the client tester's sign-off on real data, the edit form (version-checked), comments
and the timeline of every transition (who, when, from → to, comment, release)."""

import streamlit as st

from crm_impl.core.i18n import fmt_datetime, t
from crm_impl.core.ui import common
from crm_impl.defects import ui

actor = common.page("pages/defects/defect.py")
pid = ui.project_id()
look = ui.lookups(pid)
everything = ui.defects(pid)
if everything.empty:
    st.info(t("defects.list.none"), icon=":material/info:")
    st.stop()

titles = dict(zip(everything["id"].astype(int), everything["title"], strict=True))
wanted = st.query_params.get("id")
ids = list(titles)
default = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in titles else 0
defect_id = st.selectbox(
    t("defects.defect.pick"),
    ids,
    index=default,
    format_func=lambda i: f"#{i} {titles[i]}",
    placeholder=t("common.choose"),
)
st.query_params["id"] = str(defect_id)
defect = ui.get_defect(int(defect_id))
if defect is None:
    st.stop()

st.subheader(f"#{defect.id}")
st.text(defect.title)
head = st.columns(4)
head[0].metric(ui.field("status"), ui.label("status", defect.status))
head[1].metric(ui.field("severity"), ui.label("severity", defect.severity))
head[2].metric(ui.field("priority"), ui.label("priority", defect.priority))
head[3].metric(ui.field("environment"), ui.label("environment", defect.environment))
st.caption(
    t(
        "defects.defect.reported_by",
        who=common.plain(look["users"].get(defect.reporter_id or 0, ui.NONE)),
        when=fmt_datetime(defect.created_at),
        assignee=common.plain(look["users"].get(defect.assignee_id or 0, ui.NONE)),
    )
)
ui.signoff(actor, defect, look)

details, move, edit, talk, history = st.tabs(
    [
        t("defects.defect.tab_details"),
        t("defects.defect.tab_move"),
        t("defects.defect.tab_edit"),
        t("defects.defect.tab_comments"),
        t("defects.defect.tab_timeline"),
    ]
)
with details:
    for name in ("steps", "expected", "actual"):
        st.markdown(f"**{ui.field(name)}**")
        st.text(getattr(defect, name) or ui.NONE)
    ui.field_table(defect, look)

with move:
    ui.transition_form(actor, defect, look, everything)

with edit:
    if actor.can("defect.report") or actor.can("defect.triage"):
        ui.edit_defect_form(defect, look)
    else:
        st.info(t("defects.defect.read_only"), icon=":material/lock:")

steps = ui.timeline(int(defect_id))
with talk:
    notes = steps[steps["kind"] == "comment"]
    if notes.empty:
        st.caption(t("defects.defect.no_comments"))
    else:
        st.dataframe(
            notes,
            hide_index=True,
            width="stretch",
            placeholder=common.EMPTY,
            column_order=["at", "by", "text"],
            column_config={
                "at": st.column_config.DatetimeColumn(ui.field("at"), format="YYYY-MM-DD HH:mm"),
                "by": ui.field("by"),
                "text": st.column_config.TextColumn(ui.field("body"), width="large"),
            },
        )
    ui.comment_form(int(defect_id))

with history:
    if steps.empty:
        st.caption(t("defects.defect.no_history"))
    else:
        st.dataframe(
            steps.assign(kind=steps["kind"].map(lambda k: t(f"defects.defect.kind_{k}"))),
            hide_index=True,
            width="stretch",
            placeholder=common.EMPTY,
            column_order=["at", "kind", "by", "from_status", "to_status", "release", "text"],
            column_config={
                "at": st.column_config.DatetimeColumn(ui.field("at"), format="YYYY-MM-DD HH:mm"),
                "kind": t("defects.defect.kind"),
                "by": ui.field("by"),
                "from_status": ui.field("from_status"),
                "to_status": ui.field("to_status"),
                "release": ui.field("release"),
                "text": st.column_config.TextColumn(ui.field("comment"), width="large"),
            },
        )
