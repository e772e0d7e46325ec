"""The deal list's pieces (pages/pipeline/deals.py stays a storyboard): the filters with the
user's saved filters, the table with row selection and a link to each deal, the downloads, and
the managers' bulk change of the selected deals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_date, fmt_datetime, fmt_pct, get_locale, t, tn
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.core.ui import saved_filters as saved_bar
from crm_impl.pipeline import rules
from crm_impl.pipeline.models import DealBulkChange
from crm_impl.pipeline.queries import deal_list as q
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.ui import data_version, owns_deals

P = "deals_f_"  # the filter widgets' keys: P + the DealListFilter field


def _set_widgets(filters: q.DealListFilter) -> None:
    for name, value in filters.model_dump().items():
        st.session_state[P + name] = value


@st.cache_data(show_spinner=False, max_entries=32)
def _load(
    version: int, url: str, actor: Actor, filters: q.DealListFilter, today: date
) -> tuple[pd.DataFrame, int]:
    with read_session() as session:
        return q.deal_list(session=session, actor=actor, filters=filters, today=today)


def load(actor: Actor, filters: q.DealListFilter) -> tuple[pd.DataFrame, int]:
    return _load(data_version(), get_settings().database_url, actor, filters, pipeline.today_utc())


def _current() -> dict[str, Any]:
    """The filters as the user set them (the widgets' state: the bar is drawn above them)."""
    shown = {n: st.session_state[P + n] for n in q.DealListFilter.model_fields if P + n in st.session_state}
    return q.to_saved(q.DealListFilter.model_validate(shown))


def filter_bar(actor: Actor, look: dict[str, Any], names: dict[int, str]) -> q.DealListFilter:
    """The saved filters, then stage (several), owner (several), client, value range, expected
    close range, status and overdue only. A rep who owns deals starts on their own (the board's
    rule); everybody else on every deal."""
    owners: dict[int, str] = look["owners"]
    if P + "owner_ids" not in st.session_state:
        mine = owns_deals(data_version(), get_settings().database_url, actor.id)
        st.session_state[P + "owner_ids"] = (
            [actor.id] if mine and actor.id in owners and not actor.can("deal.write_any") else []
        )

    def _apply(criteria: dict[str, Any]) -> None:
        _set_widgets(q.from_saved(criteria, stage_ids=names, owner_ids=owners))

    widgets: dict[str, Any] = {}
    saved_bar.bar(
        actor=actor,
        page=q.DEAL_FILTERS,
        key="deals_saved",
        current=_current,
        apply=_apply,
        owners=owners,
    )
    c = st.columns(3)
    widgets["stage_ids"] = c[0].multiselect(
        t("field.stage"),
        list(names),
        format_func=lambda i: names.get(i, str(i)),
        key=P + "stage_ids",
        placeholder=t("common.all"),
    )
    widgets["owner_ids"] = c[1].multiselect(
        t("pipeline.field.owner"),
        list(owners),
        format_func=lambda i: owners.get(i, str(i)),
        key=P + "owner_ids",
        placeholder=t("common.all"),
    )
    widgets["client"] = c[2].text_input(
        t("field.client"), key=P + "client", placeholder=t("pipeline.deals.client_hint")
    )
    widgets["value_min"] = c[0].number_input(
        t("pipeline.board.min_value"), min_value=0.0, value=None, step=1000.0, key=P + "value_min"
    )
    widgets["value_max"] = c[1].number_input(
        t("pipeline.board.max_value"), min_value=0.0, value=None, step=1000.0, key=P + "value_max"
    )
    widgets["statuses"] = c[2].multiselect(
        t("pipeline.deals.status"),
        list(q.STATUSES),
        format_func=lambda k: t(f"pipeline.stage_kind.{k}"),
        key=P + "statuses",
        placeholder=t("common.all"),
    )
    day = "DD.MM.YYYY" if get_locale() == "pl" else "YYYY-MM-DD"
    widgets["close_from"] = c[0].date_input(
        t("pipeline.deals.close_from"), value=None, key=P + "close_from", format=day
    )
    widgets["close_to"] = c[1].date_input(
        t("pipeline.deals.close_to"), value=None, key=P + "close_to", format=day
    )
    with c[2]:
        st.space("small")
        widgets["overdue"] = st.toggle(
            t("pipeline.deals.overdue"), key=P + "overdue", help=t("pipeline.deals.overdue_help")
        )
    return q.DealListFilter.model_validate(widgets)


def view(frame: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    """The rows as the table and the downloads show them: names, not ids or raw values."""
    return pd.DataFrame(
        {
            "link": "/pipeline_deal?deal=" + frame["id"].astype(str),
            "title": frame["title"],
            "client": frame["client"],
            "contact": frame["contact"],
            "stage": frame["stage_id"].map(names),
            "owner": frame["owner"],
            "value": frame["value"],
            "currency": frame["currency"],
            "expected_close": frame["expected_close"],
            "probability": frame["probability"] * 100,
            "last_touch_at": frame["last_touch_at"],
            "created_at": frame["created_at"],
        }
    )


def _labels() -> dict[str, str]:
    return {
        "link": t("pipeline.field.deal"),
        "title": t("pipeline.field.title"),
        "client": t("field.client"),
        "contact": t("pipeline.field.contact"),
        "stage": t("field.stage"),
        "owner": t("pipeline.field.owner"),
        "value": t("pipeline.field.value"),
        "currency": t("field.currency"),
        "expected_close": t("pipeline.field.expected_close"),
        "probability": t("pipeline.field.probability"),
        "last_touch_at": t("pipeline.deals.last_touch"),
        "created_at": t("pipeline.client.created"),
    }


def table(frame: pd.DataFrame, names: dict[int, str], *, multi: bool) -> list[int]:
    """The deals, sortable by any column (click its header), each linked to its page; managers
    select several rows for a bulk change. Returns the selected deals' ids."""
    shown = view(frame, names)
    labels = _labels()
    date_format = "DD.MM.YYYY" if get_locale() == "pl" else "D MMM YYYY"
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        key="deals_table",
        on_select="rerun",
        selection_mode="multi-row" if multi else "single-row",
        column_config={
            "link": st.column_config.LinkColumn(labels["link"], display_text=r"deal=(\d+)$", width="small"),
            "title": st.column_config.TextColumn(labels["title"], width="medium"),
            "client": labels["client"],
            "contact": labels["contact"],
            "stage": labels["stage"],
            "owner": labels["owner"],
            "value": st.column_config.NumberColumn(labels["value"], format="localized"),
            "currency": st.column_config.TextColumn(labels["currency"], width="small"),
            "expected_close": st.column_config.DateColumn(labels["expected_close"], format=date_format),
            "probability": st.column_config.NumberColumn(labels["probability"], format="%.0f%%"),
            "last_touch_at": st.column_config.DatetimeColumn(labels["last_touch_at"], format="distance"),
            "created_at": st.column_config.DatetimeColumn(labels["created_at"], format=date_format),
        },
    )
    ids = [int(frame.iloc[r]["id"]) for r in event.selection.rows]
    for deal_id in ids[:5]:  # open in this tab, too
        title = str(frame.loc[frame["id"] == deal_id, "title"].iloc[0])
        st.page_link(
            "pages/pipeline/deal.py",
            label=common.plain(f"#{deal_id} {title}"),
            query_params={"deal": str(deal_id)},
            icon=":material/open_in_new:",
        )
    return ids


def exports(frame: pd.DataFrame, names: dict[int, str]) -> None:
    """CSV and Excel of the listed deals with the headers and values as shown (formula-safe)."""
    out = view(frame, names).drop(columns="link")
    out.insert(0, "id", frame["id"])
    out["expected_close"] = out["expected_close"].map(fmt_date)
    out["probability"] = frame["probability"].map(fmt_pct)
    for name in ("last_touch_at", "created_at"):
        out[name] = out[name].map(fmt_datetime)
    out = out.rename(columns={"id": "#", **_labels()})
    c = st.columns(2)
    common.csv_download(out, "deals.csv", key="deals_csv", where=c[0])
    common.xlsx_download(
        {t("page.pipeline_deals"): out},
        "deals.xlsx",
        key="deals_xlsx",
        label_key="pipeline.deals.export_xlsx",
        where=c[1],
    )


def bulk_change(frame: pd.DataFrame, ids: list[int], look: dict[str, Any], names: dict[int, str]) -> None:
    """A manager changes every selected deal in one all-or-nothing call: a new owner, a stage
    (Lost with its reason; a move that decides the outcome is confirmed first) and / or an
    expected close date."""
    stages = look["stages"]
    active = stages[stages["active"]].sort_values("position")
    stage_names = dict(zip(active["key"], active["id"].astype(int).map(names), strict=True))
    by_key = {s.key: s for s in stages.itertuples()}
    current = dict(zip(frame["id"].astype(int), frame["version"].astype(int), strict=True))
    # the versions as the user saw them when selecting (a submit reruns and reads them anew)
    versions = {i: common.shown_version(f"deal_bulk_{i}", current[i]) for i in ids}
    st.caption(tn("pipeline.deals.bulk_selected", len(ids)))
    with common.form("deals_bulk"):
        c = st.columns(3)
        owner = c[0].selectbox(
            t("pipeline.deals.new_owner"),
            list(look["owners"]),
            index=None,
            format_func=look["owners"].get,
            placeholder=t("pipeline.deals.unchanged"),
        )
        to_key = c[1].selectbox(
            t("pipeline.deal.move_to"),
            list(stage_names),
            index=None,
            format_func=lambda k: str(stage_names.get(k, k)),
            placeholder=t("pipeline.deals.unchanged"),
        )
        reason = c[1].selectbox(
            t("pipeline.field.lost_reason"),
            list(look["reasons"]),
            index=None,
            format_func=lambda k: str(look["reasons"].get(k, k)),
            placeholder=t("pipeline.deals.lost_only"),
        )
        close = c[2].date_input(
            t("pipeline.deals.new_close"),
            value=None,
            format="DD.MM.YYYY" if get_locale() == "pl" else "YYYY-MM-DD",
        )
        clear_close = c[2].checkbox(t("pipeline.deals.clear_close"))
        confirm = st.checkbox(t("pipeline.deals.confirm_outcome"), help=t("pipeline.deals.confirm_help"))
        if st.form_submit_button(t("pipeline.deals.bulk_apply"), type="primary", icon=":material/done_all:"):
            change: dict[str, Any] = {}
            if owner is not None:
                change["owner_id"] = owner
            if to_key is not None:
                change["stage_key"] = to_key
                change["lost_reason"] = reason
            if close is not None or clear_close:
                change["expected_close"] = None if clear_close else close
            decisive = to_key is not None and rules.decides_outcome(by_key[to_key], stages.itertuples())
            if decisive and not confirm:
                st.error(t("pipeline.deals.confirm_needed", stage=common.plain(stage_names[to_key])))
                return
            common.save(
                pipeline.bulk_update,
                "pipeline.deals.bulk_done",
                deal_ids=ids,
                expected_versions=[versions[i] for i in ids],
                change=DealBulkChange(**change),
                before_rerun=lambda _: common.forms_saved(),
            )
