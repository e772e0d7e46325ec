"""The forecast page's read models: the backtested won-value forecast and the outlook,
computed once per data version and day (fitting every method on every backtest origin takes
a second or two; a rerun of the page must not pay it again)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.pipeline import metrics as pm
from crm_impl.pipeline.queries import report as pipeline_report
from crm_impl.pipeline.ui import data_version, frames

HORIZON = 6


@st.cache_data(show_spinner=False, max_entries=4)
def forecast(version: int, url: str, today: date, horizon: int = HORIZON) -> dict[str, Any]:
    return pipeline_report.won_forecast_from_frames(frames(version, url), today, horizon)


def current_forecast(today: date, horizon: int = HORIZON) -> dict[str, Any]:
    return forecast(data_version(), get_settings().database_url, today, horizon)


@st.cache_data(show_spinner=False, max_entries=4)
def outlook(version: int, url: str, today: date) -> pd.DataFrame:
    """The relationship outlook, from the deals alone (no stage history needed)."""
    data = frames(version, url)
    return pm.relationship_outlook(data.deals, data.stages, today)


def current_outlook(today: date) -> pd.DataFrame:
    return outlook(data_version(), get_settings().database_url, today)
