"""Overview: the active project, its team, and a snapshot of the live pipeline."""

from datetime import date

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_money, fmt_money_short, fmt_number, fmt_pct, get_locale, t, tn
from crm_impl.core.ui import common, sidebar
from crm_impl.core.ui import session as ui_session
from crm_impl.overview import queries as overview
from crm_impl.overview.charts import open_by_stage
from crm_impl.pipeline import ui as pipeline_ui
from crm_impl.pipeline.services import stages
from crm_impl.rollout.queries import plan_report
from crm_impl.rollout.services import projects

actor = common.page("pages/home/overview.py")
user = ui_session.current_user()
project_id = sidebar.active_project_id(user) if user else None

with read_session() as session:
    project = projects.get_project(session=session, project_id=project_id) if project_id else None
    team = overview.team_counts(session=session, project_id=project_id) if project_id else None
    snap = overview.pipeline_snapshot(session=session)
    by_stage = overview.open_deals_by_stage(session=session)
    names = {
        s.key: (s.name_pl if get_locale() == "pl" else s.name_en) for s in stages.list_stages(session=session)
    }
    active = overview.active_users(session=session)

st.subheader(t("overview.project"))
if project is None:
    st.info(t("overview.no_project"), icon=":material/info:")
else:
    p = common.plain
    st.markdown(f"**{p(project.name)}** · {p(project.client_name)} · {p(project.vendor_name)}")
    days = (project.go_live_date - date.today()).days if project.go_live_date else None
    c = st.columns(4)
    common.noted_metric(
        c[0],
        t("overview.go_live"),
        fmt_date(project.go_live_date),
        tn("overview.days_to_go", days) if days is not None else None,
    )
    common.noted_metric(
        c[1],
        t("overview.team_size"),
        fmt_number(team["total"]),
        t("overview.team_split", client=team["client"], vendor=team["vendor"]),
    )
    c[2].metric(t("overview.roles_filled"), f"{team['roles']} / 10")
    c[3].metric(t("overview.active_users"), fmt_number(active))

if project is not None and actor.can("plan.read"):
    with read_session() as session:
        report = plan_report(session=session, actor=actor, project_id=project.id)
        waiting = overview.ideas_waiting(session=session, project_id=project.id)
    creep = report["scope_creep"]
    broken = [f for f in report["role_findings"] if not f["ok"]]
    c = st.columns(4)
    common.noted_metric(
        c[0],
        t("overview.phases_slipped"),
        fmt_number(sum(p["slipped"] for p in report["phases"])),
        tn("overview.phases_total", len(report["phases"])),
    )
    c[1].metric(
        t("overview.scope_creep"),
        fmt_pct(creep["effort_ratio"], 1),
        t("overview.scope_limit", limit=fmt_pct(creep["limit"])),
        delta_color="inverse" if (creep["effort_ratio"] or 0) > creep["limit"] else "off",
        delta_arrow="off",
    )
    c[2].metric(
        t("overview.role_violations"),
        fmt_number(len(broken)),
        help="; ".join(f["message"] for f in broken) or None,
    )
    c[3].metric(t("overview.ideas_waiting"), fmt_number(waiting))

st.subheader(t("overview.pipeline"))
c = st.columns(5)
currency = snap["currency"]  # the pipeline's one currency (crm_impl.pipeline.queries.values)
common.noted_metric(
    c[0],
    t("metric.open_deals"),
    fmt_number(snap["open_deals"]),
    tn("overview.open_accounts", snap["open_accounts"]),
)
c[1].metric(
    t("metric.pipeline_value"),
    fmt_money_short(snap["pipeline_value"], currency),
    help=fmt_money(snap["pipeline_value"], currency),
)
c[2].metric(
    t("metric.weighted_value"),
    fmt_money_short(snap["weighted_value"], currency),
    help=fmt_money(snap["weighted_value"], currency),
)
common.noted_metric(
    c[3],
    tn("overview.won_recent", snap["days"]),
    fmt_money_short(snap["won_value_recent"], currency),
    tn("overview.won_count", snap["won_recent"]),
)
c[4].metric(tn("overview.win_rate_recent", snap["days"]), fmt_pct(snap["win_rate_recent"]))
pipeline_ui.currency_note(snap["other_currencies"], currency)

if snap["open_deals"]:
    df = pd.DataFrame(by_stage, columns=["key", "deals", "value"])
    df["stage"] = df["key"].map(names)
    df["position"] = range(len(df))
    st.altair_chart(
        open_by_stage(
            df,
            stage_title=t("field.stage"),
            count_title=t("metric.open_deals"),
            value_title=t("metric.pipeline_value"),
        ),
        width="stretch",
    )
else:
    st.info(t("overview.no_deals"), icon=":material/info:")
