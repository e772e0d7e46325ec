"""Altair builders for the rollout plan (pure: DataFrames and labels in, charts out)."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

SERIES_COLORS = {"planned": "#4C78A8", "baseline": "#BAB0AC", "actual": "#54A24B"}
SLIP = "#E45756"


def gantt(
    bars: pd.DataFrame,
    milestones: pd.DataFrame,
    *,
    today: date,
    labels: dict[str, str],
    order: list[str],
) -> alt.LayerChart:
    """Phases as bars (one row per phase, planned/baseline/actual side by side) and milestones as
    diamonds; a red outline marks slipped phases, a rule marks today.

    bars: name, series (planned|baseline|actual), series_label, start, end, slipped, tooltip cols.
    milestones: name, due, done (bool), late (bool), label.
    labels: axis titles {"phase", "date", "series", "today"}.
    """
    y = alt.Y("name:N", sort=order, title=labels["phase"], axis=alt.Axis(labelLimit=220))
    domain = [s for s in ("planned", "baseline", "actual") if s in set(bars["series"])]
    series_names = bars.drop_duplicates("series").set_index("series")["series_label"]
    color = alt.Color(
        "series_label:N",
        title=labels["series"],
        scale=alt.Scale(domain=[series_names[s] for s in domain], range=[SERIES_COLORS[s] for s in domain]),
        legend=alt.Legend(orient="top"),
    )
    bar = (
        alt.Chart(bars)
        .mark_bar(cornerRadius=2, height={"band": 0.9})
        .encode(
            x=alt.X("start:T", title=labels["date"]),
            x2="end:T",
            y=y,
            yOffset=alt.YOffset("series_label:N", sort=[series_names[s] for s in domain]),
            color=color,
            stroke=alt.condition("datum.slipped", alt.value(SLIP), alt.value(None)),
            strokeWidth=alt.condition("datum.slipped", alt.value(2), alt.value(0)),
            tooltip=["name:N", "series_label:N", "start:T", "end:T", "variance_days:Q"],
        )
    )
    layers: list[alt.Chart] = [bar]
    if len(milestones):
        layers.append(
            alt.Chart(milestones)
            .mark_point(shape="diamond", size=160, filled=True)
            .encode(
                x="due:T",
                y=alt.Y("name:N", sort=order),
                color=alt.condition("datum.late", alt.value(SLIP), alt.value("#222222")),
                tooltip=["name:N", "due:T", "done_date:T", "state:N"],
            )
        )
    rule = pd.DataFrame({"today": [pd.Timestamp(today)], "label": [labels["today"]]})
    layers.append(alt.Chart(rule).mark_rule(color=SLIP, strokeDash=[4, 3]).encode(x="today:T"))
    layers.append(
        alt.Chart(rule)
        .mark_text(align="left", dx=4, dy=-6, color=SLIP)
        .encode(x="today:T", y=alt.value(0), text="label:N")
    )
    height = max(160, 34 * len(order))
    return alt.layer(*layers).properties(height=height).resolve_scale(color="independent")


def variance_bars(variance: pd.DataFrame, *, labels: dict[str, str], order: list[str]) -> alt.Chart:
    """Days late (> 0, red) or early (< 0, green) per phase."""
    return (
        alt.Chart(variance)
        .mark_bar()
        .encode(
            x=alt.X("variance_days:Q", title=labels["variance"]),
            y=alt.Y("name:N", sort=order, title=labels["phase"]),
            color=alt.condition("datum.variance_days > 0", alt.value(SLIP), alt.value("#54A24B")),
            tooltip=["name:N", "variance_days:Q"],
        )
        .properties(height=max(120, 26 * len(order)))
    )


def goal_small_multiples(
    history: pd.DataFrame, *, labels: dict[str, str], columns: int = 3
) -> alt.FacetChart:
    """Progress toward target per goal over time: 0 = baseline, 100 % = target reached."""
    base = alt.Chart(history)
    line = base.mark_line(point=True).encode(
        x=alt.X("measured_on:T", title=None),
        y=alt.Y("progress:Q", title=labels["progress"], axis=alt.Axis(format="%")),
        tooltip=["name:N", "measured_on:T", "value:Q", "unit:N", alt.Tooltip("progress:Q", format=".0%")],
    )
    target = base.mark_rule(color="#54A24B", strokeDash=[4, 3]).encode(y=alt.datum(1))
    return (
        alt.layer(line, target)
        .properties(width=260, height=140)
        .facet(facet=alt.Facet("name:N", title=None), columns=columns)
        .resolve_scale(x="independent")
    )


def scope_creep_bars(data: pd.DataFrame, *, limit: float, labels: dict[str, str]) -> alt.LayerChart:
    """Bullet-style bars: approved effort and cost as a share of the baseline, with the limit."""
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "ratio:Q", title=labels["ratio"], axis=alt.Axis(format="%"), scale=alt.Scale(domainMin=0)
            ),
            y=alt.Y("measure:N", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.condition(f"datum.ratio > {limit}", alt.value(SLIP), alt.value("#4C78A8")),
            tooltip=["measure:N", alt.Tooltip("ratio:Q", format=".1%")],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"limit": [limit]}))
        .mark_rule(color="#222222", strokeDash=[4, 3])
        .encode(x="limit:Q")
    )
    return alt.layer(bars, rule).properties(height=110)


def changes_per_month(data: pd.DataFrame, *, limit: int, labels: dict[str, str]) -> alt.LayerChart:
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=labels["month"]),
            y=alt.Y("changes:Q", title=labels["changes"]),
            color=alt.condition("datum.over", alt.value(SLIP), alt.value("#4C78A8")),
            tooltip=[alt.Tooltip("yearmonth(month):O"), "changes:Q"],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"limit": [limit]}))
        .mark_rule(color="#222222", strokeDash=[4, 3])
        .encode(y="limit:Q")
    )
    return alt.layer(bars, rule).properties(height=220)


def risk_matrix(risks: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """5 × 5 grid of probability × impact, coloured by score, with the number of risks per cell."""
    grid = pd.DataFrame([(p, i) for p in range(1, 6) for i in range(1, 6)], columns=["probability", "impact"])
    counts = risks.groupby(["probability", "impact"]).size().rename("risks").reset_index()
    cells = grid.merge(counts, how="left").fillna({"risks": 0})
    cells["score"] = cells["probability"] * cells["impact"]
    cells["text"] = cells["risks"].astype(int).astype(str).where(cells["risks"] > 0, "")
    base = alt.Chart(cells).encode(
        x=alt.X("impact:O", title=labels["impact"]),
        y=alt.Y("probability:O", title=labels["probability"], sort="descending"),
    )
    heat = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "score:Q", scale=alt.Scale(domain=[1, 25], range=["#A1D99B", "#FDD49E", "#E45756"]), legend=None
        ),
        tooltip=["probability:O", "impact:O", "score:Q", "risks:Q"],
    )
    text = base.mark_text(fontSize=16, fontWeight="bold").encode(text="text:N")
    return alt.layer(heat, text).properties(width=320, height=280)


def requirements_by_process(data: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(requirements):Q", title=labels["count"]),
            y=alt.Y("business_process:N", sort="-x", title=labels["process"]),
            color=alt.Color("kind_label:N", title=labels["kind"], legend=alt.Legend(orient="top")),
            tooltip=["business_process:N", "kind_label:N", "requirements:Q"],
        )
        .properties(height=max(120, 24 * data["business_process"].nunique()))
    )
