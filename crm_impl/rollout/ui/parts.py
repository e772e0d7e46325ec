"""Larger blocks of the Schedule page (kept here so the page stays a short storyboard):
gate-criteria checklist, baseline save and comparison, project dates and scope baseline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_money, fmt_number, t
from crm_impl.core.models import ProjectUpdate
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.models import MilestoneUpdate, PlanSettingsUpdate
from crm_impl.rollout.services import plan


def criteria_editor(milestones: pd.DataFrame, *, can_write: bool) -> None:
    """The gate checklist of one milestone, editable as a small table."""
    if milestones.empty:
        return
    st.markdown(f"**{t('plan.schedule.edit_criteria')}**")
    ms_names = dict(zip(milestones["id"], milestones["name"], strict=True))
    ms_id = st.selectbox(
        t("plan.schedule.milestone_pick"),
        list(ms_names),
        format_func=lambda i: str(ms_names.get(i, "")),
        placeholder=t("common.choose"),
    )
    row = milestones[milestones["id"] == ms_id].iloc[0]
    crit = pd.DataFrame(row["gate_criteria"] or [], columns=["text", "done"])
    shown = common.shown_version(f"milestone_criteria_{ms_id}", int(row["version"]))  # as the form showed it
    with st.form(f"criteria_{ms_id}", border=False):
        edited = st.data_editor(
            crit,
            num_rows="dynamic" if can_write else "fixed",
            disabled=not can_write,
            placeholder=common.EMPTY,
            hide_index=True,
            width="stretch",
            column_config={
                "text": t("plan.field.gate_criteria"),
                "done": st.column_config.CheckboxColumn("✓"),
            },
            key=f"crit_editor_{ms_id}",
        )
        if can_write and st.form_submit_button(t("plan.save_changes"), icon=":material/save:"):
            rows = edited.dropna(subset=["text"]).fillna({"done": False}).to_dict("records")
            common.save(
                plan.update_milestone,
                "plan.schedule.criteria_saved",
                milestone_id=int(ms_id or 0),
                expected_version=shown,
                changes=MilestoneUpdate(gate_criteria=rows),
            )


def baselines(
    pid: int, base_names: dict[int, str], items: dict[int, pd.DataFrame], *, can_write: bool
) -> None:
    """Compare any two baselines (or a baseline with the plan as it is now); save a new one."""
    labels_b: dict[int, str] = {0: t("plan.schedule.now"), **base_names}
    f = st.columns(2)
    options_a: list[int] = list(base_names) or [0]
    a = f[0].selectbox(
        "A",
        options_a,
        format_func=lambda i: labels_b.get(i, ""),
        key="base_a",
        placeholder=t("common.choose"),
    )
    b = f[1].selectbox(
        "B",
        [0, *base_names],
        format_func=lambda i: labels_b.get(i, ""),
        key="base_b",
        placeholder=t("common.choose"),
    )
    cmp = m.compare_baselines(items[a] if a in items else items[0], items[b or 0])
    st.dataframe(
        cmp,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_order=["kind", "name", "end_a", "end_b", "start_shift_days", "end_shift_days", "presence"],
        column_config={
            "kind": t("plan.field.kind"),
            "name": t("field.name"),
            "end_a": "A",
            "end_b": "B",
            "start_shift_days": t("plan.field.shift_start"),
            "end_shift_days": t("plan.field.shift_end"),
            "presence": t("plan.field.presence"),
        },
    )
    common.csv_download(cmp, "baseline_comparison.csv", key="cmp_csv")
    if can_write:
        with common.form("save_baseline"):
            bname = st.text_input(t("plan.schedule.baseline_name"))
            if st.form_submit_button(t("plan.schedule.save_baseline"), icon=":material/bookmark_add:"):
                plan_ui.save_form(plan.save_baseline, "plan.created", project_id=pid, name=bname)


def project_form(actor: Actor, project: Any, settings: Any) -> None:
    """Go-live date, scope baseline and the thresholds of scope creep and change moderation."""
    pid = project.id
    st.caption(t("plan.schedule.project_help"))
    st.markdown(
        f"{t('field.baseline_effort')}: **{fmt_number(project.baseline_effort_days)}** · "
        f"{t('field.baseline_cost')}: **{fmt_money(project.baseline_cost, project.currency)}**"
    )
    if actor.can("project.manage"):
        shown = common.shown_version(f"project_plan_{pid}", project.version)  # as the form showed it
        with st.form("project_plan"):
            f = st.columns(3)
            start = f[0].date_input(t("plan.field.start_date"), value=project.start_date)
            go_live = f[1].date_input(t("field.go_live_date"), value=project.go_live_date)
            effort = f[2].number_input(
                t("field.baseline_effort"), min_value=0.0, value=float(project.baseline_effort_days)
            )
            cost = f[0].number_input(
                t("field.baseline_cost"), min_value=0.0, value=float(project.baseline_cost), step=1000.0
            )
            limit = f[1].number_input(
                t("plan.field.scope_creep_limit"),
                min_value=0.0,
                max_value=10.0,
                value=float(settings.scope_creep_limit),
                step=0.01,
            )
            per_month = f[2].number_input(
                t("plan.field.changes_per_month_limit"),
                min_value=0,
                value=int(settings.changes_per_month_limit),
            )
            if st.form_submit_button(t("common.save"), icon=":material/save:"):
                common.save(
                    plan.update_project_plan,
                    "common.saved",
                    project_id=pid,
                    expected_version=shown,
                    changes=ProjectUpdate(
                        start_date=start,
                        go_live_date=go_live,
                        baseline_effort_days=Decimal(str(effort)),
                        baseline_cost=Decimal(str(cost)),
                    ),
                    settings=PlanSettingsUpdate(
                        scope_creep_limit=limit, changes_per_month_limit=int(per_month)
                    ),
                )
