"""Export: deals and the pipeline report as CSV or Excel."""

import ast
from datetime import date, datetime

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.errors import DomainError
from crm_impl.core.i18n import fmt_datetime, fmt_money, fmt_number, fmt_pct, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline import ui
from crm_impl.pipeline.queries import export as exports

actor = common.page("pages/pipeline/export.py")
st.caption(t("exports.intro"))
stamp = date.today().isoformat()
HEADERS = {
    c: t(f"exports.col.{c}")
    for c in ("metric", "value", "key", "open_deals", "open_accounts", "weighted_value", "share")
}
PCT = {"win_rate", "on_time_fulfilment.on_time_rate"}
MONEY = {"won_value", "pipeline_value", "weighted_value", "avg_won_value", "velocity_per_day"}
DAYS = {"avg_sales_cycle_days", "on_time_fulfilment.mean_delay_days"}

with read_session() as session:
    deals = exports.deals_frame(session=session, actor=actor)
    try:
        report = exports.pipeline_report_frames(session=session, actor=actor)
    except (ImportError, DomainError):
        report = None


def _readable_value(metric: str, raw: str, currency: str) -> str:
    """The report's machine values (`0.2779`, ISO times) as people read them."""
    if raw in ("", "[]"):
        return "–"
    if metric == "as_of":
        return fmt_datetime(datetime.fromisoformat(raw))
    if metric == "other_currencies":  # deals left out of the totals: "USD: 3 deals, $12,000"
        rows = ast.literal_eval(raw)
        return "; ".join(
            f"{r['currency']}: {tn('exports.deals_count', r['open_deals'])}, "
            + fmt_money(r["value"], r["currency"])
            for r in rows
        )
    try:
        number = float(raw)
    except ValueError:
        return raw  # a code such as the currency
    if metric in PCT:
        return fmt_pct(number, 1)
    if metric in MONEY:
        return fmt_money(number, currency)
    if metric in DAYS:
        return tn("pipeline.metric.days", round(number, 1))
    return fmt_number(number)


def readable_summary(summary: pd.DataFrame) -> pd.DataFrame:
    raw = dict(zip(summary["metric"], summary["value"], strict=True))
    return pd.DataFrame(
        {
            "metric": [t("exports.metric." + m.replace(".", "_")) for m in raw],
            "value": [_readable_value(m, v, raw.get("currency") or "PLN") for m, v in raw.items()],
        }
    )


st.subheader(t("exports.deals"))
st.caption(tn("exports.deals_count", len(deals)))
d1, d2, _ = st.columns([1, 1, 4])
common.csv_download(
    deals, f"deals-{stamp}.csv", key="export_deals_csv", label_key="exports.download_csv", where=d1
)
common.xlsx_download(
    {"deals": deals},
    f"deals-{stamp}.xlsx",
    key="export_deals_xlsx",
    label_key="exports.download_xlsx",
    where=d2,
)

st.subheader(t("exports.report"))
if report is None:
    st.info(t("exports.report_unavailable"))
    st.stop()
CURRENCY = (
    dict(zip(report["summary"]["metric"], report["summary"]["value"], strict=True)).get("currency") or "PLN"
)
stage_names = ui.stage_key_names(ui.current_lookups()["stages"])
stages_shown = report["stages"].assign(
    key=report["stages"]["key"].map(lambda k: stage_names.get(k, k)),
    share=report["stages"]["share"].map(lambda v: fmt_pct(v, 1)),
    value=report["stages"]["value"].map(lambda v: fmt_money(v, CURRENCY)),
    weighted_value=report["stages"]["weighted_value"].map(lambda v: fmt_money(v, CURRENCY)),
)
s1, s2 = st.columns([1, 2])
s1.caption(t("exports.summary"))
s1.dataframe(
    readable_summary(report["summary"]),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config=HEADERS,
)
s2.caption(t("exports.stages"))
s2.dataframe(stages_shown, placeholder=common.EMPTY, hide_index=True, width="stretch", column_config=HEADERS)
r1, r2, _ = st.columns([1, 1, 4])
common.csv_download(
    report["stages"],
    f"pipeline-stages-{stamp}.csv",
    key="export_report_csv",
    label_key="exports.download_csv",
    where=r1,
)
common.xlsx_download(
    {"summary": report["summary"], "stages": report["stages"]},
    f"pipeline-report-{stamp}.xlsx",
    key="export_report_xlsx",
    label_key="exports.download_xlsx",
    where=r2,
)
