"""Pipeline dashboard: shares per stage, funnel and conversion, win rate, sales cycle, velocity,
time in stage, monthly trends, stage cost against the sales budget. Refreshes live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core import chart_theme
from crm_impl.core.i18n import fmt_money, fmt_money_short, fmt_month, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline import charts as charts
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.services.deals import today_utc
from crm_impl.pipeline.ui import dashboard_filter

common.page("pages/pipeline/dashboard.py")
st.caption(t("pipeline.dashboard.caption"))
owner_names = ui.current_lookups()["owners"]
scope = dashboard_filter.pick(ui.dashboard_frames(*ui_session.data_key()), owner_names, today_utc())


def _headline(s: dict, on_time: dict) -> None:  # type: ignore[type-arg]
    c = st.columns(4)
    c[0].metric(t("metric.open_deals"), fmt_number(s["open"]))
    # a tile is a quarter of the page: the amount in short (16.7M PLN), exactly in its tooltip
    c[1].metric(
        t("metric.pipeline_value"), fmt_money_short(s["pipeline_value"]), help=fmt_money(s["pipeline_value"])
    )
    c[2].metric(
        t("metric.weighted_value"), fmt_money_short(s["weighted_value"]), help=fmt_money(s["weighted_value"])
    )
    common.noted_metric(
        c[3],
        t("pipeline.metric.win_rate"),
        fmt_pct(s["win_rate"], 1),
        t("pipeline.metric.won_lost", won=s["won"], lost=s["lost"]),
    )
    c = st.columns(4)
    cycle = s["avg_sales_cycle_days"]
    c[0].metric(
        t("pipeline.metric.sales_cycle"), tn("pipeline.metric.days", round(cycle, 1)) if cycle else "–"
    )
    c[1].metric(
        t("pipeline.metric.velocity"),
        fmt_money(s["velocity_per_day"]) if s["velocity_per_day"] else "–",
        help=t("pipeline.metric.velocity_help"),
    )
    c[2].metric(t("pipeline.metric.stale"), fmt_number(s["stale_deals"]))
    common.noted_metric(
        c[3],
        t("pipeline.metric.on_time"),
        fmt_pct(on_time["on_time_rate"]),
        t("pipeline.metric.delivered", n=on_time["delivered"]),
        help=t(
            "pipeline.metric.late_help",
            late=on_time["late"],
            delay=tn("pipeline.metric.days", round(delay, 1))
            if (delay := on_time["mean_delay_days"])
            else "–",
        ),
    )


def _label_stages(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return df.assign(stage=df["key"].map(names))


@ui_session.live_fragment(ui.live_every())  # every refresh checks the session first
def dashboard_view() -> None:
    data = ui.dashboard(*ui_session.data_key(), today_utc(), scope)
    names = ui.stage_key_names(ui.current_lookups()["stages"])
    dashboard_filter.caption(scope, owner_names, data["deals"])
    _headline(data["summary"], data["on_time"])
    ui.currency_note(data["other_currencies"], data["currency"])

    left, right = st.columns(2)
    with left:
        st.subheader(t("pipeline.dashboard.share"))
        share = _label_stages(data["share"], names)
        measures = {
            "deals_share": t("pipeline.measure.deals"),
            "account_share": t("pipeline.measure.accounts"),
            "value_share": t("pipeline.measure.value"),
        }
        long = share.drop(columns=["share"]).assign(deals_share=share["share"])
        long = long.melt(
            id_vars=["stage", "position"], value_vars=list(measures), var_name="measure", value_name="share"
        )
        st.altair_chart(
            charts.share_by_stage(
                long,
                stage_title=t("field.stage"),
                share_title=t("pipeline.measure.share"),
                measure_title=t("pipeline.measure.of"),
                measures=measures,
            ),
            width="stretch",
        )
    with right:
        st.subheader(t("pipeline.dashboard.funnel"))
        fun = _label_stages(data["funnel"], names)
        fun["label"] = fun["conversion"].map(lambda v: "" if pd.isna(v) else "→ " + fmt_pct(v))
        steps = {"reached": t("pipeline.measure.reached"), "entered": t("pipeline.measure.entered")}
        long = fun.melt(
            id_vars=["stage", "position", "conversion", "label"],
            value_vars=list(steps),
            var_name="measure",
            value_name="deals",
        )
        st.altair_chart(
            charts.funnel(
                long,
                stage_title=t("field.stage"),
                count_title=t("pipeline.measure.deals"),
                conversion_title=t("pipeline.measure.conversion"),
                measure_title=t("pipeline.measure.of"),
                measures=steps,
            ),
            width="stretch",
        )
        st.caption(t("pipeline.dashboard.funnel_help"))

    st.subheader(t("pipeline.dashboard.time_in_stage"))
    tis = _label_stages(data["time_in_stage"], names)
    tis = tis[tis["km_median"].notna() | tis["finished_median"].notna()]
    measures = {
        "km_median": t("pipeline.measure.km_median"),
        "finished_median": t("pipeline.measure.finished_median"),
    }
    long = tis.melt(
        id_vars=["stage", "position"], value_vars=list(measures), var_name="measure", value_name="days"
    ).dropna(subset=["days"])
    st.altair_chart(
        charts.time_in_stage(
            long,
            stage_title=t("field.stage"),
            days_title=t("pipeline.measure.days"),
            measure_title=t("pipeline.measure.of"),
            measures=measures,
        ),
        width="stretch",
    )
    running = int(data["time_in_stage"]["still_open"].sum())
    st.caption(tn("pipeline.dashboard.time_in_stage_help", running))

    st.subheader(t("pipeline.dashboard.trends"))
    if data["undated"]:
        st.caption(tn("pipeline.dashboard.undated", data["undated"]))
    trends = data["trends"]
    month_start = pd.Timestamp.now().normalize().replace(day=1)
    trends = trends.assign(partial=pd.to_datetime(trends["month"]) >= month_start)
    if trends["partial"].any():
        st.caption(t("pipeline.dashboard.month_in_progress", month=fmt_month(month_start)))
    left, right = st.columns(2)
    series = {
        "new": t("pipeline.measure.new"),
        "won": t("pipeline.measure.won"),
        "lost": t("pipeline.measure.lost"),
    }
    long = trends.melt(
        id_vars=["month", "partial"], value_vars=list(series), var_name="series", value_name="count"
    )
    left.altair_chart(
        charts.monthly_counts(
            long,
            month_title=t("pipeline.measure.month"),
            count_title=t("pipeline.measure.deals"),
            series_title=t("pipeline.measure.of"),
            series=series,
            partial_title=t("pipeline.measure.partial"),
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.monthly_value(
            trends,
            month_title=t("pipeline.measure.month"),
            value_title=t("pipeline.measure.won_value"),
            partial_title=t("pipeline.measure.partial"),
        ),
        width="stretch",
    )

    st.subheader(t("pipeline.dashboard.cost"))
    left, right = st.columns(2)
    cost = _label_stages(data["stage_cost"], names)
    left.altair_chart(
        charts.stage_cost(
            cost[cost["cost"] > 0],
            stage_title=t("field.stage"),
            cost_title=t("pipeline.measure.stage_cost"),
            deals_title=t("pipeline.measure.deals"),
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.cost_vs_budget(
            chart_theme.partial_month(data["cost_vs_budget"], today=month_start),
            month_title=t("pipeline.measure.month"),
            cost_title=t("pipeline.measure.stage_cost"),
            budget_title=t("pipeline.measure.budget"),
            amount_title=t("pipeline.measure.amount"),
            series_title=t("pipeline.measure.of"),
            partial_title=t("pipeline.measure.partial"),
        ),
        width="stretch",
    )
    totals = data["cost_totals"]
    if totals["first_month"] is not None:
        st.caption(
            t(
                "pipeline.dashboard.cost_total",
                cost=fmt_money(totals["cost"]),
                budget=fmt_money(totals["budget"]),
                first=fmt_month(totals["first_month"]),
                last=fmt_month(totals["last_month"]),
            )
        )
    if scope.owner_ids or scope.teams:
        st.caption(t("pipeline.scope.budget_whole"))
    if totals["later_budget"]:
        st.caption(t("pipeline.dashboard.cost_later", budget=fmt_money(totals["later_budget"])))


dashboard_view()
