"""Altair builders for the data-quality pages (pure: frames of crm_impl.data_quality.metrics and
labels in, charts out). Every dimension has a fixed colour in every language (keyed on its key,
the legend and axis showing the translated label); scores are on a fixed 0–100 axis.

`labels` holds the axis titles and the translated word of every key (the page builds it with
`t()`): `dimension`, `score`, `day` and one entry per dimension key plus `overall`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from crm_impl.core import chart_theme as theme
from crm_impl.data_quality.vocabulary import DIMENSIONS

COLORS: dict[str, str] = {
    "overall": theme.NAVY,
    "completeness": theme.BLUE,
    "validity": theme.TEAL,
    "uniqueness": theme.ORANGE,
    "timeliness": theme.LIGHT_BLUE,
    "consistency": theme.GREEN,
    "plausibility": theme.RED,
}
SCALE = alt.Scale(domain=[0, 100])


def dimension_bars(scores: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """One horizontal bar per dimension (rows of `dimension_scores` for one entity; dimensions
    without a score are left out), the score printed at the bar's end."""
    keys = [d for d in (*DIMENSIONS, "overall") if d in set(scores.dropna(subset=["score"])["dimension"])]
    frame = scores[scores["dimension"].isin(keys)].copy()
    series = {k: labels[k] for k in keys}
    frame = theme.with_labels(frame, "dimension", series)
    frame["text"] = frame["score"].round(1)
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "dimension:N",
            title=labels["dimension"],
            sort=keys,
            axis=theme.category_axis(labelExpr=theme.label_expr(series)),
        ),
        x=alt.X("score:Q", title=labels["score"], scale=SCALE),
        tooltip=[
            alt.Tooltip("dimension_label:N", title=labels["dimension"]),
            alt.Tooltip("score:Q", title=labels["score"], format=".1f"),
            alt.Tooltip("checked:Q", title=labels["checked"], format="d"),
            alt.Tooltip("failing:Q", title=labels["failing"], format="d"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "dimension:N", scale=alt.Scale(domain=keys, range=[COLORS[k] for k in keys]), legend=None
        )
    )
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text("text:Q", format=".1f"))
    return (bars + text).properties(height=alt.Step(28))


def trend(snapshots: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Daily snapshot scores (entity "all"): one line per dimension and a thicker overall line."""
    keys = [d for d in ("overall", *DIMENSIONS) if d in set(snapshots["dimension"])]
    series = {k: labels[k] for k in keys}
    frame = theme.with_labels(snapshots.dropna(subset=["score"]), "dimension", series)
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=labels["day"]),
            y=alt.Y("score:Q", title=labels["score"], scale=SCALE),
            color=theme.keyed_color("dimension", series, COLORS, title=labels["dimension"]),
            strokeWidth=alt.condition("datum.dimension === 'overall'", alt.value(3.5), alt.value(1.5)),
            tooltip=[
                alt.Tooltip("day:T", title=labels["day"]),
                alt.Tooltip("dimension_label:N", title=labels["dimension"]),
                alt.Tooltip("score:Q", title=labels["score"], format=".1f"),
            ],
        )
        .properties(height=320)
    )
