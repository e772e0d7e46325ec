"""Altair builders for the pipeline dashboard, forecast and stale pages. DataFrames in (already
labelled in the user's language by the page), `alt.Chart` out."""

from __future__ import annotations

import altair as alt
import pandas as pd

MONEY = ",.0f"


def share_by_stage(df: pd.DataFrame, *, stage_title: str, share_title: str, measure_title: str) -> alt.Chart:
    """Grouped horizontal bars: share of open deals, accounts and value per stage (horizontal so
    every stage name stays readable; vertical bars dropped every other label in a half-width
    column).

    `df` columns: stage, position, measure (label), share (0–1).
    """
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=alt.SortField("position"), title=stage_title),
            yOffset="measure:N",
            x=alt.X("share:Q", title=share_title, axis=alt.Axis(format="%")),
            color=alt.Color("measure:N", title=measure_title, legend=alt.Legend(orient="bottom")),
            tooltip=["stage:N", "measure:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=alt.Step(9))
    )


def funnel(
    df: pd.DataFrame, *, stage_title: str, reached_title: str, conversion_title: str
) -> alt.LayerChart:
    """Horizontal bars of deals that reached each stage, labelled with conversion to the next.

    `df` columns: stage, position, reached, conversion (0–1 or NaN), label.
    """
    base = alt.Chart(df).encode(y=alt.Y("stage:N", sort=alt.SortField("position"), title=stage_title))
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        x=alt.X("reached:Q", title=reached_title),
        tooltip=[
            "stage:N",
            alt.Tooltip("reached:Q", title=reached_title),
            alt.Tooltip("conversion:Q", title=conversion_title, format=".1%"),
        ],
    )
    text = base.mark_text(align="left", dx=4).encode(x="reached:Q", text="label:N")
    return (bars + text).properties(height=alt.Step(26))


def time_in_stage(df: pd.DataFrame, *, stage_title: str, days_title: str, measure_title: str) -> alt.Chart:
    """Grouped bars of median/mean days in stage, latest and cumulative.

    `df` columns: stage, position, measure (label), days.
    """
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=alt.SortField("position"), title=stage_title),
            yOffset="measure:N",
            x=alt.X("days:Q", title=days_title),
            color=alt.Color("measure:N", title=measure_title, legend=alt.Legend(orient="bottom")),
            tooltip=["stage:N", "measure:N", alt.Tooltip("days:Q", format=".1f")],
        )
        .properties(height=alt.Step(9))
    )


def monthly_counts(df: pd.DataFrame, *, month_title: str, count_title: str, series_title: str) -> alt.Chart:
    """Lines of new, won and lost deals per month. `df` columns: month, series (label), count."""
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            y=alt.Y("count:Q", title=count_title),
            color=alt.Color("series:N", title=series_title, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("yearmonth(month):T", title=month_title), "series:N", "count:Q"],
        )
        .properties(height=260)
    )


def monthly_value(df: pd.DataFrame, *, month_title: str, value_title: str) -> alt.Chart:
    """Bars of won value per month. `df` columns: month, won_value, and optionally `partial`
    (the month still in progress, drawn faded so a young month does not read as a collapse)."""
    faded = alt.condition("datum.partial", alt.value(0.35), alt.value(1.0))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            y=alt.Y("won_value:Q", title=value_title),
            opacity=faded if "partial" in df.columns else alt.value(1.0),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title=month_title),
                alt.Tooltip("won_value:Q", title=value_title, format=MONEY),
            ],
        )
        .properties(height=260)
    )


def cost_vs_budget(
    df: pd.DataFrame, *, month_title: str, cost_title: str, budget_title: str
) -> alt.LayerChart:
    """Bars of stage cost per month with the sales budget as a line. `df`: month, cost, budget."""
    base = alt.Chart(df).encode(x=alt.X("yearmonth(month):T", title=month_title))
    tooltip = [
        alt.Tooltip("yearmonth(month):T", title=month_title),
        alt.Tooltip("cost:Q", title=cost_title, format=MONEY),
        alt.Tooltip("budget:Q", title=budget_title, format=MONEY),
    ]
    bars = base.mark_bar(opacity=0.8).encode(y=alt.Y("cost:Q", title=cost_title), tooltip=tooltip)
    line = base.mark_line(color="#d62728", point=True, strokeDash=[4, 3]).encode(
        y="budget:Q", tooltip=tooltip
    )
    return (bars + line).properties(height=260)


def stage_cost(df: pd.DataFrame, *, stage_title: str, cost_title: str) -> alt.Chart:
    """Σ estimated cost per stage. `df` columns: stage, position, cost, deals_entered."""
    return (
        alt.Chart(df)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("stage:N", sort=alt.SortField("position"), title=stage_title),
            x=alt.X("cost:Q", title=cost_title),
            tooltip=["stage:N", alt.Tooltip("cost:Q", title=cost_title, format=MONEY), "deals_entered:Q"],
        )
        .properties(height=alt.Step(24))
    )


def weighted_by_month(
    df: pd.DataFrame, *, month_title: str, value_title: str, measure_title: str
) -> alt.Chart:
    """Value and weighted value of open deals by expected-close month. `df`: month, measure, amount."""
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            xOffset="measure:N",
            y=alt.Y("amount:Q", title=value_title),
            color=alt.Color("measure:N", title=measure_title, legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title=month_title),
                "measure:N",
                alt.Tooltip("amount:Q", format=MONEY),
            ],
        )
        .properties(height=280)
    )


def won_forecast(df: pd.DataFrame, *, month_title: str, value_title: str, series_title: str) -> alt.Chart:
    """Monthly won value: history, model forecast and baseline. `df`: month, value, series."""
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            y=alt.Y("value:Q", title=value_title),
            color=alt.Color("series:N", title=series_title, legend=alt.Legend(orient="bottom")),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title=month_title),
                "series:N",
                alt.Tooltip("value:Q", format=MONEY),
            ],
        )
        .properties(height=300)
    )


def stale_by_owner(df: pd.DataFrame, *, owner_title: str, count_title: str, measure_title: str) -> alt.Chart:
    """Stacked bars per owner: stale and fresh open deals. `df`: owner, measure, deals."""
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("owner:N", sort="-x", title=owner_title),
            x=alt.X("deals:Q", title=count_title),
            color=alt.Color("measure:N", title=measure_title, legend=alt.Legend(orient="bottom")),
            tooltip=["owner:N", "measure:N", "deals:Q"],
        )
        .properties(height=alt.Step(22))
    )
