"""Altair builders of the registers' pages (pure: the frames of crm_impl.adoption.metrics.adkar and
.registers and labels in, charts out). Series are encoded on their KEY with a fixed colour
(chart_theme.keyed_color), the legend showing the translated label; every category is labelled;
counts get integer axes. A benefit's colour follows its place in the register (by id), so it
keeps its colour in both languages and as benefits are added.

`labels` holds the axis titles and the translated word of every key the chart draws (the page
builds it with `t()`); the keys each builder needs are in its docstring.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm_impl.adoption.registers_vocabulary import ADKAR_ELEMENTS, ADKAR_SCORES, BARRIER_SCORE
from crm_impl.core import chart_theme as theme

ELEMENT_COLORS = {
    "awareness": theme.BLUE,
    "desire": theme.ORANGE,
    "knowledge": theme.GREEN,
    "ability": theme.RED,
    "reinforcement": theme.TEAL,
}
STATUS_COLORS = {"retired": theme.GREEN, "in_use": theme.BLUE, "overdue": theme.RED}
BENEFIT_PALETTE = (
    theme.BLUE,
    theme.ORANGE,
    theme.GREEN,
    theme.RED,
    theme.TEAL,
    theme.NAVY,
    theme.LIGHT_ORANGE,
    theme.LIGHT_BLUE,
    theme.GREY,
    theme.DARK,
)
# low scores red, high green: one scale for every department and round
SCORE_SCALE = alt.Scale(domain=list(ADKAR_SCORES), range=[theme.RED, theme.GREEN], interpolate="rgb")


def _element_labels(labels: dict[str, str]) -> dict[str, str]:
    return {e: labels[e] for e in ADKAR_ELEMENTS}


def readiness_heatmap(latest: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """The latest round's mean per department (rows) and element (columns, A→R), each cell labelled
    with its mean; the barrier point of each department is outlined.

    latest: metrics.adkar.latest_by_department. labels: {"department", "element", "score",
    "barrier", "barrier_yes", the five element keys}."""
    names = _element_labels(labels)
    long = latest.melt(
        id_vars=["department", "barrier"],
        value_vars=list(ADKAR_ELEMENTS),
        var_name="element",
        value_name="score",
    )
    long = theme.with_labels(long, "element", names)
    long["is_barrier"] = long["element"] == long["barrier"]
    long["barrier_label"] = long["is_barrier"].map({True: labels["barrier_yes"], False: ""})
    x = alt.X(
        "element:N",
        title=labels["element"],
        sort=list(ADKAR_ELEMENTS),
        axis=theme.category_axis(labelExpr=theme.label_expr(names), labelAngle=0, orient="top"),
    )
    y = alt.Y("department:N", title=labels["department"], axis=theme.category_axis(), sort=None)
    tooltip = [
        alt.Tooltip("department:N", title=labels["department"]),
        alt.Tooltip("element_label:N", title=labels["element"]),
        alt.Tooltip("score:Q", title=labels["score"], format=".2f"),
        alt.Tooltip("barrier_label:N", title=labels["barrier"]),
    ]
    cells = (
        alt.Chart(long)
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color("score:Q", title=labels["score"], scale=SCORE_SCALE),
            stroke=alt.condition("datum.is_barrier", alt.value(theme.DARK), alt.value(None)),
            strokeWidth=alt.condition("datum.is_barrier", alt.value(3), alt.value(0)),
            tooltip=tooltip,
        )
    )
    text = (
        alt.Chart(long)
        .mark_text(fontWeight="bold")
        .encode(x=x, y=y, text=alt.Text("score:Q", format=".1f"), tooltip=tooltip)
    )
    return alt.LayerChart(layer=[cells, text]).properties(height=alt.Step(36))


def adkar_trend(long: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """One department's element means over the rounds (a line per element, fixed colours), with the
    barrier threshold drawn as a rule.

    long: metrics.adkar.trend_long for one department. labels: {"survey_date", "score", "element",
    "threshold", "round", the five element keys}."""
    names = _element_labels(labels)
    data = theme.with_labels(long, "element", names)
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "survey_date:T", title=labels["survey_date"], axis=alt.Axis(format="%b %Y", tickCount="month")
            ),
            y=alt.Y("score:Q", title=labels["score"], scale=alt.Scale(domain=list(ADKAR_SCORES))),
            color=theme.keyed_color("element", names, ELEMENT_COLORS, title=labels["element"]),
            tooltip=[
                alt.Tooltip("survey_date:T", title=labels["survey_date"], format="%d %b %Y"),
                alt.Tooltip("title:N", title=labels["round"]),
                alt.Tooltip("element_label:N", title=labels["element"]),
                alt.Tooltip("score:Q", title=labels["score"], format=".2f"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"threshold": [BARRIER_SCORE], "label": [labels["threshold"]]}))
        .mark_rule(strokeDash=[4, 4], color=theme.DARK)
        .encode(y="threshold:Q", tooltip=[alt.Tooltip("label:N", title=labels["threshold"])])
    )
    return alt.LayerChart(layer=[lines, rule])


def tools_by_kind(per: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Legacy tools per kind, stacked by status (retired, in use, overdue).

    per: metrics.registers.tools_by_kind. labels: {"kind", "count", "status", "retired", "in_use",
    "overdue", and "kind.<kind>" for each kind}."""
    series = {k: labels[k] for k in STATUS_COLORS}
    data = theme.with_labels(per, "status", series)
    data = data.assign(kind_label=data["kind"].map(lambda k: labels.get(f"kind.{k}", k)))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("kind_label:N", title=labels["kind"], axis=theme.category_axis(), sort="ascending"),
            x=alt.X("count:Q", title=labels["count"], axis=theme.count_axis(), stack="zero"),
            color=theme.keyed_color("status", series, STATUS_COLORS, title=labels["status"]),
            order=alt.Order("status_order:Q"),
            tooltip=[
                alt.Tooltip("kind_label:N", title=labels["kind"]),
                alt.Tooltip("status_label:N", title=labels["status"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .transform_calculate(status_order=f"indexof({list(STATUS_COLORS)!r}, datum.status)")
        .properties(height=alt.Step(36))
    )


def benefit_keys(benefits: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """(key -> name, key -> colour) of the benefits, by id: key "b<id>", colour by place."""
    ordered = benefits.sort_values("id")
    keys = [f"b{int(i)}" for i in ordered["id"]]
    names = dict(zip(keys, ordered["name"].astype(str), strict=True))
    colors = {k: BENEFIT_PALETTE[n % len(BENEFIT_PALETTE)] for n, k in enumerate(keys)}
    return names, colors


def benefit_gains(points: pd.DataFrame, benefits: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Each benefit's gain over its baseline, as a share of the baseline, over time (a line per
    benefit; 0 % is the baseline, above it an improvement whichever way the unit should move).

    points: metrics.registers.gains_over_time. labels: {"measured_on", "gain_share", "benefit",
    "value", "gain"}."""
    names, colors = benefit_keys(benefits)
    data = points.assign(series=points["benefit_id"].map(lambda i: f"b{int(i)}"))
    data = theme.with_labels(data, "series", names)
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "measured_on:T", title=labels["measured_on"], axis=alt.Axis(format="%b %Y", tickCount="month")
            ),
            y=alt.Y("gain_share:Q", title=labels["gain_share"], axis=alt.Axis(format="%")),
            color=theme.keyed_color("series", names, colors, title=labels["benefit"]),
            tooltip=[
                alt.Tooltip("series_label:N", title=labels["benefit"]),
                alt.Tooltip("measured_on:T", title=labels["measured_on"], format="%d %b %Y"),
                alt.Tooltip("value:Q", title=labels["value"], format=",.2f"),
                alt.Tooltip("gain:Q", title=labels["gain"], format=",.2f"),
                alt.Tooltip("gain_share:Q", title=labels["gain_share"], format=".1%"),
            ],
        )
    )
