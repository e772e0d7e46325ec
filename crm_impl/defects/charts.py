"""Altair builders for the defect dashboard (pure: frames of crm_impl.defects.metrics and labels
in, charts out).

Every coloured series is encoded on its KEY (a status, "arrived", "open" …) with a fixed colour
(crm_impl.core.chart_theme.keyed_color), the legend showing the translated label from `labels`;
severities, modules, releases and programmers are categories with every one labelled; counts get
integer axes; the week in progress is faded on the bars and drawn as a hollow point off the
backlog line, never as a fall.

`labels` holds the axis titles and the translated word of every key the chart draws (the page
builds it with `t()`); the keys each builder needs are in its docstring.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme
from crm_impl.defects.vocabulary import OPEN_STATUSES, SEVERITIES

STATUS_COLORS = {
    "new": theme.GREY,
    "confirmed": theme.LIGHT_BLUE,
    "assigned": theme.BLUE,
    "in_progress": theme.NAVY,
    "fixed": theme.TEAL,
    "in_retest": theme.LIGHT_ORANGE,
    "reopened": theme.RED,
}
FLOW_COLORS = {"arrived": theme.ORANGE, "closed": theme.GREEN, "backlog": theme.DARK}
OPEN_COLORS = {"open": theme.ORANGE, "resolved": theme.GREY}
WORK_COLORS = {"assigned": theme.BLUE, "fixed": theme.GREEN, "reopened": theme.RED}
DURATION_COLORS = {"median": theme.BLUE, "p90": theme.LIGHT_BLUE}
PASS = theme.GREEN


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(str(n) for n in names))


def open_by_severity(grid: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Open defects per severity (rows, blocker first, every severity shown), stacked by status.

    grid: metrics.open_by_severity_status. labels: {"severity", "count", "status"}, every
    severity key and every open status key."""
    severities = {s: labels[s] for s in SEVERITIES}
    statuses = {s: labels[s] for s in OPEN_STATUSES}
    data = theme.with_labels(theme.with_labels(grid, "status", statuses), "severity", severities)
    keys = list(SEVERITIES)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "severity:N",
                sort=keys,
                scale=alt.Scale(domain=keys),
                title=labels["severity"],
                axis=theme.category_axis(labelExpr=theme.label_expr(severities)),
            ),
            x=alt.X("count:Q", title=labels["count"], axis=theme.count_axis(), stack="zero"),
            color=theme.keyed_color("status", statuses, STATUS_COLORS, title=labels["status"]),
            order=alt.Order("status_order:Q"),
            tooltip=[
                alt.Tooltip("severity_label:N", title=labels["severity"]),
                alt.Tooltip("status_label:N", title=labels["status"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .transform_filter("datum.count > 0")
        .transform_calculate(status_order=f"indexof({list(OPEN_STATUSES)!r}, datum.status)")
        .properties(height=alt.Step(28))
    )


def arrival_closure(flow: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """Per week: defects arrived and closed as side-by-side bars, the open backlog as a line.
    The week in progress (flow.partial) is faded and its backlog a hollow point off the line.

    flow: metrics.weekly_flow. labels: {"week", "count", "series", "arrived", "closed",
    "backlog", "partial"}."""
    series = {k: labels[k] for k in ("arrived", "closed", "backlog")}
    bars_keys = ["arrived", "closed"]
    long = flow.melt(id_vars=["week", "partial"], value_vars=bars_keys, var_name="series", value_name="count")
    long = theme.with_labels(long, "series", series)
    color = theme.keyed_color("series", series, FLOW_COLORS, title=labels["series"])
    x = alt.X("week:T", title=labels["week"], timeUnit="yearmonthdate", axis=alt.Axis(format="%d %b"))
    tooltip = [
        alt.Tooltip("week:T", title=labels["week"], format="%d %b %Y"),
        alt.Tooltip("series_label:N", title=labels["series"]),
        alt.Tooltip("count:Q", title=labels["count"]),
    ]
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=x,
            xOffset=alt.XOffset("series:N", sort=bars_keys, scale=alt.Scale(domain=bars_keys)),
            y=alt.Y("count:Q", title=labels["count"], axis=theme.count_axis()),
            color=color,
            opacity=alt.condition("datum.partial", alt.value(theme.PARTIAL_OPACITY), alt.value(1.0)),
            tooltip=tooltip,
        )
    )
    backlog = theme.with_labels(
        flow[["week", "backlog", "partial"]].rename(columns={"backlog": "count"}).assign(series="backlog"),
        "series",
        series,
    )
    line = (
        alt.Chart(backlog)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("count:Q", title=labels["count"], axis=theme.count_axis()),
            color=color,
            tooltip=tooltip,
        )
        .transform_filter("!datum.partial")
    )
    partial = (
        alt.Chart(backlog)
        .mark_point(filled=False, size=80, opacity=theme.PARTIAL_OPACITY * 2)
        .encode(
            x=x,
            y=alt.Y("count:Q", title=labels["count"], axis=theme.count_axis()),
            color=color,
            tooltip=tooltip,
        )
        .transform_filter("datum.partial")
    )
    return alt.LayerChart(layer=[bars, line, partial])


