"""Change requests (slides 9 and 11): who asked, why, effort, cost, schedule impact; management
approves or rejects. Scope creep = approved effort (and cost) ÷ the baseline; after go-live, the
number of changes per month against the moderation threshold."""

from decimal import Decimal

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_money, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.rollout import metrics as m
from crm_impl.rollout import ui as plan_ui
from crm_impl.rollout.charts import changes_per_month, scope_creep_bars
from crm_impl.rollout.models import CHANGE_STATUSES, ChangeRequestCreate
from crm_impl.rollout.services import changes, plan

actor = common.page("pages/rollout/changes.py")
pid = plan_ui.project_id()
with read_session() as session:
    project = plan_ui.project(pid)
    settings = plan.get_settings(session=session, project_id=pid)
    df = changes.changes_frame(session=session, project_id=pid)

creep = m.scope_creep(df, project.baseline_effort_days, project.baseline_cost, settings.scope_creep_limit)
st.subheader(t("plan.changes.scope_creep"))
c = st.columns(4)
common.noted_metric(
    c[0],
    t("plan.changes.effort_creep"),
    fmt_pct(creep["effort_ratio"], 1),
    t("plan.changes.limit", limit=fmt_pct(creep["limit"])),
)
c[1].metric(t("plan.changes.cost_creep"), fmt_pct(creep["cost_ratio"], 1))
common.noted_metric(
    c[2],
    t("plan.changes.metric_effort"),
    fmt_number(creep["approved_effort_days"]),
    f"{t('plan.changes.baseline')}: {fmt_number(project.baseline_effort_days)}",
)
common.noted_metric(
    c[3],
    t("plan.changes.pending"),
    fmt_number(creep["pending_count"]),
    tn("pipeline.metric.days", creep["pending_effort_days"], n=fmt_number(creep["pending_effort_days"])),
)
if creep["effort_ratio"] is None:
    st.info(t("plan.changes.no_baseline"), icon=":material/info:")
else:
    if creep["over_limit"]:
        st.error(t("plan.changes.over_limit"), icon=":material/trending_up:")
    else:
        st.success(t("plan.changes.within_limit"), icon=":material/check_circle:")
    ratios = pd.DataFrame(
        {
            "measure": [t("plan.field.effort_days"), t("plan.field.cost")],
            "ratio": [creep["effort_ratio"], creep["cost_ratio"] or 0.0],
        }
    )
    st.altair_chart(
        scope_creep_bars(
            ratios,
            limit=creep["limit"],
            labels={
                "ratio": t("plan.changes.scope_creep"),
                "state": t("plan.chart.limit_state"),
                "within": t("plan.chart.within"),
                "over": t("plan.chart.over"),
                "limit": t("plan.chart.limit", limit=fmt_pct(creep["limit"])),
            },
        ),
        width="stretch",
    )

st.subheader(t("plan.changes.after_go_live"))
monthly = m.changes_after_go_live(df, project.go_live_date, settings.changes_per_month_limit)
if monthly.empty:
    st.info(t("plan.changes.before_go_live", date=fmt_date(project.go_live_date)), icon=":material/event:")
else:
    over = monthly[monthly["over"]]
    if len(over):
        months = ", ".join(over["month"].dt.strftime("%Y-%m"))
        st.warning(
            t("plan.changes.moderation_warning", limit=settings.changes_per_month_limit, months=months),
            icon=":material/warning:",
        )
    else:
        st.success(
            t("plan.changes.moderation_ok", limit=settings.changes_per_month_limit),
            icon=":material/check_circle:",
        )
    st.altair_chart(
        changes_per_month(
            monthly,
            limit=settings.changes_per_month_limit,
            labels={
                "month": t("plan.field.month"),
                "changes": t("plan.field.changes"),
                "state": t("plan.chart.limit_state"),
                "within": t("plan.chart.within"),
                "over": t("plan.chart.over"),
                "limit": t("plan.chart.limit", limit=settings.changes_per_month_limit),
            },
        ),
        width="stretch",
    )

