"""My day, a sales rep's home: my activities due today and overdue (overdue first; mark one
done), my open deals (value, stage, expected close) and my stale deals (the metrics' rule)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_money, fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.queries import my_day, values
from crm_impl.pipeline.services import deals as pipeline

actor = common.page("pages/pipeline/my_day.py")
now = datetime.now(UTC)
today = now.date()
look = ui.current_lookups()
names = ui.stage_name_map(look["stages"])
currency = values.base_currency()
may_write = actor.can("deal.write")

deals = my_day.my_deals(ui.current_frames(), actor.id, now)
stale = deals[deals["stale"]].sort_values("idle_days", ascending=False)
with read_session() as session:
    due_today, overdue = my_day.count_due(session=session, actor=actor, today=today)
    due = my_day.activities_due(session=session, actor=actor, today=today)
titles = ui.deal_titles([int(i) for i in deals["id"]])
clients = ui.account_names([int(i) for i in deals["account_id"].dropna().unique()])

c = st.columns(5)
c[0].metric(t("my_day.open_deals"), fmt_number(len(deals)))
c[1].metric(t("my_day.open_value"), fmt_money(float(deals["value"].sum()), currency))
c[2].metric(t("my_day.due_today"), fmt_number(due_today))
c[3].metric(t("my_day.overdue"), fmt_number(overdue))
c[4].metric(t("my_day.stale"), fmt_number(len(stale)))

st.subheader(t("my_day.activities"))
if due.empty:
    st.info(t("my_day.no_activities"), icon=":material/event_available:")
elif len(due) < due_today + overdue:
    st.caption(tn("my_day.activities_first", due_today + overdue, shown=fmt_number(len(due))))
for act in due.itertuples():
    with st.container(border=True, key=f"my_day_activity_{act.id}"):
        row = st.columns([1, 3, 3, 2, 1.5], vertical_alignment="center")
        row[0].markdown(t(f"pipeline.activity.{act.kind}"))
        row[1].text(act.subject)  # user text is data, never Markdown
        if pd.notna(act.deal_id):
            row[2].page_link(
                "pages/pipeline/deal.py",
                label=common.plain(act.deal),
                query_params={"deal": str(int(act.deal_id))},
                icon=":material/handshake:",
            )
        elif pd.notna(act.account_id):
            row[2].page_link(
                "pages/pipeline/client.py",
                label=common.plain(act.account),
                query_params={"account": str(int(act.account_id))},
                icon=":material/storefront:",
            )
        when = t("pipeline.activity.due", when=fmt_date(act.due_at))
        if act.overdue:
            row[3].markdown(f":red-badge[:material/schedule: {t('my_day.overdue_badge')}] {when}")
        else:
            row[3].markdown(f":blue-badge[:material/today: {t('my_day.today_badge')}] {when}")
        if may_write and row[4].button(
            t("pipeline.activity.complete"), key=f"my_day_done_{act.id}", icon=":material/check:"
        ):
            common.save(
                pipeline.complete_activity,
                "pipeline.activity.completed",
                activity_id=int(act.id),
                expected_version=int(act.version),
            )


def _deal_view(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal": frame["id"].map(titles),
            "client": frame["account_id"].map(lambda i: clients.get(int(i), "–") if pd.notna(i) else "–"),
            "stage": frame["stage_id"].map(names),
            "value": common.money_text(frame["value"], currency),
            "expected_close": frame["expected_close"].map(fmt_date),
            "idle_days": frame["idle_days"].round(0),
            "rot_days": frame["rot_days"],
        }
    )


COLUMNS = {
    "deal": t("pipeline.field.deal"),
    "client": t("pipeline.field.account"),
    "stage": t("field.stage"),
    "value": t("pipeline.field.value"),
    "expected_close": t("pipeline.field.expected_close"),
    "idle_days": st.column_config.NumberColumn(t("pipeline.stale.idle_days"), format="%d"),
    "rot_days": st.column_config.NumberColumn(t("pipeline.field.rot_days"), format="%d"),
}

st.subheader(t("my_day.deals"))
if deals.empty:
    st.info(t("my_day.no_deals"), icon=":material/info:")
else:
    by_close = deals.sort_values(["expected_close", "value"], ascending=[True, False], na_position="last")
    st.dataframe(
        _deal_view(by_close).drop(columns=["idle_days", "rot_days"]),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config=COLUMNS,
    )
    pick = st.selectbox(
        t("pipeline.stale.open_deal"),
        list(by_close["id"]),
        index=None,
        format_func=lambda i: titles.get(int(i), str(i)),
        placeholder=t("common.choose"),
        key="my_day_pick",
    )
    if pick is not None:
        st.page_link(
            "pages/pipeline/deal.py",
            label=common.plain(titles.get(int(pick), str(pick))),
            query_params={"deal": str(int(pick))},
            icon=":material/handshake:",
        )

st.subheader(t("my_day.stale_deals"))
st.caption(t("my_day.stale_caption"))
if stale.empty:
    st.info(t("my_day.no_stale"), icon=":material/check_circle:")
else:
    st.dataframe(
        _deal_view(stale).drop(columns=["expected_close"]),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config=COLUMNS,
    )
