"""Where are we with client X (slide 4): current deals and stages, a timeline of stage moves and
activities, won history, ERP balance and the relationship outlook."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_datetime, fmt_money, fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline import ui as ui
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settlements
from crm_impl.pipeline.services.deals import today_utc
from crm_impl.pipeline.ui import account_panel

actor = common.page("pages/pipeline/client.py")
ui_session.live_page(ui.live_every(), "client")  # another user's change shows without a click
look = ui.current_lookups()
stages = look["stages"]
names = ui.stage_name_map(stages)
kinds = dict(zip(stages["id"], stages["kind"], strict=True))

search = st.text_input(t("pipeline.client.search"), key="client_search")
with read_session() as session:
    options = dict(pipeline.pick_accounts(session=session, actor=actor, search=search))
wanted = st.query_params.get("account")
if wanted and wanted.isdigit() and int(wanted) not in options:
    with read_session() as session:
        options = {**pipeline.account_names(session=session, account_ids=[int(wanted)]), **options}
if not options:
    st.info(t("pipeline.client.none"), icon=":material/info:")
    st.stop()
ids = list(options)
default = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in options else 0
picked = st.selectbox(
    t("pipeline.field.account"),
    ids,
    index=default,
    format_func=lambda i: str(options.get(i, i)),
    placeholder=t("common.choose"),
)
account_id = int(picked if picked is not None else ids[default])
st.query_params["account"] = str(account_id)

with read_session() as session:
    view = pipeline.client_view(session=session, actor=actor, account_id=account_id)
    balance = settlements.latest_balances(session=session, account_ids=[account_id]).get(account_id)
    flags = settlements.account_flags(session=session, account_ids=[account_id])
account, deals = view["account"], view["deals"]
deals["kind"] = deals["stage_id"].map(kinds)
deals["stage"] = deals["stage_id"].map(names)

st.subheader(common.plain(account.name), anchor=False)
st.caption(account_panel.details_line(account, look["owners"].get(account.owner_id, "")))
if pipeline.may_edit_account(actor, account.owner_id):
    with st.expander(t("pipeline.client.edit"), icon=":material/edit:"):
        account_panel.edit_form(actor, account, key="client_edit", success_key="pipeline.client.saved")
if flags:
    st.error(
        t("pipeline.erp.warning", details=ui.erp_badge(flags[account_id])), icon=":material/account_balance:"
    )

open_deals, won = deals[deals["kind"] == "open"], deals[deals["kind"] == "won"]
c = st.columns(4)
common.noted_metric(
    c[0], t("metric.open_deals"), fmt_number(len(open_deals)), fmt_money(open_deals["value"].sum())
)
common.noted_metric(c[1], t("pipeline.client.won"), fmt_number(len(won)), fmt_money(won["value"].sum()))
common.noted_metric(
    c[2],
    t("pipeline.client.erp_balance"),
    fmt_money(balance.balance) if balance else "–",
    t("pipeline.client.as_of", date=fmt_date(balance.as_of)) if balance else None,
)
c[3].metric(t("pipeline.client.overdue"), fmt_money(balance.overdue) if balance else "–")

st.subheader(t("pipeline.client.where"))
if open_deals.empty:
    st.info(t("pipeline.client.no_open"), icon=":material/info:")
for row in open_deals.itertuples():
    st.page_link(
        "pages/pipeline/deal.py",
        label=f"{common.plain(row.title)} — {common.plain(row.stage)} · {fmt_money(row.value, row.currency)}",
        query_params={"deal": str(row.id)},
        icon=":material/handshake:",
    )

st.subheader(t("pipeline.client.outlook"))
frames = ui.current_frames()
mine = frames.deals[frames.deals["account_id"] == account_id]
outlook = pm.relationship_outlook(mine, frames.stages, today_utc())
if outlook.empty:
    st.caption(t("pipeline.client.outlook_unknown"))
else:
    row = outlook.iloc[0]
    msg = t(
        "pipeline.client.outlook_text",
        gap=fmt_number(row["median_gap_days"]),
        last=fmt_date(row["last_won"]),
        next=fmt_date(row["next_expected"]),
    )
    if row["at_risk"]:
        st.warning(
            msg + " " + tn("pipeline.client.at_risk", int(row["days_overdue"])),
            icon=":material/trending_down:",
        )
    elif row["days_overdue"] >= 1:
        st.info(
            msg + " " + tn("pipeline.client.overdue_within", int(row["days_overdue"])),
            icon=":material/schedule:",
        )
    else:
        st.success(msg, icon=":material/event_available:")

timeline_tab, deals_tab, won_tab, contacts_tab = st.tabs(
    [
        t("pipeline.client.timeline"),
        t("pipeline.client.deals"),
        t("pipeline.client.won_history"),
        t("pipeline.client.contacts"),
    ]
)
titles = dict(zip(deals["id"], deals["title"], strict=True))
with timeline_tab:
    hist, acts = view["history"], view["activities"]
    moves = pd.DataFrame(
        {
            "at": hist["at"],
            "deal": hist["deal_id"].map(titles),
            "event": hist.apply(
                lambda r: t("pipeline.client.moved", to=names.get(r["to_stage_id"], "–")), axis=1
            )
            if len(hist)
            else [],
            "by": hist["by"],
        }
    )
    done = pd.DataFrame(
        {
            "at": acts["done_at"].fillna(acts["created_at"]),
            "deal": acts["deal_id"].map(titles),
            "event": acts["kind"].map(lambda k: t(f"pipeline.activity.{k}")) + ": " + acts["subject"],
            "by": "",
        }
    )
    timeline = pd.concat([moves, done], ignore_index=True).sort_values("at", ascending=False)
    st.dataframe(
        timeline.assign(at=timeline["at"].map(fmt_datetime)),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "at": t("field.when"),
            "deal": t("pipeline.field.deal"),
            "event": t("pipeline.client.event"),
            "by": t("field.user"),
        },
    )


def _deal_table(df: pd.DataFrame, date_col: str, date_key: str) -> None:
    """A client's deals with value (formatted in each deal's currency) and one date column."""
    st.dataframe(
        df.assign(
            value=common.money_text(df["value"], df["currency"]), **{date_col: df[date_col].map(fmt_date)}
        )[["title", "stage", "value", date_col]],
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "title": t("pipeline.field.title"),
            "stage": t("field.stage"),
            "value": t("pipeline.field.value"),
            date_col: t(date_key),
        },
    )


with deals_tab:
    _deal_table(deals, "created_at", "pipeline.client.created")
with won_tab:
    _deal_table(won, "closed_at", "pipeline.client.won_at")
with contacts_tab:
    st.dataframe(
        pd.DataFrame(
            [
                {"name": c.full_name, "position": c.position, "email": c.email, "phone": c.phone}
                for c in view["contacts"]
            ],
            columns=["name", "position", "email", "phone"],
        ),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "name": t("field.full_name"),
            "position": t("pipeline.field.job_title"),
            "email": t("field.email"),
            "phone": t("pipeline.field.phone"),
        },
    )
