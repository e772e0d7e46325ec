"""Altair builders for the budget pages (pure: frames of crm_impl.budget.metrics and labels in,
charts out).

Every coloured series is encoded on its KEY ("planned", "actual", "pv", "ev", "ac" …) with a
fixed colour (crm_impl.core.chart_theme.keyed_color), the legend showing the translated label;
categories and phases are labelled one by one; the month in progress is a hollow point off the
line (partial), never a fall. `labels` holds the axis titles and the word of every key drawn.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from crm_impl.budget.vocabulary import CATEGORIES
from crm_impl.core import chart_theme as theme

AMOUNT_COLORS = {
    "planned": theme.LIGHT_BLUE,
    "committed": theme.BLUE,
    "actual": theme.ORANGE,
    "forecast": theme.RED,
}
CURVE_COLORS = {"planned": theme.BLUE, "actual": theme.ORANGE}
EV_COLORS = {"pv": theme.BLUE, "ev": theme.GREEN, "ac": theme.ORANGE}
INDEX_COLORS = {"cpi": theme.GREEN, "spi": theme.BLUE}
AMOUNTS = tuple(AMOUNT_COLORS)


def _long(df: pd.DataFrame, key: str) -> pd.DataFrame:
    return df.melt(id_vars=[key], value_vars=list(AMOUNTS), var_name="series", value_name="amount")


def amounts_by(df: pd.DataFrame, key: str, *, names: dict[Any, str], labels: dict[str, str]) -> alt.Chart:
    """Planned, committed, actual and forecast side by side per category or phase (rows).

    df: metrics.by_category (key "category") or metrics.by_phase (key "phase"); names: the word
    of every row key in its order; labels: {"amount", "row", "series"} and every AMOUNTS key."""
    data = _long(df, key)
    data = data.assign(row_label=data[key].map(names).fillna(data[key].astype(str)))
    series = {k: labels[k] for k in AMOUNTS}
    data = theme.with_labels(data, "series", series)
    order = list(names.values())
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "row_label:N",
                sort=order,
                scale=alt.Scale(domain=order),
                title=labels["row"],
                axis=theme.category_axis(),
            ),
            yOffset=alt.YOffset("series:N", sort=list(AMOUNTS), scale=alt.Scale(domain=list(AMOUNTS))),
            x=alt.X("amount:Q", title=labels["amount"]),
            color=theme.keyed_color("series", series, AMOUNT_COLORS, title=labels["series"]),
            tooltip=[
                alt.Tooltip("row_label:N", title=labels["row"]),
                alt.Tooltip("series_label:N", title=labels["series"]),
                alt.Tooltip("amount:Q", title=labels["amount"], format=",.2f"),
            ],
        )
        .properties(height=alt.Step(9))
    )


def category_names(labels: dict[str, str]) -> dict[str, str]:
    return {c: labels[c] for c in CATEGORIES}


def _line_with_partial(
    data: pd.DataFrame, colors: dict[str, str], series: dict[str, str], labels: dict[str, str], fmt: str
) -> alt.LayerChart:
    """Lines per series over months; the month in progress a hollow point off the line."""
    data = theme.with_labels(data, "series", series)
    base = alt.Chart(data).encode(
        x=alt.X("month:T", title=labels["month"], axis=alt.Axis(format="%m.%Y", tickCount="month")),
        y=alt.Y("value:Q", title=labels["value"]),
        color=theme.keyed_color("series", series, colors, title=labels["series"]),
        tooltip=[
            alt.Tooltip("month:T", title=labels["month"], format="%m.%Y"),
            alt.Tooltip("series_label:N", title=labels["series"]),
            alt.Tooltip("value:Q", title=labels["value"], format=fmt),
            alt.Tooltip("partial_label:N", title=labels["partial"]),
        ],
    )
    done = base.transform_filter("!datum.partial").mark_line(point=True)
    partial = base.transform_filter("datum.partial").mark_point(filled=False, size=90, opacity=0.8)
    return alt.LayerChart(layer=[done, partial])


def cumulative(cum: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """Cumulative actual cost per month against the planned curve (PV by month end).

    cum: metrics.cumulative. labels: {"month", "value", "series", "partial", "partial_yes",
    "partial_no", "planned", "actual"}."""
    data = cum.rename(columns={"amount": "value"})
    data = data.assign(
        partial_label=data["partial"].map({True: labels["partial_yes"], False: labels["partial_no"]})
    )
    series = {"planned": labels["planned"], "actual": labels["actual"]}
    return _line_with_partial(data, CURVE_COLORS, series, labels, ",.0f")


def earned_value(history: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """PV, EV and AC per month: the frozen snapshots, and the month in progress (live) hollow.

    history: metrics.history. labels: {"month", "value", "series", "partial", "partial_yes",
    "partial_no", "pv", "ev", "ac"}."""
    data = history.melt(id_vars=["month", "partial"], value_vars=["pv", "ev", "ac"], var_name="series")
    data["value"] = pd.to_numeric(data["value"], errors="coerce")
    data = data.assign(
        partial_label=data["partial"].map({True: labels["partial_yes"], False: labels["partial_no"]})
    )
    series = {k: labels[k] for k in ("pv", "ev", "ac")}
    return _line_with_partial(data, EV_COLORS, series, labels, ",.0f")


def indices(history: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """CPI and SPI per month with the 1.0 line (above: under budget / ahead of schedule).

    labels: {"month", "index", "series", "partial", "partial_yes", "partial_no", "cpi", "spi"}: the
    y axis is titled "index" (a ratio, not an amount)."""
    data = history.melt(id_vars=["month", "partial"], value_vars=["cpi", "spi"], var_name="series")
    data["value"] = pd.to_numeric(data["value"], errors="coerce")
    data = data.dropna(subset=["value"])
    data = data.assign(
        partial_label=data["partial"].map({True: labels["partial_yes"], False: labels["partial_no"]})
    )
    series = {k: labels[k] for k in ("cpi", "spi")}
    rule = (
        alt.Chart(pd.DataFrame({"one": [1.0]}))
        .mark_rule(color=theme.GREY, strokeDash=[4, 4])
        .encode(y="one:Q")
    )
    axis = labels | {"value": labels["index"]}
    return alt.LayerChart(layer=[_line_with_partial(data, INDEX_COLORS, series, axis, ".2f"), rule])
