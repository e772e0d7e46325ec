"""Ideas (slide 8): anyone on the client side submits; the client-side PM filters them — accept
(becomes a requirement), duplicate of an idea or requirement, or reject with a reason. Likely
duplicates are suggested by fuzzy similarity on submit and on triage."""

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_datetime, fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.models import IDEA_STATUSES, REQUIREMENT_KINDS, IdeaCreate
from crm_impl.rollout.services import ideas, plan, team

actor = common.page("pages/rollout/ideas.py")
pid = plan_ui.project_id()
with read_session() as session:
    df = ideas.ideas_frame(session=session, project_id=pid)
    pool = ideas.candidates(session=session, project_id=pid)
    people = team.people_frame(session=session)
    phases = plan.phases_frame(session=session, project_id=pid)
    me = ideas.person_of(session=session, actor=actor)


def label(kind: str, row_id: int, title: str) -> str:
    return t(f"plan.ideas.{kind}_label", id=row_id, title=title)


def show_suggestions(found: pd.DataFrame) -> None:
    if found.empty:
        st.caption(t("plan.ideas.no_similar"))
        return
    st.warning(t("plan.ideas.similar"), icon=":material/content_copy:")
    for row in found.itertuples():
        st.markdown(
            f"- {label(row.kind, row.id, common.plain(row.title))} · "
            f"{t('plan.field.similarity')} {row.score} %"
        )


c = st.columns(3)
c[0].metric(t("page.rollout_ideas"), fmt_number(len(df)))
c[1].metric(t("plan.ideas.new_count"), fmt_number(int((df["status"] == "new").sum())))
c[2].metric(
    t("plan.ideas.duplicate_share"), fmt_pct((df["status"] == "duplicate").mean() if len(df) else None)
)

# ---- submit
if actor.can("idea.submit"):
    st.subheader(t("plan.ideas.submit"))
    st.caption(t("plan.ideas.submit_help"))
    client_people = people[people["side"] == "client"]
    with common.form("submit_idea"):
        title = st.text_input(t("plan.field.title"))
        description = st.text_area(t("plan.field.description"))
        on_behalf = None
        if actor.can("team.manage"):
            opts = dict(zip(client_people["id"], client_people["full_name"], strict=True))
            own = me.id if me is not None and me.id in opts else None
            on_behalf = st.selectbox(
                t("plan.field.submitted_by"),
                [own, *[o for o in opts if o != own]],
                format_func=lambda v: opts.get(v, "–"),
                placeholder=t("common.choose"),
            )
        if st.form_submit_button(t("plan.ideas.submit"), type="primary", icon=":material/send:"):
            idea = common.run(
                ideas.submit_idea,
                None,
                project_id=pid,
                data=IdeaCreate(title=title, description=description, submitted_by_id=on_behalf),
            )
            if idea is not None:
                with read_session() as session:
                    found = ideas.suggest_duplicates(
                        session=session, project_id=pid, text=idea.title, exclude_idea_id=idea.id
                    )
                st.session_state["idea_submitted"] = found  # shown with the confirmation after the rerun
                common.forms_saved()
                common.rerun()
    if "idea_submitted" in st.session_state:
        st.success(t("plan.ideas.submitted"), icon=":material/check_circle:")
        show_suggestions(st.session_state.pop("idea_submitted"))

