"""Training effect (issue 10, slide 11: success means people use it): use of the CRM by trained and
untrained users — the pipeline's own recorded writes count as use, a sign-in does not — and the
days from a person's first training to their first use after it."""

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.training import charts, metrics, ui

actor = common.page("pages/training/effect.py")
pid = ui.project_id()
f = ui.frames(pid)
status = ui.status(pid)
eff = metrics.effect(status, f.usage, ui.today())
first = metrics.days_to_first_use(status, f.usage)
summary = metrics.first_use_summary(first)
trained, untrained = eff["trained"], eff["untrained"]

c = st.columns(4)
common.noted_metric(
    c[0],
    t("training.ui.active_trained"),
    fmt_pct(trained["active_share"], 1),
    t("training.ui.active_of", n=trained["active"], total=trained["users"]),
)
common.noted_metric(
    c[1],
    t("training.ui.active_untrained"),
    fmt_pct(untrained["active_share"], 1),
    t("training.ui.active_of", n=untrained["active"], total=untrained["users"]),
)
common.noted_metric(
    c[2],
    t("training.ui.actions_trained"),
    fmt_number(trained["actions_per_user"], 1),
    t("training.ui.actions_untrained", n=fmt_number(untrained["actions_per_user"], 1)),
)
c[3].metric(t("training.ui.median_days"), fmt_number(summary["median_days"], 1))
st.caption(tn("training.ui.effect_note", eff["window_days"], unused=summary["not_used_since"]))

st.subheader(t("training.ui.effect_by_department"))
st.caption(t("training.ui.effect_by_department_note"))
by_department = metrics.effect_by_department(status, f.usage, ui.today(), eff["window_days"])
shares = ["trained_active_share", "untrained_active_share"]
st.dataframe(
    by_department.assign(
        department=by_department["department"].replace("", common.EMPTY),
        **{c: by_department[c].map(lambda v: fmt_pct(v, 1) if pd.notna(v) else None) for c in shares},
    ),
    hide_index=True,
    width="stretch",
    placeholder=common.EMPTY,
    column_order=[
        "department",
        "trained_users",
        "trained_active_share",
        "trained_actions_per_user",
        "untrained_users",
        "untrained_active_share",
        "untrained_actions_per_user",
    ],
    column_config={
        "department": ui.field("department"),
        "trained_users": st.column_config.NumberColumn(t("training.ui.col_trained_users"), format="%d"),
        "trained_active_share": t("training.ui.col_trained_active"),
        "trained_actions_per_user": st.column_config.NumberColumn(
            t("training.ui.col_trained_actions"), format="%.1f"
        ),
        "untrained_users": st.column_config.NumberColumn(t("training.ui.col_untrained_users"), format="%d"),
        "untrained_active_share": t("training.ui.col_untrained_active"),
        "untrained_actions_per_user": st.column_config.NumberColumn(
            t("training.ui.col_untrained_actions"), format="%.1f"
        ),
    },
)

weekly = metrics.weekly_use(status, f.usage)
st.subheader(t("training.ui.weekly_use"))
if weekly.empty:
    st.info(t("training.ui.no_use"), icon=":material/info:")
else:
    recent = weekly.loc[weekly["week"] >= weekly["week"].max() - pd.Timedelta(weeks=26)]  # half a year
    st.altair_chart(charts.weekly_use(recent, today=ui.today(), labels=ui.chart_labels()), width="stretch")

st.subheader(t("training.ui.first_use_heading"))
st.dataframe(
    first.assign(department=first["department"].replace("", common.EMPTY)),
    hide_index=True,
    width="stretch",
    placeholder=common.EMPTY,
    column_order=["name", "department", "first_trained", "first_use", "days"],
    column_config={
        "name": ui.field("name"),
        "department": ui.field("department"),
        "first_trained": st.column_config.DateColumn(ui.field("first_trained"), format="localized"),
        "first_use": st.column_config.DateColumn(ui.field("first_use"), format="localized"),
        "days": st.column_config.NumberColumn(ui.field("days"), format="%d"),
    },
)