# ---- decide
if actor.can("change.approve"):
    st.subheader(t("plan.changes.decide"))
    pending = df[df["status"] == "pending"]
    if pending.empty:
        st.info(t("plan.changes.nothing_pending"), icon=":material/inbox:")
    else:
        titles = dict(zip(pending["id"], pending["title"], strict=True))
        change_id = st.selectbox(
            t("plan.changes.pick"),
            list(titles),
            format_func=lambda i: f"#{i} {titles[i]}",
            placeholder=t("common.choose"),
        )
        row = pending[pending["id"] == change_id].iloc[0]
        st.markdown(
            f"{common.plain(row['reason'])}  \n"
            f"{t('plan.field.effort_days')}: **{fmt_number(row['effort_days'])}** · "
            f"{t('plan.field.cost')}: **{fmt_money(row['cost'], project.currency)}** · "
            f"{t('plan.field.schedule_impact_days')}: **{row['schedule_impact_days']}**"
        )
        note = st.text_input(t("plan.field.decision_note"), key=f"note_{change_id}")
        shown = common.shown_version(f"change_decide_{change_id}", int(row["version"]))  # as shown
        b = st.columns(2)
        for col, approve, key in ((b[0], True, "approve"), (b[1], False, "reject")):
            if col.button(
                t(f"plan.changes.{key}"),
                type="primary" if approve else "secondary",
                key=f"{key}_{change_id}",
                icon=":material/gavel:",
            ):
                common.save(
                    changes.decide_change,
                    "plan.changes.decided",
                    change_id=int(change_id),
                    expected_version=shown,
                    approve=approve,
                    note=note,
                )

# ---- request
if actor.can("change.request"):
    with (
        st.expander(t("plan.changes.request"), icon=":material/add_circle:"),
        common.form("request_change"),
    ):
        title = st.text_input(t("plan.field.title"))
        reason = st.text_area(t("plan.field.reason"))
        f = st.columns(3)
        effort = f[0].number_input(t("plan.field.effort_days"), min_value=0.0, step=0.5)
        cost = f[1].number_input(t("plan.field.cost"), min_value=0.0, step=500.0)
        impact = f[2].number_input(t("plan.field.schedule_impact_days"), min_value=0, step=1)
        if st.form_submit_button(t("plan.changes.request"), icon=":material/send:"):
            plan_ui.save_form(
                changes.request_change,
                "plan.changes.requested",
                project_id=pid,
                data=ChangeRequestCreate(
                    title=title,
                    reason=reason,
                    effort_days=Decimal(str(effort)),
                    cost=Decimal(str(cost)),
                    schedule_impact_days=int(impact),
                ),
            )

# ---- list
st.subheader(t("page.rollout_changes"))
shown = plan_ui.status_filter(df, "status", "plan.change_status", CHANGE_STATUSES, key="change_status")
st.dataframe(
    shown.assign(
        status_label=shown["status"].map(lambda s: t(f"plan.change_status.{s}")),
        cost=common.money_text(shown["cost"], project.currency),
    ),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_order=[
        "id",
        "title",
        "requested_by",
        "requested_at",
        "effort_days",
        "cost",
        "schedule_impact_days",
        "status_label",
        "after_go_live",
        "decided_by",
        "decided_at",
        "decision_note",
    ],
    column_config={
        "id": "#",
        "title": st.column_config.TextColumn(t("plan.field.title"), width="large"),
        "requested_by": t("plan.field.requested_by"),
        "requested_at": st.column_config.DatetimeColumn(t("plan.field.requested_at"), format="YYYY-MM-DD"),
        "effort_days": st.column_config.NumberColumn(t("plan.field.effort_days"), format="%.1f"),
        "cost": t("plan.field.cost"),
        "schedule_impact_days": t("plan.field.schedule_impact_days"),
        "status_label": t("plan.field.status"),
        "after_go_live": st.column_config.CheckboxColumn(t("plan.field.after_go_live")),
        "decided_by": t("plan.field.decided_by"),
        "decided_at": st.column_config.DatetimeColumn(t("plan.field.decided_at"), format="YYYY-MM-DD"),
        "decision_note": t("plan.field.decision_note"),
    },
)
common.csv_download(
    plan_ui.translated(shown, "status", "plan.change_status").drop(columns=["version"]),
    "change_requests.csv",
    key="changes_csv",
)
