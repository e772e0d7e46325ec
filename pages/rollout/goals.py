"""Business goals (slide 6.2: defined and measured): KPI, baseline, target, direction; dated
measurements and a small chart per goal showing progress toward its target."""

from datetime import date

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.charts import goal_small_multiples
from crm_impl.rollout.models import GOAL_DIRECTIONS, BusinessGoalCreate, GoalMeasurementCreate
from crm_impl.rollout.services import scope, team

actor = common.page("pages/rollout/goals.py")
pid = plan_ui.project_id()
with read_session() as session:
    goals = scope.goals_frame(session=session, project_id=pid)
    measurements = scope.measurements_frame(session=session, project_id=pid)
    people = team.people_frame(session=session)
names = dict(zip(people["id"], people["full_name"], strict=True))
can_write = actor.can("plan.write")

progress = m.goal_progress(goals, measurements)
c = st.columns(3)
c[0].metric(t("plan.goals.measured"), f"{int(progress['latest_value'].notna().sum())} / {len(goals)}")
c[1].metric(t("plan.goals.achieved"), f"{int(progress['achieved'].sum())} / {len(goals)}")
c[2].metric(
    t("plan.field.progress"), fmt_pct(progress["progress"].clip(upper=1).mean() if len(goals) else None)
)

if goals.empty:
    st.info(t("plan.goals.none"), icon=":material/flag:")
else:
    st.subheader(t("plan.goals.progress"))
    history = m.goal_history(goals, measurements)
    if len(history):
        st.altair_chart(
            goal_small_multiples(
                history, labels={"progress": t("plan.field.progress"), "target": t("plan.chart.target")}
            ),
            width="content",
        )

plan_ui.edit_table(
    progress,
    key="goals_editor",
    fields=scope.GOAL_FIELDS,
    column_config={
        "name": t("field.name"),
        "kpi": t("plan.field.kpi"),
        "unit": t("plan.field.unit"),
        "baseline_value": st.column_config.NumberColumn(t("plan.field.baseline_value")),
        "target_value": st.column_config.NumberColumn(t("plan.field.target_value")),
        "target_date": st.column_config.DateColumn(t("plan.field.target_date")),
        "direction": plan_ui.select_column("plan.direction", GOAL_DIRECTIONS, "plan.field.direction"),
        "owner_id": plan_ui.person_column(names, "plan.field.owner"),
        "latest_value": st.column_config.NumberColumn(t("plan.field.latest_value"), disabled=True),
        "progress": st.column_config.ProgressColumn(
            t("plan.field.progress"), min_value=0.0, max_value=1.0, format="percent"
        ),
    },
    update=scope.update_goal,
    id_arg="goal_id",
    can_edit=can_write,
)
common.csv_download(progress.drop(columns=["version"]), "goals.csv", key="goals_csv")

goal_names = dict(zip(goals["id"], goals["name"], strict=True))
with st.expander(t("plan.field.measured_on"), icon=":material/timeline:"):
    pick = st.multiselect(
        t("plan.goals.goal"),
        list(goal_names),
        format_func=goal_names.get,
        key="goal_filter",
        placeholder=t("common.choose_many"),
    )
    shown = measurements[measurements["goal_id"].isin(pick)] if pick else measurements
    st.dataframe(
        shown.assign(goal=shown["goal_id"].map(goal_names)),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_order=["goal", "measured_on", "value", "note"],
        column_config={
            "goal": t("plan.goals.goal"),
            "measured_on": st.column_config.DateColumn(t("plan.field.measured_on")),
            "value": t("plan.field.value"),
            "note": t("plan.field.note"),
        },
    )
    common.csv_download(shown, "goal_measurements.csv", key="measurements_csv")

if can_write:
    left, right = st.columns(2)
    with left, common.form("add_goal"):
        st.markdown(f"**{t('plan.goals.add_goal')}**")
        name = st.text_input(t("field.name"))
        kpi = st.text_input(t("plan.field.kpi"))
        f = st.columns(3)
        unit = f[0].text_input(t("plan.field.unit"))
        base = f[1].number_input(t("plan.field.baseline_value"), value=0.0)
        target = f[2].number_input(t("plan.field.target_value"), value=0.0)
        direction = st.selectbox(
            t("plan.field.direction"),
            GOAL_DIRECTIONS,
            format_func=lambda d: t(f"plan.direction.{d}"),
            placeholder=t("common.choose"),
        )
        target_date = st.date_input(t("plan.field.target_date"), value=None)
        owner = st.selectbox(
            t("plan.field.owner"),
            [None, *names],
            format_func=lambda v: names.get(v, "–"),
            placeholder=t("common.choose"),
        )
        if st.form_submit_button(t("plan.add"), icon=":material/add:"):
            plan_ui.save_form(
                scope.create_goal,
                "plan.created",
                project_id=pid,
                data=BusinessGoalCreate(
                    name=name,
                    kpi=kpi,
                    unit=unit,
                    baseline_value=base,
                    target_value=target,
                    direction=direction,
                    target_date=target_date,
                    owner_id=owner,
                ),
            )
    if goal_names:
        with right, common.form("add_measurement"):
            st.markdown(f"**{t('plan.goals.add_measurement')}**")
            goal_id = st.selectbox(
                t("plan.goals.goal"),
                list(goal_names),
                format_func=goal_names.get,
                placeholder=t("common.choose"),
            )
            day = st.date_input(t("plan.field.measured_on"), value=date.today())
            value = st.number_input(t("plan.field.value"), value=0.0)
            note = st.text_input(t("plan.field.note"))
            if st.form_submit_button(t("plan.add"), icon=":material/add_chart:"):
                plan_ui.save_form(
                    scope.add_measurement,
                    "plan.created",
                    goal_id=goal_id,
                    data=GoalMeasurementCreate(measured_on=day, value=value, note=note),
                )
