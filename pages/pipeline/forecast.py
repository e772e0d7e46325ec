"""Forecast: weighted value by expected-close month, a backtested forecast of monthly won value,
and the relationship outlook (accounts whose next order is overdue are at risk)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.core.i18n import fmt_date, fmt_money, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline import charts as charts
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.services.deals import today_utc

common.page("pages/pipeline/forecast.py")
frames = ui.current_frames()
today = today_utc()
report = pipeline_report.forecast_from_frames(frames, today)

st.subheader(t("pipeline.forecast.weighted"))
st.caption(t("pipeline.forecast.weighted_help"))
weighted = pd.DataFrame(
    report["weighted_by_close_month"], columns=["month", "deals", "value", "weighted_value", "slipped"]
)
if weighted.empty:
    st.info(t("pipeline.forecast.no_open"), icon=":material/info:")
else:
    weighted["month"] = pd.to_datetime(weighted["month"])
    measures = {"value": t("metric.pipeline_value"), "weighted_value": t("metric.weighted_value")}
    long = weighted.melt(
        id_vars=["month"], value_vars=list(measures), var_name="measure", value_name="amount"
    )
    st.altair_chart(
        charts.weighted_by_month(
            long,
            month_title=t("pipeline.measure.month"),
            value_title=t("pipeline.measure.amount"),
            measure_title=t("pipeline.measure.of"),
            measures=measures,
        ),
        width="stretch",
    )
    slipped = int(weighted["slipped"].sum())
    if slipped:
        st.caption(tn("pipeline.forecast.slipped", slipped))

st.subheader(t("pipeline.forecast.won"))
st.caption(t("pipeline.forecast.won_help"))
labels = {
    "actual": t("pipeline.forecast.actual"),
    "model": t("pipeline.forecast.model"),
    "baseline": t("pipeline.forecast.baseline"),
}
history = pd.DataFrame(report["won_value_history"], columns=["month", "value"]).assign(series="actual")
future = pd.DataFrame(report["forecast"], columns=["month", "model", "baseline"])
future = future.melt(
    id_vars=["month"], value_vars=["model", "baseline"], var_name="series", value_name="value"
)
lines = pd.concat([history, future], ignore_index=True)
if lines.empty:
    st.info(t("pipeline.forecast.no_history"), icon=":material/info:")
else:
    lines["month"] = pd.to_datetime(lines["month"])
    st.altair_chart(
        charts.won_forecast(
            lines,
            month_title=t("pipeline.measure.month"),
            value_title=t("pipeline.measure.won_value"),
            series_title=t("pipeline.measure.of"),
            series=labels,
        ),
        width="stretch",
    )

bt = report["backtest"]
st.subheader(t("pipeline.forecast.backtest"))
st.caption(
    t(
        "pipeline.forecast.backtest_help",
        months=bt["months"],
        baseline=t(f"pipeline.forecast.kind_{bt['baseline']}"),
    )
)
c = st.columns(4)
c[0].metric(t("pipeline.forecast.mae_model"), fmt_money(bt["mae_model"]))
c[1].metric(t("pipeline.forecast.mae_baseline"), fmt_money(bt["mae_baseline"]))
c[2].metric(t("pipeline.forecast.smape_model"), fmt_pct(bt["smape_model"], 1))
c[3].metric(t("pipeline.forecast.smape_baseline"), fmt_pct(bt["smape_baseline"], 1))
rows = pd.DataFrame(bt["rows"], columns=["month", "actual", "model", "baseline"])
money = {c: rows[c].map(fmt_money) for c in ("actual", "model", "baseline")}
st.dataframe(
    rows.assign(**money),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config={
        "month": t("pipeline.measure.month"),
        "actual": labels["actual"],
        "model": labels["model"],
        "baseline": labels["baseline"],
    },
)

st.subheader(t("pipeline.forecast.outlook"))
st.caption(t("pipeline.forecast.outlook_help"))
data = ui.dashboard(ui.data_version(), get_settings().database_url, today)
outlook = data["outlook"]

if outlook.empty:
    st.info(t("pipeline.forecast.no_outlook"), icon=":material/info:")
else:
    at_risk = outlook[outlook["at_risk"]]
    st.metric(
        t("pipeline.forecast.at_risk"),
        fmt_number(len(at_risk)),
        tn("pipeline.forecast.of_accounts", len(outlook)),
        delta_color="off",
        delta_arrow="off",
    )
    names = ui.account_names([int(a) for a in outlook["account_id"]])
    view = outlook.assign(
        account=outlook["account_id"].map(names),
        last_won=outlook["last_won"].map(fmt_date),
        next_expected=outlook["next_expected"].map(fmt_date),
        won_value=outlook["won_value"].map(fmt_money),
    )
    st.dataframe(
        view[
            [
                "account",
                "won_deals",
                "won_value",
                "median_gap_days",
                "last_won",
                "next_expected",
                "days_overdue",
                "at_risk",
            ]
        ],
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "account": t("pipeline.field.account"),
            "won_deals": t("pipeline.forecast.won_deals"),
            "won_value": t("pipeline.measure.won_value"),
            "median_gap_days": st.column_config.NumberColumn(
                t("pipeline.forecast.median_gap"), format="%.0f"
            ),
            "last_won": t("pipeline.forecast.last_won"),
            "next_expected": t("pipeline.forecast.next_expected"),
            "days_overdue": st.column_config.NumberColumn(t("pipeline.forecast.days_overdue"), format="%.0f"),
            "at_risk": st.column_config.CheckboxColumn(t("pipeline.forecast.at_risk")),
        },
    )
