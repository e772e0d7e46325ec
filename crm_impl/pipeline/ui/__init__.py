"""Shared pieces of the pipeline pages: cached read models keyed by the data version, stage
names in the user's language, ERP badges, and the live-refresh interval."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import col

from crm_impl.core import audit
from crm_impl.core.config import get_settings
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_money, get_locale, t
from crm_impl.core.permissions import Actor
from crm_impl.pipeline.metrics import scope as pipeline_scope
from crm_impl.pipeline.models import Deal
from crm_impl.pipeline.queries import frames as pipeline_data
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.queries import values
from crm_impl.pipeline.queries.frames import PipelineFrames
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.services import settlements, stages


def live_every() -> int | None:
    seconds = get_settings().live_refresh_seconds
    return seconds if seconds > 0 else None


def data_version() -> int:
    """One tiny query; every cached read model below is keyed by it."""
    with read_session() as session:
        return audit.data_version(session=session)


@st.cache_data(show_spinner=False, max_entries=4)
def frames(version: int, url: str) -> PipelineFrames:
    """Stages, deals and budget for the pages that look at deals only (no stage history)."""
    with read_session() as session:
        return pipeline_data.load(session, changes=False)


def current_frames() -> PipelineFrames:
    return frames(data_version(), get_settings().database_url)


@st.cache_resource(show_spinner=False, max_entries=2)
def dashboard_frames(version: int, url: str) -> PipelineFrames:
    """The frames with the stage history, read once per data version and shared (not copied)
    by every filter of the dashboard: the metrics never change their input."""
    with read_session() as session:
        return pipeline_data.load(session)


@st.cache_data(show_spinner=False, max_entries=16)
def dashboard(
    version: int, url: str, today: date, scope: pipeline_scope.Scope | None = None
) -> dict[str, Any]:
    # the figures per filter stay in the cache; the rows are read once per data version
    frames = dashboard_frames(version, url)
    data = pipeline_report.dashboard_from_frames(frames, today, scope)
    ids = pipeline_scope.owner_ids(frames.owners, scope) if scope is not None else None
    if ids is not None:  # what the sums left out, of these owners' deals only
        with read_session() as session:
            data["other_currencies"] = values.other_currencies(
                session=session, where=(col(Deal.owner_id).in_(ids),)
            )
    return data


@st.cache_data(show_spinner=False, max_entries=32)
def board(
    version: int, url: str, actor: Actor, filters: tuple[tuple[str, Any], ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    with read_session() as session:
        return pipeline.board(session=session, actor=actor, **dict(filters))


@st.cache_data(show_spinner=False, max_entries=8)
def lookups(version: int, url: str, locale: str) -> dict[str, Any]:
    with read_session() as session:
        return {
            "stages": pd.DataFrame([st_.model_dump() for st_ in stages.list_stages(session=session)]),
            "owners": pipeline.owners(session=session),
            "products": pipeline.products(session=session),
            "reasons": {
                r.key: (r.name_pl if get_locale() == "pl" else r.name_en)
                for r in pipeline.lost_reasons(session=session)
            },
        }


@st.cache_data(show_spinner=False, max_entries=64)
def owns_deals(version: int, url: str, user_id: int | None) -> bool:
    with read_session() as session:
        return pipeline.owns_deals(session=session, user_id=user_id)


def current_lookups() -> dict[str, Any]:
    return lookups(data_version(), get_settings().database_url, get_locale())


def stage_name_map(stages: pd.DataFrame) -> dict[int, str]:
    column = "name_pl" if get_locale() == "pl" else "name_en"
    return dict(zip(stages["id"].astype(int), stages[column], strict=True))


def stage_key_names(stages: pd.DataFrame) -> dict[str, str]:
    column = "name_pl" if get_locale() == "pl" else "name_en"
    return dict(zip(stages["key"], stages[column], strict=True))


def account_names(account_ids: list[int]) -> dict[int, str]:
    with read_session() as session:
        return pipeline.account_names(session=session, account_ids=account_ids)


def deal_titles(deal_ids: list[int]) -> dict[int, str]:
    with read_session() as session:
        return pipeline.deal_titles(session=session, deal_ids=deal_ids)


def erp_flags(account_ids: list[int]) -> dict[int, dict[str, Any]]:
    with read_session() as session:
        return settlements.account_flags(session=session, account_ids=account_ids)


def erp_badge(flag: dict[str, Any] | None, currency: str = "PLN") -> str:
    """A short warning text for a flagged account, or '' for a clean one."""
    if not flag:
        return ""
    parts = []
    if flag["overdue"]:
        parts.append(t("pipeline.erp.overdue", amount=fmt_money(flag["overdue_amount"], currency)))
    if flag["negative_balance"]:
        parts.append(t("pipeline.erp.negative", amount=fmt_money(flag["balance"], currency)))
    return " · ".join(parts)


@st.cache_data(show_spinner=False, max_entries=32)
def other_currencies(version: int, url: str) -> pd.DataFrame:
    with read_session() as session:
        return values.other_currencies(session=session)


def currency_note(other: pd.DataFrame, currency: str) -> None:
    """Say in which currency the sums are, and what was left out of them (see queries.values)."""
    if other.empty:
        st.caption(t("pipeline.currency.note", currency=currency))
        return
    amounts = ", ".join(f"{fmt_money(r.value, r.currency)} ({int(r.deals)})" for r in other.itertuples())
    st.caption(
        t("pipeline.currency.note", currency=currency)
        + " "
        + t("pipeline.currency.excluded", amounts=amounts)
    )
