"""Altair builders for the usage dashboard (pure: frames of `crm_impl.adoption.metrics.usage` and
labels in, charts out). Series are encoded on their KEY with a fixed colour (chart_theme.keyed_color),
the legend showing the translated label; every category is labelled; counts get integer axes; the
month in progress is drawn hollow and faded (partial), never as a fall.

`labels` holds the axis titles and the translated word of every key the chart draws (the page
builds it with `t()`); the keys each builder needs are in its docstring.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme

TREND_COLORS = {"dau_mean": theme.BLUE, "wau": theme.TEAL, "mau": theme.ORANGE}
RATE_COLORS = {"adoption_rate": theme.GREEN, "stickiness": theme.NAVY}


def trend(monthly: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """Mean DAU, WAU and MAU per month (metrics.monthly): lines through the finished months, the
    month in progress a hollow, faded point.

    labels: {"month", "users", "series", "dau_mean", "wau", "mau"}."""
    series = {k: labels[k] for k in TREND_COLORS}
    long = monthly.melt(
        id_vars=["month", "partial"], value_vars=list(TREND_COLORS), var_name="series", value_name="users"
    )
    long = theme.with_labels(long, "series", series)
    color = theme.keyed_color("series", series, TREND_COLORS, title=labels["series"])
    x = alt.X("yearmonth(month):T", title=labels["month"], axis=alt.Axis(format="%b %Y", labelOverlap=False))
    y = alt.Y("users:Q", title=labels["users"], axis=theme.count_axis())
    tooltip = [
        alt.Tooltip("yearmonth(month):T", title=labels["month"], format="%B %Y"),
        alt.Tooltip("series_label:N", title=labels["series"]),
        alt.Tooltip("users:Q", title=labels["users"], format=".1f"),
    ]
    done = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
        .transform_filter("!datum.partial")
    )
    partial = (
        alt.Chart(long)
        .mark_point(filled=False, size=90, opacity=theme.PARTIAL_OPACITY + 0.4)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
        .transform_filter("datum.partial")
    )
    return alt.LayerChart(layer=[done, partial]).properties(height=280)


def rates_by_group(frame: pd.DataFrame, column: str, *, labels: dict[str, str]) -> alt.Chart:
    """Adoption rate and stickiness per group (metrics.by_group on `column`), grouped horizontal
    bars on a 0–100 % axis, every group labelled.

    labels: {"group", "share", "series", "adoption_rate", "stickiness", "none"}."""
    series = {k: labels[k] for k in RATE_COLORS}
    data = frame.assign(group=frame[column].replace("", labels["none"]))
    long = data.melt(id_vars=["group"], value_vars=list(RATE_COLORS), var_name="series", value_name="share")
    long = theme.with_labels(long, "series", series)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=labels["group"], axis=theme.category_axis(), sort=None),
            yOffset=alt.YOffset("series:N", sort=list(RATE_COLORS)),
            x=alt.X(
                "share:Q", title=labels["share"], axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
            ),
            color=theme.keyed_color("series", series, RATE_COLORS, title=labels["series"]),
            tooltip=[
                alt.Tooltip("group:N", title=labels["group"]),
                alt.Tooltip("series_label:N", title=labels["series"]),
                alt.Tooltip("share:Q", title=labels["share"], format=".1%"),
            ],
        )
        .properties(height=alt.Step(14))
    )
