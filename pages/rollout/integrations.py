"""Integration register (slide 7): which systems the CRM talks to (ERP first), in which
direction, how (file, API, database), how often, who owns it, what it costs, where it stands."""

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_money, fmt_number, t
from crm_impl.core.ui import common
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.models import (
    INTEGRATION_DIRECTIONS,
    INTEGRATION_FREQUENCIES,
    INTEGRATION_METHODS,
    INTEGRATION_STATUSES,
    INTEGRATION_SYSTEMS,
    IntegrationInterfaceCreate,
)
from crm_impl.rollout.services import scope, team

actor = common.page("pages/rollout/integrations.py")
pid = plan_ui.project_id()
with read_session() as session:
    project = plan_ui.project(pid)
    df = scope.integrations_frame(session=session, project_id=pid)
    people = team.people_frame(session=session)
names = dict(zip(people["id"], people["full_name"], strict=True))
can_write = actor.can("plan.write")

active = df[df["status"] != "cancelled"]
c = st.columns(3)
c[0].metric(t("plan.integrations.count"), fmt_number(len(active)))
c[1].metric(t("plan.integrations.erp"), fmt_number(int((active["system"] == "erp").sum())))
c[2].metric(t("plan.integrations.total_cost"), fmt_money(active["estimated_cost"].sum(), project.currency))

f = st.columns(3)
with f[0]:
    systems = st.multiselect(
        t("plan.field.system"),
        INTEGRATION_SYSTEMS,
        format_func=lambda s: t(f"plan.system.{s}"),
        placeholder=t("common.choose_many"),
    )
with f[1]:
    shown = plan_ui.status_filter(
        df, "status", "plan.integration_status", INTEGRATION_STATUSES, key="int_status"
    )
with f[2]:
    shown = plan_ui.text_filter(shown, ["name", "owner", "notes"], key="int_search")
shown = shown[shown["system"].isin(systems)] if systems else shown

plan_ui.edit_table(
    shown,
    key="integrations_editor",
    fields=scope.INTEGRATION_FIELDS,
    column_config={
        "name": st.column_config.TextColumn(t("field.name"), width="medium"),
        "system": plan_ui.select_column("plan.system", INTEGRATION_SYSTEMS, "plan.field.system"),
        "direction": plan_ui.select_column(
            "plan.int_direction", INTEGRATION_DIRECTIONS, "plan.field.direction"
        ),
        "method": plan_ui.select_column("plan.method", INTEGRATION_METHODS, "plan.field.method"),
        "frequency": plan_ui.select_column("plan.frequency", INTEGRATION_FREQUENCIES, "plan.field.frequency"),
        "owner_id": plan_ui.person_column(names, "plan.field.owner"),
        "estimated_cost": common.money_column(t("plan.field.estimated_cost"), project.currency, min_value=0),
        "status": plan_ui.select_column("plan.integration_status", INTEGRATION_STATUSES, "plan.field.status"),
        "notes": t("plan.field.notes"),
    },
    update=scope.update_integration,
    id_arg="integration_id",
    can_edit=can_write,
)
export = shown
for column, prefix in (
    ("system", "plan.system"),
    ("direction", "plan.int_direction"),
    ("method", "plan.method"),
    ("frequency", "plan.frequency"),
    ("status", "plan.integration_status"),
):
    export = plan_ui.translated(export, column, prefix)
common.csv_download(export.drop(columns=["version"]), "integrations.csv", key="int_csv")

if can_write:
    with common.form("add_integration"):
        st.markdown(f"**{t('plan.integrations.add')}**")
        g = st.columns(4)
        name = g[0].text_input(t("field.name"))
        system = g[1].selectbox(
            t("plan.field.system"),
            INTEGRATION_SYSTEMS,
            format_func=lambda s: t(f"plan.system.{s}"),
            placeholder=t("common.choose"),
        )
        direction = g[2].selectbox(
            t("plan.field.direction"),
            INTEGRATION_DIRECTIONS,
            format_func=lambda s: t(f"plan.int_direction.{s}"),
            placeholder=t("common.choose"),
        )
        method = g[3].selectbox(
            t("plan.field.method"),
            INTEGRATION_METHODS,
            format_func=lambda s: t(f"plan.method.{s}"),
            placeholder=t("common.choose"),
        )
        frequency = g[0].selectbox(
            t("plan.field.frequency"),
            INTEGRATION_FREQUENCIES,
            format_func=lambda s: t(f"plan.frequency.{s}"),
            placeholder=t("common.choose"),
        )
        owner = g[1].selectbox(
            t("plan.field.owner"),
            [None, *names],
            format_func=lambda v: names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        cost = g[2].number_input(t("plan.field.estimated_cost"), min_value=0.0, step=1000.0)
        status = g[3].selectbox(
            t("plan.field.status"),
            INTEGRATION_STATUSES,
            format_func=lambda s: t(f"plan.integration_status.{s}"),
            placeholder=t("common.choose"),
        )
        notes = st.text_input(t("plan.field.notes"))
        if st.form_submit_button(t("plan.add"), icon=":material/add:"):
            plan_ui.save_form(
                scope.create_integration,
                "plan.created",
                project_id=pid,
                data=IntegrationInterfaceCreate(
                    name=name,
                    system=system,
                    direction=direction,
                    method=method,
                    frequency=frequency,
                    owner_id=owner,
                    estimated_cost=cost,
                    status=status,
                    notes=notes,
                ),
            )
