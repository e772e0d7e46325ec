"""Charts for the Overview page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme


def open_by_stage(df: pd.DataFrame, *, stage_title: str, count_title: str, value_title: str) -> alt.Chart:
    """Bars of open deals per stage (in pipeline order), value in the tooltip.

    `df` columns: stage (display name), deals, value, position.
    """
    return (
        alt.Chart(df)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("stage:N", sort=alt.SortField("position"), title=stage_title, axis=theme.category_axis()),
            x=alt.X("deals:Q", title=count_title, axis=theme.count_axis()),
            tooltip=[
                alt.Tooltip("stage:N", title=stage_title),
                alt.Tooltip("deals:Q", title=count_title),
                alt.Tooltip("value:Q", title=value_title, format=",.0f"),
            ],
        )
        .properties(height=alt.Step(28))
    )
