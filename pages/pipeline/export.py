"""Export: deals and the pipeline report as CSV or Excel."""

from datetime import date

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.errors import DomainError
from crm_impl.core.exporting import to_csv_bytes, to_xlsx_bytes
from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.importers import engine as imports

actor = common.page("pages/pipeline/export.py")
st.caption(t("exports.intro"))
stamp = date.today().isoformat()
HEADERS = {
    c: t(f"exports.col.{c}")
    for c in ("metric", "value", "key", "open_deals", "open_accounts", "weighted_value", "share")
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

with read_session() as session:
    deals = imports.deals_frame(session=session, actor=actor)
    try:
        report = imports.pipeline_report_frames(session=session, actor=actor)
    except (ImportError, DomainError):
        report = None

st.subheader(t("exports.deals"))
st.caption(t("exports.deals_count", n=fmt_number(len(deals))))
d1, d2, _ = st.columns([1, 1, 4])
d1.download_button(
    t("exports.download_csv"),
    lambda: to_csv_bytes(deals),
    file_name=f"deals-{stamp}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="export_deals_csv",
)
d2.download_button(
    t("exports.download_xlsx"),
    lambda: to_xlsx_bytes({"deals": deals}),
    file_name=f"deals-{stamp}.xlsx",
    mime=XLSX,
    icon=":material/download:",
    on_click="ignore",
    key="export_deals_xlsx",
)

st.subheader(t("exports.report"))
if report is None:
    st.info(t("exports.report_unavailable"))
    st.stop()
s1, s2 = st.columns([1, 2])
s1.caption(t("exports.summary"))
s1.dataframe(report["summary"], hide_index=True, width="stretch", column_config=HEADERS)
s2.caption(t("exports.stages"))
s2.dataframe(report["stages"], hide_index=True, width="stretch", column_config=HEADERS)
r1, r2, _ = st.columns([1, 1, 4])
r1.download_button(
    t("exports.download_csv"),
    lambda: to_csv_bytes(report["stages"]),
    file_name=f"pipeline-stages-{stamp}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="export_report_csv",
)
r2.download_button(
    t("exports.download_xlsx"),
    lambda: to_xlsx_bytes({"summary": report["summary"], "stages": report["stages"]}),
    file_name=f"pipeline-report-{stamp}.xlsx",
    mime=XLSX,
    icon=":material/download:",
    on_click="ignore",
    key="export_report_xlsx",
)
