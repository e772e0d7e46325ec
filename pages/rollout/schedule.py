"""Schedule: project dates and scope baseline, phases and milestones on a Gantt (planned vs baseline
vs actual), schedule variance, named baselines and their comparison (slides 6.9, 6.10, 9)."""

from datetime import date

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.charts import gantt, variance_bars
from crm_impl.rollout.models import PHASE_KINDS, PHASE_STATUSES, MilestoneCreate, PhaseCreate
from crm_impl.rollout.services import changes, plan, team
from crm_impl.rollout.ui import parts as plan_parts

actor = common.page("pages/rollout/schedule.py")
pid = plan_ui.project_id()
today = date.today()
with read_session() as session:
    project = plan_ui.project(pid)
    settings = plan.get_settings(session=session, project_id=pid)
    phases = plan.phases_frame(session=session, project_id=pid)
    milestones = plan.milestones_frame(session=session, project_id=pid)
    baselines = plan.list_baselines(session=session, project_id=pid)
    people = team.people_frame(session=session)
    crs = changes.changes_frame(session=session, project_id=pid)
    items = {b.id: plan.baseline_items(session=session, baseline_id=b.id) for b in baselines}
    items[0] = plan.current_items(session=session, project_id=pid)
names = dict(zip(people["id"], people["full_name"], strict=True))
creep = m.scope_creep(crs, project.baseline_effort_days, project.baseline_cost, settings.scope_creep_limit)

# ---- numbers
base_names = {b.id: b.name for b in baselines}
choice = st.selectbox(
    t("plan.schedule.compare_with"),
    [None, *reversed(list(base_names))],
    index=1 if base_names else 0,
    format_func=lambda b: t("plan.schedule.plan_only") if b is None else base_names[b],
    placeholder=t("common.choose"),
)
variance = m.schedule_variance(phases, items.get(choice) if choice else None, today=today)
c = st.columns([1.4, 1, 1, 1, 1])
days_left = (project.go_live_date - today).days if project.go_live_date else None
common.noted_metric(
    c[0],
    t("plan.schedule.go_live_in"),
    fmt_date(project.go_live_date),
    tn("overview.days_to_go", days_left) if days_left is not None else None,
)
c[1].metric(t("plan.schedule.done_phases"), f"{int((phases['status'] == 'done').sum())} / {len(phases)}")
c[2].metric(t("plan.schedule.slipped_n"), fmt_number(int(variance["slipped"].sum())))
c[3].metric(
    t("plan.schedule.max_slip"),
    tn("plan.schedule.days", int(variance["variance_days"].max() or 0)) if len(variance) else "–",
)
c[4].metric(
    t("plan.changes.scope_creep"),
    fmt_pct(creep["effort_ratio"], 1),
    t("plan.changes.limit", limit=fmt_pct(creep["limit"])),
    delta_color="inverse" if creep["over_limit"] else "off",
    delta_arrow="off",
)

# ---- Gantt
st.subheader(t("plan.schedule.gantt"))
if phases.empty:
    st.info(t("plan.schedule.no_phases"), icon=":material/info:")
else:
    bars = m.gantt_frame(variance, today=today, with_baseline=choice is not None)
    ms = m.milestone_status(milestones, today=today)
    order = list(phases["name"]) + [n for n in ms["name"] if n not in set(phases["name"])]
    labels = {
        "phase": t("plan.field.phase"),
        "date": "",
        "series": t("plan.field.series"),
        "today": t("plan.today"),
        "milestone": t("plan.chart.milestone_state"),
        **{s: t(f"plan.series.{s}") for s in ("planned", "baseline", "actual")},
        **{f"ms_{s}": t(f"plan.chart.ms_{s}") for s in ("open", "done", "late")},
    }
    st.altair_chart(gantt(bars, ms, today=today, labels=labels, order=order), width="stretch")
    st.subheader(t("plan.schedule.variance"))
    st.altair_chart(
        variance_bars(
            variance,
            labels={
                "variance": t("plan.field.variance_days"),
                "phase": t("plan.field.phase"),
                "state": t("plan.chart.variance_state"),
                **{s: t(f"plan.chart.{s}") for s in ("late", "on_time", "early")},
            },
            order=list(phases["name"]),
        ),
        width="stretch",
    )
    vcols = ["name", "reference_end", "expected_end", "start_variance_days", "variance_days", "slipped"]
    st.dataframe(
        variance[vcols],
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "name": t("plan.field.phase"),
            "reference_end": st.column_config.DateColumn(t("plan.field.reference_end")),
            "expected_end": st.column_config.DateColumn(t("plan.field.expected_end")),
            "start_variance_days": t("plan.field.start_variance_days"),
            "variance_days": t("plan.field.variance_days"),
            "slipped": st.column_config.CheckboxColumn(t("plan.field.slipped")),
        },
    )
    common.csv_download(variance[vcols], "schedule_variance.csv", key="variance_csv")

