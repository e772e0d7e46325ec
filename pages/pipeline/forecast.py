"""Forecast: weighted value by expected-close month; the forecast of monthly won value by the
method that did best in a rolling-origin backtest of every method (their errors shown, a
baseline's win said plainly), with prediction intervals; the relationship outlook (accounts
whose next order is overdue are at risk)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_date, fmt_money, fmt_month, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline import charts as charts
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.metrics.forecast import LEVELS
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.services.deals import today_utc
from crm_impl.pipeline.ui import forecast as forecast_ui

common.page("pages/pipeline/forecast.py")
today = today_utc()

st.subheader(t("pipeline.forecast.weighted"))
st.caption(t("pipeline.forecast.weighted_help"))
weighted = pd.DataFrame(
    pipeline_report.weighted_from_frames(ui.current_frames(), today),
    columns=["month", "deals", "value", "weighted_value", "slipped"],
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


with st.spinner(t("forecast.fitting")):  # the first time only: fitting takes a second or two
    report = forecast_ui.current_forecast(today)
currency = report["currency"]


def _month(key: str) -> str:
    return fmt_month(pd.Timestamp(f"{key}-01"))


def _money(value: float | None) -> str:
    return fmt_money(value, currency)


def method_name(key: str) -> str:
    return t(f"forecast.method_name.{key}")


st.subheader(t("forecast.won"))
progress = report["month_in_progress"]
st.caption(t("forecast.won_help", month=_month(progress["month"]), value=_money(progress["value"])))
history = report["won_value_history"]
method = report["method"]
bt = report["backtest"]
models_from = min(m["offered_from"] for m in bt["methods"] if m["kind"] == "model")
if not history:
    st.info(t("forecast.no_history"), icon=":material/info:")
elif report["status"] == "too_short":
    st.info(tn("forecast.too_short", len(history), min=report["min_months"]), icon=":material/info:")
elif report["status"] == "failed":
    st.warning(t("forecast.failed"), icon=":material/warning:")
elif report["baseline_won"]:
    st.info(t("forecast.baseline_won", method=method_name(method)), icon=":material/lightbulb:")
elif report["baseline_tied"]:
    st.info(
        t("forecast.baseline_tied", method=method_name(method), best=method_name(report["best"])),
        icon=":material/lightbulb:",
    )
elif any(m["kind"] == "model" and m["status"] == "ok" for m in bt["methods"]):
    st.success(t("forecast.model_won", method=method_name(method)), icon=":material/check_circle:")
else:
    st.info(
        t("forecast.only_baselines", method=method_name(method), months=models_from),
        icon=":material/lightbulb:",
    )

if history:
    series = {"actual": t("forecast.actual"), "forecast": t("forecast.forecast")}
    if method:
        series["forecast"] = f"{t('forecast.forecast')}: {method_name(method)}"
    bands = {f"pi{lv}": t(f"forecast.pi{lv}") for lv in reversed(LEVELS)}
    actual = pd.DataFrame(history).assign(series="actual", partial=False)
    now = pd.DataFrame([{"month": progress["month"], "value": progress["value"]}])
    points = pd.DataFrame(report["forecast"])
    parts = [actual, now.assign(series="actual", partial=True)]
    if not points.empty:
        parts.append(points[["month", "value"]].assign(series="forecast", partial=False))
        for lv in LEVELS:
            band = points[["month", f"lo{lv}", f"hi{lv}"]]
            band = band.rename(columns={f"lo{lv}": "lower", f"hi{lv}": "upper"})
            parts.append(band.assign(series=f"pi{lv}", partial=False))
    lines = pd.concat(parts, ignore_index=True)
    lines["month"] = pd.to_datetime(lines["month"])
    st.altair_chart(
        charts.won_forecast(
            lines,
            month_title=t("pipeline.measure.month"),
            value_title=t("pipeline.measure.won_value"),
            series_title=t("forecast.series"),
            series=series,
            band_title=t("forecast.band"),
            bands=bands,
            lower_title=t("forecast.lower"),
            upper_title=t("forecast.upper"),
            partial_title=t("pipeline.measure.partial"),
        ),
        width="stretch",
    )

if method:
    st.subheader(t("forecast.points"))
    st.caption(t("forecast.points_help", method=method_name(method)))
    table = pd.DataFrame(report["forecast"])
    money = [c for c in table.columns if c != "month"]
    view = table.assign(month=table["month"].map(_month), **{c: table[c].map(_money) for c in money})
    st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        column_config={
            "month": t("pipeline.measure.month"),
            "value": t("forecast.forecast"),
            **{
                f"{side}{lv}": f"{t(f'forecast.pi{lv}')}: {t(f'forecast.{word}')}"
                for lv in LEVELS
                for side, word in (("lo", "lower"), ("hi", "upper"))
            },
        },
    )

st.subheader(t("forecast.backtest"))
if bt["origins"]:
    st.caption(
        t(
            "forecast.backtest_help",
            origins=bt["months"],
            first=_month(bt["origins"][0]),
            last=_month(bt["origins"][-1]),
            horizon=bt["horizon"],
        )
    )
else:
    st.caption(t("forecast.no_backtest"))
errors = pd.DataFrame(bt["methods"])
status = errors.apply(
    lambda r: (
        t("forecast.status_not_offered", n=r["offered_from"])
        if r["status"] == "not_offered"
        else t(f"forecast.status_{r['status']}")
    ),
    axis=1,
)
st.dataframe(
    pd.DataFrame(
        {
            "used": errors["chosen"].astype(bool),
            "best": errors["best"].astype(bool),
            "method": errors["key"].map(method_name),
            "kind": errors["kind"].map(lambda k: t(f"forecast.kind_{k}")),
            "mae": errors["mae"].map(_money),
            "se": errors["se"].map(_money),
            "mase": errors["mase"].map(lambda v: fmt_number(v, 2)),
            "smape": errors["smape"].map(lambda v: fmt_pct(v, 1)),
            "status": status,
        }
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "used": st.column_config.CheckboxColumn(t("forecast.used")),
        "best": st.column_config.CheckboxColumn(t("forecast.best")),
        "method": t("forecast.method"),
        "kind": t("forecast.kind"),
        "mae": t("forecast.mae"),
        "se": t("forecast.se"),
        "mase": t("forecast.mase"),
        "smape": t("forecast.smape"),
        "status": t("forecast.status"),
    },
)

st.subheader(t("pipeline.forecast.outlook"))
st.caption(t("pipeline.forecast.outlook_help"))
outlook = forecast_ui.current_outlook(today)

if outlook.empty:
    st.info(t("pipeline.forecast.no_outlook"), icon=":material/info:")
else:
    at_risk = outlook[outlook["at_risk"]]
    common.noted_metric(
        st,
        t("pipeline.forecast.at_risk"),
        fmt_number(len(at_risk)),
        tn("pipeline.forecast.of_accounts", len(outlook)),
    )
    names = ui.account_names([int(a) for a in outlook["account_id"]])
    view = outlook.assign(
        account=outlook["account_id"].map(names),
        last_won=outlook["last_won"].map(fmt_date),
        next_expected=outlook["next_expected"].map(fmt_date),
        won_value=outlook["won_value"].map(_money),
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
