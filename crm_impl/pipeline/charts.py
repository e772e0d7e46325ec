"""Altair builders for the pipeline dashboard, forecast and stale pages. DataFrames in, `alt.Chart`
out. Stage names arrive translated (they are the categories on an axis); every coloured series
arrives as its KEY (`measure`/`series` column) with a `{key: translated label}` mapping, so a
series keeps its colour in every language (see crm_impl.core.chart_theme)."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme

MONEY = ",.0f"

SHARE_COLORS = {"deals_share": theme.BLUE, "account_share": theme.TEAL, "value_share": theme.ORANGE}
TIME_COLORS = {"km_median": theme.BLUE, "finished_median": theme.LIGHT_BLUE}
FUNNEL_COLORS = {"reached": theme.BLUE, "entered": theme.TEAL}
COUNT_COLORS = {"new": theme.BLUE, "won": theme.WON, "lost": theme.LOST}
COST_COLORS = {"cost": theme.BLUE, "budget": theme.DARK}
WEIGHTED_COLORS = {"value": theme.LIGHT_BLUE, "weighted_value": theme.BLUE}
FORECAST_COLORS = {"actual": theme.NAVY, "forecast": theme.ORANGE}
FORECAST_DASHES: dict[str, list[float]] = {"actual": [1, 0], "forecast": [6, 3]}
BAND_COLORS = {"pi95": theme.LIGHT_ORANGE, "pi80": theme.ORANGE}
BAND_OPACITY = {"pi95": 0.3, "pi80": 0.35}
STALE_COLORS = {"stale_deals": theme.RED, "fresh": theme.LIGHT_BLUE}


def _stage_y(title: str) -> alt.Y:
    return alt.Y("stage:N", sort=alt.SortField("position"), title=title, axis=theme.category_axis())


def share_by_stage(
    df: pd.DataFrame, *, stage_title: str, share_title: str, measure_title: str, measures: Mapping[str, str]
) -> alt.Chart:
    """Grouped horizontal bars: share of open deals, accounts and value per stage (horizontal so
    every stage name stays readable).

    `df` columns: stage, position, measure (key of `measures`), share (0–1).
    """
    keys = list(measures)
    return (
        alt.Chart(theme.with_labels(df, "measure", measures))
        .mark_bar()
        .encode(
            y=_stage_y(stage_title),
            yOffset=alt.YOffset("measure:N", sort=keys, scale=alt.Scale(domain=keys)),
            x=alt.X("share:Q", title=share_title, axis=alt.Axis(format="%")),
            color=theme.keyed_color("measure", measures, SHARE_COLORS, title=measure_title),
            tooltip=[
                alt.Tooltip("stage:N", title=stage_title),
                alt.Tooltip("measure_label:N", title=measure_title),
                alt.Tooltip("share:Q", title=share_title, format=".1%"),
            ],
        )
        .properties(height=alt.Step(9))
    )


def funnel(
    df: pd.DataFrame,
    *,
    stage_title: str,
    count_title: str,
    conversion_title: str,
    measure_title: str,
    measures: Mapping[str, str],
) -> alt.LayerChart:
    """Grouped horizontal bars per stage: the deals that reached it and the deals that entered
    it (both drawn, each named in the legend), the reached bar labelled with the stage's
    conversion (of the deals that left it, the share that moved forward).

    `df` columns: stage, position, measure (key of `measures`: reached, entered), deals,
    conversion (0–1 or NaN), label (shown on the first measure's bar only).
    """
    keys = list(measures)
    data = theme.with_labels(df, "measure", measures)
    data = data.assign(label=data["label"].where(data["measure"] == keys[0], ""))
    # the stages in their order, given explicitly: a layered chart does not merge a field sort
    order = data.sort_values("position")["stage"].drop_duplicates().tolist()
    base = alt.Chart(data).encode(
        y=alt.Y("stage:N", sort=order, title=stage_title, axis=theme.category_axis()),
        yOffset=alt.YOffset("measure:N", sort=keys, scale=alt.Scale(domain=keys)),
        x=alt.X("deals:Q", title=count_title, axis=theme.count_axis()),
    )
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        color=theme.keyed_color("measure", measures, FUNNEL_COLORS, title=measure_title),
        tooltip=[
            alt.Tooltip("stage:N", title=stage_title),
            alt.Tooltip("measure_label:N", title=measure_title),
            alt.Tooltip("deals:Q", title=count_title),
            alt.Tooltip("conversion:Q", title=conversion_title, format=".1%"),
        ],
    )
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    return (bars + text).properties(height=alt.Step(14))


def time_in_stage(
    df: pd.DataFrame, *, stage_title: str, days_title: str, measure_title: str, measures: Mapping[str, str]
) -> alt.Chart:
    """Grouped bars of median days in stage: Kaplan–Meier (stays still open counted as
    censored) beside the median of finished stays only.

    `df` columns: stage, position, measure (key of `measures`), days.
    """
    keys = list(measures)
    return (
        alt.Chart(theme.with_labels(df, "measure", measures))
        .mark_bar()
        .encode(
            y=_stage_y(stage_title),
            yOffset=alt.YOffset("measure:N", sort=keys, scale=alt.Scale(domain=keys)),
            x=alt.X("days:Q", title=days_title),
            color=theme.keyed_color("measure", measures, TIME_COLORS, title=measure_title),
            tooltip=[
                alt.Tooltip("stage:N", title=stage_title),
                alt.Tooltip("measure_label:N", title=measure_title),
                alt.Tooltip("days:Q", title=days_title, format=".1f"),
            ],
        )
        .properties(height=alt.Step(9))
    )


def monthly_counts(
    df: pd.DataFrame,
    *,
    month_title: str,
    count_title: str,
    series_title: str,
    series: Mapping[str, str],
    partial_title: str,
) -> alt.LayerChart:
    """Lines of new, won and lost deals per month. `df` columns: month, series (key of `series`),
    count, partial (the month in progress).

    The month in progress is not part of the line (its few days would read as a collapse): it is
    drawn as hollow, faded points only, with "month in progress" in the tooltip.
    """
    data = theme.with_labels(df, "series", series)
    if "partial" not in data.columns:
        data = data.assign(partial=False)
    color = theme.keyed_color("series", series, COUNT_COLORS, title=series_title)
    tooltip = [
        alt.Tooltip("yearmonth(month):T", title=month_title),
        alt.Tooltip("series_label:N", title=series_title),
        alt.Tooltip("count:Q", title=count_title),
        alt.Tooltip("partial_label:N", title=" "),
    ]
    data = data.assign(partial_label=data["partial"].map({True: partial_title, False: ""}))
    base = alt.Chart(data).encode(
        x=alt.X("yearmonth(month):T", title=month_title),
        y=alt.Y("count:Q", title=count_title, axis=theme.count_axis()),
        color=color,
        tooltip=tooltip,
    )
    complete = base.transform_filter("!datum.partial")
    lines = complete.mark_line() + complete.mark_point(filled=True, size=40)
    partial = base.transform_filter("datum.partial").mark_point(
        filled=False, size=60, opacity=theme.PARTIAL_OPACITY + 0.25, strokeDash=[2, 2]
    )
    return alt.LayerChart(layer=[lines, partial]).properties(height=260)


def monthly_value(df: pd.DataFrame, *, month_title: str, value_title: str, partial_title: str) -> alt.Chart:
    """Bars of won value per month. `df` columns: month, won_value, and optionally `partial`
    (the month still in progress, drawn faded with a dashed outline, named in the tooltip, so a
    young month does not read as a collapse)."""
    data = df if "partial" in df.columns else df.assign(partial=False)
    data = data.assign(partial_label=data["partial"].map({True: partial_title, False: ""}))
    faded = alt.condition("datum.partial", alt.value(theme.PARTIAL_OPACITY), alt.value(1.0))
    return (
        alt.Chart(data)
        .mark_bar(color=theme.WON, strokeDash=[3, 2])
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            y=alt.Y("won_value:Q", title=value_title),
            opacity=faded,
            stroke=alt.condition("datum.partial", alt.value(theme.WON), alt.value(None)),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title=month_title),
                alt.Tooltip("won_value:Q", title=value_title, format=MONEY),
                alt.Tooltip("partial_label:N", title=" "),
            ],
        )
        .properties(height=260)
    )


def cost_vs_budget(
    df: pd.DataFrame,
    *,
    month_title: str,
    cost_title: str,
    budget_title: str,
    amount_title: str,
    series_title: str,
    partial_title: str,
) -> alt.LayerChart:
    """Bars of stage cost per month with the sales budget as a line, one legend for both.
    `df`: month, cost, budget, and optionally `partial` (month in progress: cost bar faded)."""
    series = {"cost": cost_title, "budget": budget_title}
    data = df if "partial" in df.columns else df.assign(partial=False)
    data = data.assign(partial_label=data["partial"].map({True: partial_title, False: ""}))
    long = data.melt(
        id_vars=["month", "partial", "partial_label"],
        value_vars=list(series),
        var_name="series",
        value_name="amount",
    )
    long = theme.with_labels(long, "series", series)
    # only the cost of the month in progress is incomplete; its budget is known in full
    is_cost = long["series"] == "cost"
    long = long.assign(
        partial=long["partial"].astype(bool) & is_cost, partial_label=long["partial_label"].where(is_cost, "")
    )
    base = alt.Chart(long).encode(
        x=alt.X("yearmonth(month):T", title=month_title),
        y=alt.Y("amount:Q", title=amount_title),
        color=theme.keyed_color("series", series, COST_COLORS, title=series_title),
        tooltip=[
            alt.Tooltip("yearmonth(month):T", title=month_title),
            alt.Tooltip("series_label:N", title=series_title),
            alt.Tooltip("amount:Q", title=amount_title, format=MONEY),
            alt.Tooltip("partial_label:N", title=" "),
        ],
    )
    bars = (
        base.transform_filter("datum.series === 'cost'")
        .mark_bar(opacity=0.85)
        .encode(opacity=alt.condition("datum.partial", alt.value(theme.PARTIAL_OPACITY), alt.value(0.85)))
    )
    line = base.transform_filter("datum.series === 'budget'").mark_line(point=True, strokeDash=[4, 3])
    return alt.LayerChart(layer=[bars, line]).properties(height=260)


def stage_cost(df: pd.DataFrame, *, stage_title: str, cost_title: str, deals_title: str) -> alt.Chart:
    """Σ estimated cost per stage. `df` columns: stage, position, cost, deals_entered."""
    return (
        alt.Chart(df)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=_stage_y(stage_title),
            x=alt.X("cost:Q", title=cost_title),
            tooltip=[
                alt.Tooltip("stage:N", title=stage_title),
                alt.Tooltip("cost:Q", title=cost_title, format=MONEY),
                alt.Tooltip("deals_entered:Q", title=deals_title),
            ],
        )
        .properties(height=alt.Step(24))
    )


def weighted_by_month(
    df: pd.DataFrame, *, month_title: str, value_title: str, measure_title: str, measures: Mapping[str, str]
) -> alt.Chart:
    """Value and weighted value of open deals by expected-close month.
    `df`: month, measure (key of `measures`), amount."""
    keys = list(measures)
    return (
        alt.Chart(theme.with_labels(df, "measure", measures))
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title=month_title),
            xOffset=alt.XOffset("measure:N", sort=keys, scale=alt.Scale(domain=keys)),
            y=alt.Y("amount:Q", title=value_title),
            color=theme.keyed_color("measure", measures, WEIGHTED_COLORS, title=measure_title),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title=month_title),
                alt.Tooltip("measure_label:N", title=measure_title),
                alt.Tooltip("amount:Q", title=value_title, format=MONEY),
            ],
        )
        .properties(height=280)
    )


def won_forecast(
    df: pd.DataFrame,
    *,
    month_title: str,
    value_title: str,
    series_title: str,
    series: Mapping[str, str],
    band_title: str,
    bands: Mapping[str, str],
    lower_title: str,
    upper_title: str,
    partial_title: str,
) -> alt.LayerChart:
    """Monthly won value: complete months (solid line), the chosen method's forecast (dashed)
    inside its 95 % and 80 % prediction intervals (shaded bands), and the month in progress as a
    hollow, faded point that joins no line.

    `df`: month, series (a key of `series`: actual, forecast; or of `bands`: pi80, pi95), value
    (lines), lower and upper (bands), partial (the month in progress, an `actual` row)."""
    data = df if "partial" in df.columns else df.assign(partial=False)
    data = data.assign(partial_label=data["partial"].map({True: partial_title, False: ""}))
    data = theme.with_labels(data, "series", {**series, **bands})
    x = alt.X("yearmonth(month):T", title=month_title)
    month_tip = alt.Tooltip("yearmonth(month):T", title=month_title)
    is_band = data["series"].isin(list(bands))
    base = alt.Chart(data[~is_band])  # two datasets: each colour scale sees only its own keys
    # the bands' key has its own field: a legend of its own, not merged with the lines' legend
    band_base = alt.Chart(data[is_band].rename(columns={"series": "band", "series_label": "band_label"}))
    layers: list[alt.Chart] = []
    for key in ("pi95", "pi80"):  # the wide band first, the narrow one over it
        layers.append(
            band_base.transform_filter(f"datum.band === '{key}'")
            .mark_area(opacity=BAND_OPACITY[key])
            .encode(
                x=x,
                y=alt.Y("lower:Q", title=value_title),
                y2="upper:Q",
                fill=theme.keyed_color("band", bands, BAND_COLORS, title=band_title),
                tooltip=[
                    month_tip,
                    alt.Tooltip("band_label:N", title=band_title),
                    alt.Tooltip("lower:Q", title=lower_title, format=MONEY),
                    alt.Tooltip("upper:Q", title=upper_title, format=MONEY),
                ],
            )
        )
    line = dict(
        x=x,
        y=alt.Y("value:Q", title=value_title),
        color=theme.keyed_color("series", series, FORECAST_COLORS, title=series_title, symbol="stroke"),
        strokeDash=theme.keyed_stroke_dash(
            "series", series, FORECAST_DASHES, title=series_title, symbol="stroke"
        ),
        tooltip=[
            month_tip,
            alt.Tooltip("series_label:N", title=series_title),
            alt.Tooltip("value:Q", title=value_title, format=MONEY),
            alt.Tooltip("partial_label:N", title=" "),
        ],
    )
    layers.append(
        base.transform_filter("datum.series === 'actual' && !datum.partial")
        .mark_line(point=True)
        .encode(**line)
    )
    layers.append(base.transform_filter("datum.series === 'forecast'").mark_line(point=True).encode(**line))
    layers.append(
        base.transform_filter("datum.series === 'actual' && datum.partial")
        .mark_point(filled=False, size=60, opacity=theme.PARTIAL_OPACITY + 0.25, strokeDash=[2, 2])
        .encode(**line)
    )
    return alt.LayerChart(layer=layers).properties(height=300)


def stale_by_owner(
    df: pd.DataFrame, *, owner_title: str, count_title: str, measure_title: str, measures: Mapping[str, str]
) -> alt.Chart:
    """Stacked bars per owner: stale (first, red) and fresh open deals.
    `df`: owner, measure (key of `measures`), deals."""
    keys = list(measures)
    data = theme.with_labels(df, "measure", measures)
    data = data.assign(stack_order=data["measure"].map({k: i for i, k in enumerate(keys)}))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("owner:N", sort="-x", title=owner_title, axis=theme.category_axis()),
            x=alt.X("deals:Q", title=count_title, axis=theme.count_axis()),
            color=theme.keyed_color("measure", measures, STALE_COLORS, title=measure_title),
            order=alt.Order("stack_order:Q"),
            tooltip=[
                alt.Tooltip("owner:N", title=owner_title),
                alt.Tooltip("measure_label:N", title=measure_title),
                alt.Tooltip("deals:Q", title=count_title),
            ],
        )
        .properties(height=alt.Step(22))
    )