# ---- triage
if actor.can("idea.triage"):
    st.subheader(t("plan.ideas.triage"))
    waiting = df[df["status"] == "new"].sort_values("id")
    if waiting.empty:
        st.info(t("plan.ideas.nothing_to_triage"), icon=":material/inbox:")
    else:
        titles = dict(zip(waiting["id"], waiting["title"], strict=True))
        idea_id = st.selectbox(
            t("plan.ideas.pick"),
            list(titles),
            format_func=lambda i: label("idea", i, titles[i]),
            placeholder=t("common.choose"),
        )
        row = waiting[waiting["id"] == idea_id].iloc[0]
        who = " · ".join(
            common.plain(x) for x in (row["submitted_by"], row["department"]) if isinstance(x, str)
        )
        st.caption(f"{who} · {fmt_datetime(row['submitted_at'])}")
        if row["description"]:
            st.text(row["description"])  # user text is data, never Markdown
        with read_session() as session:
            found = ideas.suggest_duplicates(
                session=session, project_id=pid, text=row["title"], exclude_idea_id=int(idea_id)
            )
        st.markdown(f"**{t('plan.ideas.suggestions')}**")
        show_suggestions(found)
        decision = st.radio(
            t("plan.field.decision"),
            ["duplicate", "accept", "reject"] if len(found) else ["accept", "duplicate", "reject"],
            format_func=lambda d: t(f"plan.ideas.{d}"),
            horizontal=True,
            key=f"decision_{idea_id}",
        )
        shown = common.shown_version(f"idea_triage_{idea_id}", int(row["version"]))  # as the page showed it
        kwargs: dict = {}
        if decision == "accept":
            f = st.columns(3)
            kwargs["business_process"] = f[0].text_input(t("plan.field.business_process"))
            kwargs["kind"] = f[1].selectbox(
                t("plan.field.requirement_kind"),
                REQUIREMENT_KINDS,
                format_func=lambda k: t(f"plan.requirement_kind.{k}"),
                placeholder=t("common.choose"),
            )
            names = dict(zip(phases["id"], phases["name"], strict=True))
            kwargs["phase_id"] = f[2].selectbox(
                t("plan.field.phase"),
                [None, *names],
                format_func=lambda v: names.get(v, "–"),
                placeholder=t("common.choose"),
            )
        elif decision == "duplicate":
            others = pool[~((pool["kind"] == "idea") & (pool["id"] == idea_id))]
            first = [(k, i) for k, i in zip(found["kind"], found["id"], strict=True)]
            rest = [(k, i) for k, i in zip(others["kind"], others["id"], strict=True) if (k, i) not in first]
            titles_all = {
                (k, i): tt for k, i, tt in zip(pool["kind"], pool["id"], pool["title"], strict=True)
            }
            target = st.selectbox(
                t("plan.ideas.duplicate_pick"),
                first + rest,
                format_func=lambda ki: label(ki[0], ki[1], titles_all.get(ki, "")),
                placeholder=t("common.choose"),
            )
            if target is not None:
                kwargs[f"duplicate_of_{target[0]}_id"] = int(target[1])
        else:
            kwargs["rejection_reason"] = st.text_area(t("plan.field.rejection_reason"))
        if st.button(t("plan.ideas.triage"), type="primary", icon=":material/rule:"):
            common.save(
                ideas.triage_idea,
                "plan.ideas.triaged",
                idea_id=int(idea_id),
                expected_version=shown,
                decision=decision,
                **kwargs,
            )

# ---- list
st.subheader(t("page.rollout_ideas"))
f = st.columns(2)
with f[0]:
    shown = plan_ui.status_filter(df, "status", "plan.idea_status", IDEA_STATUSES, key="idea_status")
with f[1]:
    shown = plan_ui.text_filter(
        shown, ["title", "description", "submitted_by", "department"], key="idea_search"
    )
view = shown.assign(
    status_label=shown["status"].map(lambda s: t(f"plan.idea_status.{s}")),
    duplicate_of=shown["duplicate_of_idea_id"].map(lambda v: f"#{int(v)}" if pd.notna(v) else "")
    + shown["duplicate_of_requirement_id"].map(lambda v: f"R{int(v)}" if pd.notna(v) else ""),
)
st.dataframe(
    view,
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_order=[
        "id",
        "title",
        "submitted_by",
        "department",
        "submitted_at",
        "status_label",
        "duplicate_of",
        "requirement_id",
        "rejection_reason",
        "triaged_by",
    ],
    column_config={
        "id": "#",
        "title": st.column_config.TextColumn(t("plan.field.title"), width="large"),
        "submitted_by": t("plan.field.submitted_by"),
        "department": t("field.department"),
        "submitted_at": st.column_config.DatetimeColumn(t("plan.field.submitted_at"), format="YYYY-MM-DD"),
        "status_label": t("plan.field.status"),
        "duplicate_of": t("plan.field.duplicate_of"),
        "requirement_id": st.column_config.NumberColumn(t("plan.field.requirement"), format="R%d"),
        "rejection_reason": t("plan.field.rejection_reason"),
        "triaged_by": t("plan.field.triaged_by"),
    },
)
common.csv_download(
    plan_ui.translated(shown, "status", "plan.idea_status").drop(columns=["version"]),
    "ideas.csv",
    key="ideas_csv",
)
