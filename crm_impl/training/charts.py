"""Altair builders for the training pages (pure: frames of crm_impl.training.metrics and labels
in, charts out). Series are encoded on their KEY with a fixed colour (chart_theme.keyed_color),
the legend showing the translated label; departments are categories with every one labelled;
counts get integer axes; the month in progress is faded (partial), never drawn as a fall.

`labels` holds the axis titles and the translated word of every key the chart draws (the page
builds it with `t()`); the keys each builder needs are in its docstring.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme

COVERAGE_COLORS = {"trained": theme.GREEN, "untrained": theme.GREY}
SESSION_COLORS = {"held": theme.BLUE, "planned": theme.LIGHT_BLUE}
STEERING_COLORS = {"with_management": theme.GREEN, "without_management": theme.ORANGE}
USE_COLORS = {"trained": theme.GREEN, "untrained": theme.ORANGE}
INVOLVED_COLORS = {"involved": theme.TEAL, "not_involved": theme.GREY}


def _opacity() -> Any:
    return alt.condition("datum.partial", alt.value(theme.PARTIAL_OPACITY), alt.value(1.0))


def _by_department(
    frame: pd.DataFrame, parts: dict[str, str], colors: dict[str, str], labels: dict[str, str]
) -> alt.Chart:
    """Horizontal stacked bars of people per department split into `parts` (keys -> columns)."""
    long = frame.melt(
        id_vars=["department"], value_vars=list(parts.values()), var_name="col", value_name="count"
    )
    long["series"] = long["col"].map({v: k for k, v in parts.items()})
    long["department"] = long["department"].replace("", labels["no_department"])
    series = {k: labels[k] for k in parts}
    long = theme.with_labels(long, "series", series)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("department:N", title=labels["department"], axis=theme.category_axis(), sort=None),
            x=alt.X("count:Q", title=labels["count"], axis=theme.count_axis(), stack="zero"),
            color=theme.keyed_color("series", series, colors, title=labels["series"]),
            order=alt.Order("series_order:Q"),
            tooltip=[
                alt.Tooltip("department:N", title=labels["department"]),
                alt.Tooltip("series_label:N", title=labels["series"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .transform_calculate(series_order=f"indexof({list(parts)!r}, datum.series)")
        .properties(height=alt.Step(30))
    )


def coverage(cov: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Licensed users per department: trained before go-live and not (yet).

    cov: metrics.coverage. labels: {"department", "count", "series", "trained", "untrained",
    "no_department"}."""
    frame = cov.assign(untrained=cov["licensed"] - cov["trained"])
    return _by_department(frame, {"trained": "trained", "untrained": "untrained"}, COVERAGE_COLORS, labels)


def involvement(per: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Client-side people per department who took part in a workshop with employees, and not.

    per: metrics.workshop_involvement. labels: {"department", "count", "series", "involved",
    "not_involved", "no_department"}."""
    frame = per.assign(not_involved=per["people"] - per["involved"])
    return _by_department(
        frame, {"involved": "involved", "not_involved": "not_involved"}, INVOLVED_COLORS, labels
    )


def _monthly(
    long: pd.DataFrame, series: dict[str, str], colors: dict[str, str], labels: dict[str, str]
) -> alt.Chart:
    long = theme.with_labels(long, "series", series)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:T", title=labels["month"], timeUnit="yearmonth", axis=alt.Axis(format="%b %Y")),
            y=alt.Y("count:Q", title=labels["count"], axis=theme.count_axis(), stack="zero"),
            color=theme.keyed_color("series", series, colors, title=labels["series"]),
            opacity=_opacity(),
            order=alt.Order("series_order:Q"),
            tooltip=[
                alt.Tooltip("month:T", title=labels["month"], format="%B %Y"),
                alt.Tooltip("series_label:N", title=labels["series"]),
                alt.Tooltip("count:Q", title=labels["count"]),
                alt.Tooltip("partial_label:N", title=labels["partial"]),
            ],
        )
        .transform_calculate(
            series_order=f"indexof({list(series)!r}, datum.series)",
            partial_label=f"datum.partial ? {labels['partial_yes']!r} : ''",
        )
    )


def sessions_per_month(per: pd.DataFrame, *, today: date, labels: dict[str, str]) -> alt.Chart:
    """Held and planned sessions per month (the month in progress faded).

    per: metrics.sessions_per_month. labels: {"month", "count", "series", "held", "planned",
    "partial", "partial_yes"}."""
    long = theme.partial_month(per.rename(columns={"status": "series"}), today=pd.Timestamp(today))
    return _monthly(long, {k: labels[k] for k in SESSION_COLORS}, SESSION_COLORS, labels)


def steering(per: pd.DataFrame, *, today: date, labels: dict[str, str]) -> alt.Chart:
    """Steering-committee meetings per month, stacked: with management present and without (a
    month with none shows as a gap; the month in progress faded).

    per: metrics.steering_per_month. labels: {"month", "count", "series", "with_management",
    "without_management", "partial", "partial_yes"}."""
    frame = per.assign(without_management=per["meetings"] - per["with_management"])
    long = frame.melt(
        id_vars=["month"],
        value_vars=["with_management", "without_management"],
        var_name="series",
        value_name="count",
    )
    long = theme.partial_month(long, today=pd.Timestamp(today))
    return _monthly(long, {k: labels[k] for k in STEERING_COLORS}, STEERING_COLORS, labels)


def weekly_use(weekly: pd.DataFrame, *, today: date, labels: dict[str, str]) -> alt.LayerChart:
    """Actions per user per week, trained vs untrained users (the week in progress as a hollow
    point, not joined to the line).

    weekly: metrics.weekly_use. labels: {"week", "actions_per_user", "series", "trained",
    "untrained"}."""
    series = {k: labels[k] for k in USE_COLORS}
    start = pd.Timestamp(today) - pd.Timedelta(days=pd.Timestamp(today).weekday())
    data = theme.with_labels(weekly.rename(columns={"group": "series"}), "series", series)
    data = data.assign(partial=pd.to_datetime(data["week"]) >= start)
    color = theme.keyed_color("series", series, USE_COLORS, title=labels["series"])
    x = alt.X("week:T", title=labels["week"], axis=alt.Axis(format="%d %b"))
    y = alt.Y("actions_per_user:Q", title=labels["actions_per_user"])
    tooltip = [
        alt.Tooltip("week:T", title=labels["week"], format="%d %b %Y"),
        alt.Tooltip("series_label:N", title=labels["series"]),
        alt.Tooltip("actions_per_user:Q", title=labels["actions_per_user"], format=".1f"),
    ]
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
        .transform_filter("!datum.partial")
    )
    partial = (
        alt.Chart(data)
        .mark_point(filled=False, size=80)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
        .transform_filter("datum.partial")
    )
    return alt.LayerChart(layer=[line, partial])
