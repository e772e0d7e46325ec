"""Stale deals per owner: open deals nobody touched (no stage move, no done activity) for longer
than their stage's rot threshold."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_money, fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline import charts as charts
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.queries import values

actor = common.page("pages/pipeline/stale.py")
frames = ui.current_frames()
look = ui.current_lookups()
now = datetime.now(UTC)
owners = look["owners"]

by_owner = pm.stale_by_owner(frames.deals, frames.stages, now)
by_owner["owner"] = by_owner["owner_id"].map(lambda i: owners.get(int(i), "–") if pd.notna(i) else "–")
c = st.columns(3)
c[0].metric(t("pipeline.metric.stale"), fmt_number(int(by_owner["stale_deals"].sum())))
c[1].metric(t("pipeline.stale.value"), fmt_money(float(by_owner["stale_value"].sum())))
total_open = int(by_owner["open_deals"].sum())
c[2].metric(
    t("pipeline.stale.share"), f"{by_owner['stale_deals'].sum() / total_open:.0%}" if total_open else "–"
)

if by_owner.empty:
    st.info(t("pipeline.stale.none"), icon=":material/info:")
else:
    measures = {"stale_deals": t("pipeline.stale.stale"), "fresh": t("pipeline.stale.fresh")}
    long = by_owner.assign(fresh=by_owner["open_deals"] - by_owner["stale_deals"])
    long = long.melt(id_vars=["owner"], value_vars=list(measures), var_name="measure", value_name="deals")
    st.altair_chart(
        charts.stale_by_owner(
            long,
            owner_title=t("pipeline.field.owner"),
            count_title=t("metric.open_deals"),
            measure_title=t("pipeline.measure.of"),
            measures=measures,
        ),
        width="stretch",
    )

owner_id = st.selectbox(
    t("pipeline.field.owner"),
    [None, *owners],
    index=([None, *owners].index(actor.id) if not actor.can("deal.write_any") and actor.id in owners else 0),
    format_func=lambda v: t("common.all") if v is None else owners[v],
    placeholder=t("common.choose"),
)
deals = pm.enrich(frames.deals, frames.stages)
deals = deals[pm.stale(frames.deals, frames.stages, now)]
if owner_id is not None:
    deals = deals[deals["owner_id"] == owner_id]
names = ui.stage_name_map(frames.stages)
deals = deals.assign(idle=(now - deals["last_touch_at"]) / pd.Timedelta(days=1)).nlargest(500, "idle")
titles = ui.deal_titles([int(i) for i in deals["id"]])
view = pd.DataFrame(
    {
        "deal": deals["id"].map(titles),
        "stage": deals["stage_id"].map(names),
        "owner": deals["owner_id"].map(lambda i: owners.get(int(i), "–") if pd.notna(i) else "–"),
        "value": common.money_text(deals["value"], values.base_currency()),
        "idle_days": deals["idle"].round(0),
        "rot_days": deals["rot_days"],
    }
).sort_values("idle_days", ascending=False)
st.caption(tn("pipeline.stale.count", len(view)))
pick = st.selectbox(
    t("pipeline.stale.open_deal"),
    list(titles),
    index=None,
    format_func=titles.get,
    placeholder=t("common.choose"),
)
if pick is not None:
    st.page_link(
        "pages/pipeline/deal.py",
        label=common.plain(titles[pick]),
        query_params={"deal": str(pick)},
        icon=":material/handshake:",
    )
st.dataframe(
    view,
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config={
        "deal": t("pipeline.field.deal"),
        "stage": t("field.stage"),
        "owner": t("pipeline.field.owner"),
        "value": t("pipeline.field.value"),
        "idle_days": st.column_config.NumberColumn(t("pipeline.stale.idle_days"), format="%d"),
        "rot_days": st.column_config.NumberColumn(t("pipeline.field.rot_days"), format="%d"),
    },
)
