"""Requirements (slide 6.4–6.5): each serves a business process, core or extension, owned on the
business side; coverage = share tied to a process, and the core share."""

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.charts import requirements_by_process
from crm_impl.rollout.models import REQUIREMENT_KINDS, REQUIREMENT_STATUSES, RequirementCreate
from crm_impl.rollout.services import plan, scope, team

actor = common.page("pages/rollout/requirements.py")
pid = plan_ui.project_id()
with read_session() as session:
    reqs = scope.requirements_frame(session=session, project_id=pid)
    people = team.people_frame(session=session)
    phases = plan.phases_frame(session=session, project_id=pid)
names = dict(zip(people["id"], people["full_name"], strict=True))
phase_names = dict(zip(phases["id"], phases["name"], strict=True))
can_write = actor.can("plan.write")

cov = m.requirement_coverage(reqs)
c = st.columns(3)
c[0].metric(t("plan.requirements.total"), fmt_number(cov["total"]))
common.noted_metric(
    c[1],
    t("plan.requirements.coverage"),
    fmt_pct(cov["process_share"]),
    f"{cov['with_process']} / {cov['total']}",
)
common.noted_metric(
    c[2], t("plan.requirements.core_share"), fmt_pct(cov["core_share"]), f"{cov['core']} / {cov['total']}"
)

if len(reqs):
    st.subheader(t("plan.requirements.by_process"))
    per = m.by_process(reqs)
    per["business_process"] = per["business_process"].replace("", t("plan.requirements.no_process"))
    labels = {
        "count": t("plan.requirements.total"),
        "process": t("plan.field.business_process"),
        "kind": t("plan.field.requirement_kind"),
        **{k: t(f"plan.requirement_kind.{k}") for k in REQUIREMENT_KINDS},
    }
    st.altair_chart(requirements_by_process(per, labels=labels), width="stretch")

f = st.columns(3)
with f[0]:
    shown = plan_ui.status_filter(
        reqs, "status", "plan.requirement_status", REQUIREMENT_STATUSES, key="req_status"
    )
with f[1]:
    kinds = st.multiselect(
        t("plan.field.requirement_kind"),
        REQUIREMENT_KINDS,
        format_func=lambda k: t(f"plan.requirement_kind.{k}"),
        placeholder=t("common.choose_many"),
    )
    shown = shown[shown["kind"].isin(kinds)] if kinds else shown
with f[2]:
    shown = plan_ui.text_filter(
        shown, ["title", "business_process", "owner", "description"], key="req_search"
    )

plan_ui.edit_table(
    shown,
    key="requirements_editor",
    fields=scope.REQUIREMENT_FIELDS,
    column_config={
        "title": st.column_config.TextColumn(t("plan.field.title"), width="large"),
        "business_process": t("plan.field.business_process"),
        "kind": plan_ui.select_column(
            "plan.requirement_kind", REQUIREMENT_KINDS, "plan.field.requirement_kind"
        ),
        "business_owner_id": plan_ui.person_column(names, "plan.field.business_owner"),
        "phase_id": st.column_config.SelectboxColumn(
            t("plan.field.phase"), options=list(phase_names), format_func=lambda v: phase_names.get(v, "")
        ),
        "status": plan_ui.select_column("plan.requirement_status", REQUIREMENT_STATUSES, "plan.field.status"),
    },
    update=scope.update_requirement,
    id_arg="requirement_id",
    can_edit=can_write,
)
export = plan_ui.translated(
    plan_ui.translated(shown, "status", "plan.requirement_status"), "kind", "plan.requirement_kind"
)
common.csv_download(export.drop(columns=["version"]), "requirements.csv", key="req_csv")

if can_write:
    with common.form("add_requirement"):
        st.markdown(f"**{t('plan.requirements.add')}**")
        g = st.columns(3)
        title = g[0].text_input(t("plan.field.title"))
        process = g[1].text_input(t("plan.field.business_process"))
        kind = g[2].selectbox(
            t("plan.field.requirement_kind"),
            REQUIREMENT_KINDS,
            format_func=lambda k: t(f"plan.requirement_kind.{k}"),
            placeholder=t("common.choose"),
        )
        owner = g[0].selectbox(
            t("plan.field.business_owner"),
            [None, *names],
            format_func=lambda v: names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        phase = g[1].selectbox(
            t("plan.field.phase"),
            [None, *phase_names],
            format_func=lambda v: phase_names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        status = g[2].selectbox(
            t("plan.field.status"),
            REQUIREMENT_STATUSES,
            format_func=lambda s: t(f"plan.requirement_status.{s}"),
            placeholder=t("common.choose"),
        )
        description = st.text_area(t("plan.field.description"))
        if st.form_submit_button(t("plan.add"), icon=":material/add:"):
            plan_ui.save_form(
                scope.create_requirement,
                "plan.created",
                project_id=pid,
                data=RequirementCreate(
                    title=title,
                    business_process=process,
                    kind=kind,
                    business_owner_id=owner,
                    phase_id=phase,
                    status=status,
                    description=description,
                ),
            )