def _open_resolved(frame: pd.DataFrame, category: str, order: list[str], labels: dict[str, str]) -> alt.Chart:
    states = {"open": labels["open"], "resolved": labels["resolved"]}
    long = frame.melt(
        id_vars=[category], value_vars=["open", "resolved"], var_name="state", value_name="count"
    )
    long = theme.with_labels(long.assign(**{category: long[category].astype(str)}), "state", states)
    rows = _unique(order)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                f"{category}:N",
                sort=rows,
                scale=alt.Scale(domain=rows),
                title=labels[category],
                axis=theme.category_axis(),
            ),
            x=alt.X("count:Q", title=labels["count"], axis=theme.count_axis(), stack="zero"),
            color=theme.keyed_color("state", states, OPEN_COLORS, title=labels["state"]),
            order=alt.Order("state:N", sort="descending"),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=labels[category]),
                alt.Tooltip("state_label:N", title=labels["state"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=alt.Step(24))
    )


def by_module(modules: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Defects per module (most first), open and resolved stacked; a blank module reads as
    labels["no_module"]. labels: {"module", "count", "state", "open", "resolved", "no_module"}."""
    frame = modules.assign(module=modules["module"].astype(str).replace("", labels["no_module"]))
    return _open_resolved(frame, "module", frame["module"].tolist(), labels)


def by_release(releases: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Defects per found-in release (release order), open and resolved stacked; defects found in
    no release read as labels["no_release"]. labels: {"release", "count", "state", "open",
    "resolved", "no_release"}."""
    frame = releases.assign(release=releases["name"].astype(str).replace("", labels["no_release"]))
    return _open_resolved(frame, "release", frame["release"].tolist(), labels)


def pass_rate(rates: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """Pass rate of the test runs per release (bars, 0–100 %), the cases run written beside each.
    labels: {"release", "pass_rate", "cases"}."""
    data = rates.assign(
        release=rates["name"].astype(str),
        text=[f"{c:d}" for c in rates["cases"].astype(int)],
    )
    rows = _unique(data["release"].tolist())
    base = alt.Chart(data).encode(
        y=alt.Y(
            "release:N",
            sort=rows,
            scale=alt.Scale(domain=rows),
            title=labels["release"],
            axis=theme.category_axis(),
        ),
        tooltip=[
            alt.Tooltip("release:N", title=labels["release"]),
            alt.Tooltip("pass_rate:Q", title=labels["pass_rate"], format=".0%"),
            alt.Tooltip("cases:Q", title=labels["cases"]),
        ],
    )
    x = alt.X(
        "pass_rate:Q", title=labels["pass_rate"], axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
    )
    bars = base.mark_bar(color=PASS).encode(x=x)
    text = base.mark_text(align="left", dx=4).encode(x=x, text="text:N")
    return alt.LayerChart(layer=[bars, text]).properties(height=alt.Step(26))


def per_programmer(people: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Per programmer: assigned, fixed and reopened side by side (every name labelled).
    labels: {"programmer", "count", "measure", "assigned", "fixed", "reopened"}."""
    measures = {k: labels[k] for k in ("assigned", "fixed", "reopened")}
    keys = list(measures)
    long = people.melt(id_vars=["name"], value_vars=keys, var_name="measure", value_name="count")
    long = theme.with_labels(long.assign(name=long["name"].astype(str)), "measure", measures)
    rows = _unique(people["name"].tolist())
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                "name:N",
                sort=rows,
                scale=alt.Scale(domain=rows),
                title=labels["programmer"],
                axis=theme.category_axis(),
            ),
            yOffset=alt.YOffset("measure:N", sort=keys, scale=alt.Scale(domain=keys)),
            x=alt.X("count:Q", title=labels["count"], axis=theme.count_axis()),
            color=theme.keyed_color("measure", measures, WORK_COLORS, title=labels["measure"]),
            tooltip=[
                alt.Tooltip("name:N", title=labels["programmer"]),
                alt.Tooltip("measure_label:N", title=labels["measure"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=alt.Step(12))
    )


def durations(summaries: dict[str, dict[str, float | int | None]], *, labels: dict[str, str]) -> alt.Chart:
    """Time to fix and time to verify: Kaplan–Meier median and 90th percentile in days (a
    percentile not reached yet is left out, never drawn as 0).

    summaries: {"fix": duration_summary, "verify": duration_summary}. labels: {"days",
    "measure", "stat", "fix", "verify", "median", "p90"}."""
    stats = {k: labels[k] for k in ("median", "p90")}
    measures = ["fix", "verify"]
    rows = [
        {"measure": labels[m], "stat": s, "days": summaries[m][s]}
        for m in measures
        for s in stats
        if summaries[m][s] is not None
    ]
    data = theme.with_labels(pd.DataFrame(rows, columns=["measure", "stat", "days"]), "stat", stats)
    names = [labels[m] for m in measures]
    keys = list(stats)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y(
                "measure:N",
                sort=names,
                scale=alt.Scale(domain=names),
                title=labels["measure"],
                axis=theme.category_axis(),
            ),
            yOffset=alt.YOffset("stat:N", sort=keys, scale=alt.Scale(domain=keys)),
            x=alt.X("days:Q", title=labels["days"]),
            color=theme.keyed_color("stat", stats, DURATION_COLORS, title=labels["stat"]),
            tooltip=[
                alt.Tooltip("measure:N", title=labels["measure"]),
                alt.Tooltip("stat_label:N", title=labels["stat"]),
                alt.Tooltip("days:Q", title=labels["days"], format=".1f"),
            ],
        )
        .properties(height=alt.Step(18))
    )