tab_phases, tab_ms, tab_base, tab_project = st.tabs(
    [
        t("plan.schedule.phases"),
        t("plan.schedule.milestones"),
        t("plan.schedule.baselines"),
        t("plan.schedule.project"),
    ]
)
can_write = actor.can("plan.write")
with tab_phases:
    plan_ui.edit_table(
        phases,
        key="phases_editor",
        fields=plan.PHASE_FIELDS,
        column_config={
            "name": t("field.name"),
            "kind": plan_ui.select_column("plan.phase_kind", PHASE_KINDS, "plan.field.phase_kind"),
            "planned_start": st.column_config.DateColumn(t("plan.field.planned_start"), required=True),
            "planned_end": st.column_config.DateColumn(t("plan.field.planned_end"), required=True),
            "actual_start": st.column_config.DateColumn(t("plan.field.actual_start")),
            "actual_end": st.column_config.DateColumn(t("plan.field.actual_end")),
            "percent_complete": st.column_config.NumberColumn(
                t("plan.field.percent_complete"), min_value=0, max_value=100, step=5
            ),
            "status": plan_ui.select_column("plan.phase_status", PHASE_STATUSES, "plan.field.status"),
            "owner_id": plan_ui.person_column(names, "plan.field.owner"),
        },
        update=plan.update_phase,
        id_arg="phase_id",
        can_edit=can_write,
    )
    common.csv_download(phases.drop(columns=["version"]), "phases.csv", key="phases_csv")
    if can_write:
        if phases.empty and st.button(t("plan.schedule.add_defaults"), icon=":material/auto_awesome:"):
            common.save(plan.add_default_phases, "plan.created", project_id=pid)
        with common.form("add_phase"):
            st.markdown(f"**{t('plan.schedule.add_phase')}**")
            f = st.columns(4)
            name = f[0].text_input(t("field.name"))
            kind = f[1].selectbox(
                t("plan.field.phase_kind"),
                PHASE_KINDS,
                format_func=lambda k: t(f"plan.phase_kind.{k}"),
                placeholder=t("common.choose"),
            )
            start = f[2].date_input(t("plan.field.planned_start"), value=today)
            end = f[3].date_input(t("plan.field.planned_end"), value=today)
            if st.form_submit_button(t("plan.add"), icon=":material/add:"):
                plan_ui.save_form(
                    plan.create_phase,
                    "plan.created",
                    project_id=pid,
                    data=PhaseCreate(name=name, kind=kind, planned_start=start, planned_end=end),
                )

with tab_ms:
    phase_names = dict(zip(phases["id"], phases["name"], strict=True))
    ms_view = milestones.assign(
        criteria=milestones["criteria_done"].astype(str) + " / " + milestones["criteria_total"].astype(str)
    )
    plan_ui.edit_table(
        ms_view,
        key="milestones_editor",
        fields=plan.MILESTONE_FIELDS,
        column_config={
            "name": t("field.name"),
            "phase_id": st.column_config.SelectboxColumn(
                t("plan.field.phase"), options=list(phase_names), format_func=lambda v: phase_names.get(v, "")
            ),
            "due_date": st.column_config.DateColumn(t("plan.field.due_date"), required=True),
            "done_date": st.column_config.DateColumn(t("plan.field.done_date")),
            "criteria": st.column_config.TextColumn(t("plan.field.criteria")),
        },
        update=plan.update_milestone,
        id_arg="milestone_id",
        can_edit=can_write,
    )
    common.csv_download(milestones.drop(columns=["version"]), "milestones.csv", key="milestones_csv")
    plan_parts.criteria_editor(milestones, can_write=can_write)
    if can_write:
        with common.form("add_milestone"):
            st.markdown(f"**{t('plan.schedule.add_milestone')}**")
            f = st.columns(3)
            ms_name = f[0].text_input(t("field.name"))
            due = f[1].date_input(t("plan.field.due_date"), value=today)
            ph = f[2].selectbox(
                t("plan.field.phase"),
                [None, *phase_names],
                format_func=lambda v: phase_names.get(v, "–"),
                placeholder=t("common.choose"),
            )
            criteria = st.text_area(t("plan.field.gate_criteria"), help=t("plan.schedule.criteria_help"))
            if st.form_submit_button(t("plan.add"), icon=":material/add:"):
                plan_ui.save_form(
                    plan.create_milestone,
                    "plan.created",
                    project_id=pid,
                    data=MilestoneCreate(name=ms_name, due_date=due, phase_id=ph, gate_criteria=criteria),
                )

with tab_base:
    plan_parts.baselines(pid, base_names, items, can_write=can_write)

with tab_project:
    plan_parts.project_form(actor, project, settings)
