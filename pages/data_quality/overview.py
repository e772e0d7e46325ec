"""Data quality at a glance: the overall and per-dimension scores, per entity, the trend of the
daily snapshots, the top issues, per owner and per department (docs/data_quality.md)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_date, fmt_number, t
from crm_impl.core.ui import common
from crm_impl.data_quality import charts, metrics, services
from crm_impl.data_quality import ui as dq
from crm_impl.data_quality.vocabulary import WEIGHTS

actor = common.page("pages/data_quality/overview.py")
found, data = dq.scan()
scores = metrics.dimension_scores(found)
overall = scores[(scores["entity"] == metrics.ALL) & (scores["dimension"] == metrics.OVERALL)].iloc[0]
labels = dq.chart_labels()

st.caption(t("dq.ui.as_of", date=fmt_date(data.context.today)))
c = st.columns(3)
c[0].metric(t("dq.ui.overall"), "–" if pd.isna(overall["score"]) else fmt_number(overall["score"], 1))
c[1].metric(t("dq.ui.records_with_issues"), fmt_number(int(overall["failing"])))
c[2].metric(t("dq.ui.records"), fmt_number(int(overall["checked"])))

st.subheader(t("dq.ui.dimension_chart"))
everything = scores[scores["entity"] == metrics.ALL]
if everything["score"].notna().any():
    st.altair_chart(charts.dimension_bars(everything, labels), width="stretch")
dq.show_scores(
    dq.score_table(
        scores, "entity", t("dq.ui.entity"), {e: dq.entity_name(e) for e in (*dq.ENTITIES, metrics.ALL)}
    )
)
st.caption(
    t(
        "dq.ui.weights",
        weights=", ".join(f"{t(f'dq.dimension.{d}')} {fmt_number(w * 100)}%" for d, w in WEIGHTS.items()),
    )
)

st.subheader(t("dq.ui.trend"))
history = dq.snapshots()
trend = metrics.trend(history) if len(history) else history
if len(trend):
    st.altair_chart(charts.trend(trend, labels), width="stretch")
else:
    st.info(t("dq.ui.no_snapshots"), icon=":material/info:")
if actor.can("dq.manage"):
    if st.button(t("dq.ui.take_snapshot"), icon=":material/photo_camera:"):
        common.save(services.take_snapshot, "dq.ui.snapshot_taken")

st.subheader(t("dq.ui.top_issues"))
top = metrics.top_issues(found, 15)
st.dataframe(
    pd.DataFrame(
        {
            "rule": top["rule"].map(lambda r: t(f"dq.rule_name.{r}")),
            "entity": top["entity"].map(dq.entity_name),
            "dimension": top["dimension"].map(lambda d: t(f"dq.dimension.{d}")),
            "severity": top["severity"].map(lambda s: t(f"dq.severity.{s}")),
            "failing": top["failing"],
            "share": top["share"] * 100,
        }
    ),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config={
        "rule": t("dq.ui.rule"),
        "entity": t("dq.ui.entity"),
        "dimension": t("dq.ui.dimension"),
        "severity": t("dq.ui.severity"),
        "failing": st.column_config.NumberColumn(t("dq.ui.failing"), format="%d"),
        "share": st.column_config.NumberColumn(t("dq.ui.share"), format="%.1f%%"),
    },
)

people = data.owners.set_index("id")
owner_col, dept_col = st.columns(2)
with owner_col:
    st.subheader(t("dq.ui.by_owner"))
    names = {**people["name"].to_dict(), float("nan"): t("dq.ui.no_owner")}
    by_owner = metrics.group_scores(found)
    by_owner["group"] = by_owner["group"].map(
        lambda g: t("dq.ui.no_owner") if pd.isna(g) else names.get(g, g)
    )
    dq.show_scores(dq.score_table(by_owner, "group", t("dq.ui.owner")))
with dept_col:
    st.subheader(t("dq.ui.by_department"))
    by_dept = metrics.group_scores(found, people["department"].replace("", pd.NA))
    by_dept["group"] = by_dept["group"].map(lambda g: t("dq.ui.no_department") if pd.isna(g) else g)
    dq.show_scores(dq.score_table(by_dept, "group", t("dq.ui.department")))
