"""Widgets of the usage dashboard: the active project, the cached usage frames (keyed by the data
version), labels and column configurations. Reads only; user text (names, departments, file
names) is shown in data frames."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.adoption.queries import usage as queries
from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.ui import common, sidebar
from crm_impl.core.ui import session as ui_session


def project_id() -> int:
    return sidebar.require_active_project("adoption.usage.no_project")


def _key() -> tuple[int, str]:
    return ui_session.data_key()


@st.cache_data(show_spinner=False, max_entries=8)
def _frames(version: int, url: str, pid: int) -> queries.UsageFrames:
    with read_session() as session:
        return queries.load(session, pid)


@st.cache_data(show_spinner=False, max_entries=8)
def _imports(version: int, url: str, pid: int) -> pd.DataFrame:
    with read_session() as session:
        return queries.imports(session, pid)


def frames(pid: int) -> queries.UsageFrames:
    return _frames(*_key(), pid)


def imports(pid: int) -> pd.DataFrame:
    return _imports(*_key(), pid)


def today() -> date:
    return date.today()


def field(name: str) -> str:
    return t(f"adoption.usage.field.{name}")


def role_label(role: str) -> str:
    return t(f"role.{role}") if role else common.EMPTY


def source_label(source: str) -> str:
    return t("adoption.usage.source_app") if source == "app" else source


SHARES = ("dau_share", "stickiness", "adoption_rate")


def shares_in_percent(frame: pd.DataFrame) -> pd.DataFrame:
    """The share columns × 100, shown by `group_config` to one decimal like the headline."""
    return frame.assign(**{c: frame[c] * 100 for c in SHARES if c in frame.columns})


def group_config(column: str) -> dict[str, Any]:
    """Column configuration of a metrics.by_group frame (its shares through `shares_in_percent`)."""
    return {
        column: field(column),
        "licensed": st.column_config.NumberColumn(field("licensed"), format="%d"),
        "mau": st.column_config.NumberColumn(field("mau"), format="%d"),
        "wau": st.column_config.NumberColumn(field("wau"), format="%d"),
        "dau_mean": st.column_config.NumberColumn(field("dau_mean"), format="%.1f"),
        "dau_share": st.column_config.NumberColumn(field("dau_share"), format="%.1f%%"),
        "stickiness": st.column_config.NumberColumn(field("stickiness"), format="%.1f%%"),
        "adoption_rate": st.column_config.NumberColumn(field("adoption_rate"), format="%.1f%%"),
        "created_per_active": st.column_config.NumberColumn(field("created_per_active"), format="%.1f"),
        "updated_per_active": st.column_config.NumberColumn(field("updated_per_active"), format="%.1f"),
        "never_active": st.column_config.NumberColumn(field("never_active"), format="%d"),
    }


def trend_labels() -> dict[str, str]:
    return {
        "month": field("month"),
        "users": field("users"),
        "series": t("adoption.usage.series"),
        "dau_mean": field("dau_mean"),
        "wau": field("wau"),
        "mau": field("mau"),
    }


def rate_labels(group: str) -> dict[str, str]:
    return {
        "group": field(group),
        "share": field("share"),
        "series": t("adoption.usage.series"),
        "adoption_rate": field("adoption_rate"),
        "stickiness": field("stickiness"),
        "none": t("adoption.usage.none"),
    }


def export_never_active(df: pd.DataFrame) -> pd.DataFrame:
    """The never-active list as the CSV shows it: translated headers and role names."""
    out = pd.DataFrame(
        {
            field("name"): df["name"],
            field("department"): df["department"],
            field("role"): df["role"].map(lambda r: t(f"role.{r}") if r else ""),
            field("start"): pd.to_datetime(df["start"]).dt.date,
        }
    )
    return out
