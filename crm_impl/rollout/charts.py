"""Altair builders for the rollout plan (pure: DataFrames and labels in, charts out).

Phase, goal and process names are categories on an axis (every one labelled); every coloured
series is encoded on its KEY with a fixed colour (crm_impl.core.chart_theme), the legend showing
the translated label from `labels`."""

from __future__ import annotations

from datetime import date

import altair as alt
import numpy as np
import pandas as pd

from crm_impl.core import chart_theme as theme

SERIES_COLORS = {"planned": theme.BLUE, "baseline": theme.GREY, "actual": theme.GREEN}
MILESTONE_COLORS = {"open": theme.DARK, "done": theme.GREEN, "late": theme.RED}
VARIANCE_COLORS = {"late": theme.RED, "on_time": theme.GREY, "early": theme.GREEN}
LIMIT_COLORS = {"within": theme.BLUE, "over": theme.RED}
KIND_COLORS = {"core": theme.BLUE, "extension": theme.ORANGE}
SLIP = theme.RED


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(str(n) for n in names))


def gantt(
    bars: pd.DataFrame,
    milestones: pd.DataFrame,
    *,
    today: date,
    labels: dict[str, str],
    order: list[str],
) -> alt.LayerChart:
    """Phases as bars (one row per phase, planned/baseline/actual side by side) and milestones as
    diamonds (open, done, late); a red outline marks slipped phases, a rule marks today.

    bars: name, series (planned|baseline|actual), start, end, slipped, variance_days.
    milestones: name, due, done_date, state (open|done|late).
    labels: axis titles {"phase", "date", "series", "today", "milestone"}, the series labels
    {"planned", "baseline", "actual"} and the milestone states {"ms_open", "ms_done", "ms_late"}.
    """
    rows = _unique(order)
    date_axis = alt.Axis(format="%b %Y")  # a plan spans years: "June" alone would appear twice
    today_x = alt.X("today:T", title=labels["date"], axis=date_axis)
    y = alt.Y("name:N", sort=rows, scale=alt.Scale(domain=rows), title=labels["phase"])
    y = y.axis(theme.category_axis(labelLimit=260))
    present = set(bars["series"])
    series = {s: labels[s] for s in ("planned", "baseline", "actual") if s in present}
    keys = list(series)
    bar = (
        alt.Chart(theme.with_labels(bars, "series", series))
        .mark_bar(cornerRadius=2, height={"band": 0.9})
        .encode(
            x=alt.X("start:T", title=labels["date"], axis=date_axis),
            x2="end:T",
            y=y,
            yOffset=alt.YOffset("series:N", sort=keys, scale=alt.Scale(domain=keys)),
            color=theme.keyed_color("series", series, SERIES_COLORS, title=labels["series"], orient="top"),
            stroke=alt.condition("datum.slipped", alt.value(SLIP), alt.value(None)),
            strokeWidth=alt.condition("datum.slipped", alt.value(2), alt.value(0)),
            tooltip=[
                alt.Tooltip("name:N", title=labels["phase"]),
                alt.Tooltip("series_label:N", title=labels["series"]),
                "start:T",
                "end:T",
                "variance_days:Q",
            ],
        )
    )
    layers: list[alt.Chart] = [bar]
    if len(milestones):
        states = {"open": labels["ms_open"], "done": labels["ms_done"], "late": labels["ms_late"]}
        layers.append(
            alt.Chart(theme.with_labels(milestones, "state", states))
            .mark_point(shape="diamond", size=160, filled=True)
            .encode(
                x=alt.X("due:T", title=labels["date"], axis=date_axis),
                y=y,
                color=theme.keyed_color(
                    "state", states, MILESTONE_COLORS, title=labels["milestone"], orient="top"
                ),
                tooltip=[
                    alt.Tooltip("name:N", title=labels["phase"]),
                    "due:T",
                    "done_date:T",
                    alt.Tooltip("state_label:N", title=labels["milestone"]),
                ],
            )
        )
    rule = pd.DataFrame({"today": [pd.Timestamp(today)], "label": [labels["today"]]})
    layers.append(alt.Chart(rule).mark_rule(color=SLIP, strokeDash=[4, 3]).encode(x=today_x))
    layers.append(
        alt.Chart(rule)
        .mark_text(align="left", dx=4, dy=-6, color=SLIP)
        .encode(x=today_x, y=alt.value(0), text="label:N")
    )
    return (
        alt.LayerChart(layer=layers)
        .properties(height=alt.Step(30, **{"for": "position"}))
        .resolve_scale(color="independent")
    )


def variance_bars(variance: pd.DataFrame, *, labels: dict[str, str], order: list[str]) -> alt.LayerChart:
    """Days late (> 0, red) or early (< 0, green) per phase, the number written at each bar, so a
    phase on time shows "0" rather than nothing. Every phase in `order` is a labelled row.

    labels: {"variance", "phase", "state", "late", "on_time", "early"}."""
    rows = _unique(order)
    days = variance["variance_days"].astype(float)
    state = np.select([days > 0, days < 0], ["late", "early"], "on_time")
    data = variance[["name", "variance_days"]].assign(
        name=variance["name"].astype(str),
        state=state,
        text=days.map(lambda d: "" if pd.isna(d) else f"{d:+.0f}" if d else "0"),
    )
    states = {"late": labels["late"], "on_time": labels["on_time"], "early": labels["early"]}
    data = theme.with_labels(data, "state", states)
    base = alt.Chart(data).encode(
        y=alt.Y(
            "name:N",
            sort=rows,
            scale=alt.Scale(domain=rows),
            title=labels["phase"],
            axis=theme.category_axis(labelLimit=260),
        ),
        tooltip=[
            alt.Tooltip("name:N", title=labels["phase"]),
            alt.Tooltip("variance_days:Q", title=labels["variance"]),
            alt.Tooltip("state_label:N", title=labels["state"]),
        ],
    )
    bars = base.mark_bar().encode(
        x=alt.X("variance_days:Q", title=labels["variance"], axis=theme.count_axis()),
        color=theme.keyed_color("state", states, VARIANCE_COLORS, title=labels["state"], orient="top"),
    )
    text = (
        base.mark_text(align="left", dx=4)
        .encode(x=alt.X("label_x:Q", title=labels["variance"], axis=theme.count_axis()), text="text:N")
        .transform_calculate(label_x="max(datum.variance_days, 0)")
    )
    return alt.LayerChart(layer=[bars, text]).properties(height=alt.Step(26))


def goal_small_multiples(
    history: pd.DataFrame, *, labels: dict[str, str], columns: int = 3
) -> alt.FacetChart:
    """Progress toward target per goal over time: 0 = baseline, 100 % = target reached (the dashed
    green rule, labelled)."""
    base = alt.Chart(history)
    line = base.mark_line(point=True).encode(
        x=alt.X("measured_on:T", title=None),
        y=alt.Y("progress:Q", title=labels["progress"], axis=alt.Axis(format="%")),
        tooltip=["name:N", "measured_on:T", "value:Q", "unit:N", alt.Tooltip("progress:Q", format=".0%")],
    )
    target = base.mark_rule(color=theme.GREEN, strokeDash=[4, 3]).encode(y=alt.datum(1))
    target_text = base.mark_text(align="left", dy=-6, color=theme.GREEN).encode(
        x=alt.value(2), y=alt.datum(1), text=alt.value(labels.get("target", ""))
    )
    return (
        alt.layer(line, target, target_text)
        .properties(width=260, height=140)
        .facet(facet=alt.Facet("name:N", title=None), columns=columns)
        .resolve_scale(x="independent")
    )


def _limit_states(labels: dict[str, str]) -> dict[str, str]:
    return {"within": labels["within"], "over": labels["over"]}


def scope_creep_bars(data: pd.DataFrame, *, limit: float, labels: dict[str, str]) -> alt.LayerChart:
    """Bullet-style bars: approved effort and cost as a share of the baseline, with the limit.
    labels: {"ratio", "state", "within", "over", "limit"} (limit: the rule's label)."""
    states = _limit_states(labels)
    frame = theme.with_labels(
        data.assign(state=np.where(data["ratio"] > limit, "over", "within")), "state", states
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "ratio:Q", title=labels["ratio"], axis=alt.Axis(format="%"), scale=alt.Scale(domainMin=0)
            ),
            y=alt.Y("measure:N", title=None, axis=theme.category_axis(labelLimit=260)),
            color=theme.keyed_color("state", states, LIMIT_COLORS, title=labels["state"], orient="top"),
            tooltip=[
                "measure:N",
                alt.Tooltip("ratio:Q", format=".1%"),
                alt.Tooltip("state_label:N", title=labels["state"]),
            ],
        )
    )
    limit_frame = pd.DataFrame({"limit": [limit], "label": [labels.get("limit", "")]})
    rule = alt.Chart(limit_frame).mark_rule(color=theme.DARK, strokeDash=[4, 3]).encode(x="limit:Q")
    text = (
        alt.Chart(limit_frame)
        .mark_text(align="right", dx=-4, dy=-4, baseline="bottom", color=theme.DARK)
        .encode(x="limit:Q", y=alt.value(0), text="label:N")
    )
    return alt.LayerChart(layer=[bars, rule, text]).properties(height=alt.Step(30))


def changes_per_month(data: pd.DataFrame, *, limit: int, labels: dict[str, str]) -> alt.LayerChart:
    """Approved changes per month after go-live (integer axis), red above the moderation limit.
    labels: {"month", "changes", "state", "within", "over", "limit"}."""
    states = _limit_states(labels)
    frame = theme.with_labels(
        data.assign(state=np.where(data["changes"] > limit, "over", "within")), "state", states
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=labels["month"], axis=alt.Axis(labelOverlap=False)),
            y=alt.Y("changes:Q", title=labels["changes"], axis=theme.count_axis()),
            color=theme.keyed_color("state", states, LIMIT_COLORS, title=labels["state"], orient="top"),
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title=labels["month"]),
                alt.Tooltip("changes:Q", title=labels["changes"]),
                alt.Tooltip("state_label:N", title=labels["state"]),
            ],
        )
    )
    limit_frame = pd.DataFrame({"limit": [limit], "label": [labels.get("limit", "")]})
    rule = alt.Chart(limit_frame).mark_rule(color=theme.DARK, strokeDash=[4, 3]).encode(y="limit:Q")
    text = (
        alt.Chart(limit_frame)
        .mark_text(align="left", dx=2, dy=-5, color=theme.DARK)
        .encode(y="limit:Q", x=alt.value(0), text="label:N")
    )
    return alt.LayerChart(layer=[bars, rule, text]).properties(height=220)


def risk_matrix(risks: pd.DataFrame, *, labels: dict[str, str]) -> alt.LayerChart:
    """5 × 5 grid of probability × impact, coloured by score, with the number of risks per cell."""
    grid = pd.DataFrame([(p, i) for p in range(1, 6) for i in range(1, 6)], columns=["probability", "impact"])
    counts = risks.groupby(["probability", "impact"]).size().rename("risks").reset_index()
    cells = grid.merge(counts, how="left").fillna({"risks": 0})
    cells["score"] = cells["probability"] * cells["impact"]
    cells["text"] = cells["risks"].astype(int).astype(str).where(cells["risks"] > 0, "")
    base = alt.Chart(cells).encode(
        x=alt.X("impact:O", title=labels["impact"], axis=alt.Axis(labelAngle=0, labelOverlap=False)),
        y=alt.Y(
            "probability:O",
            title=labels["probability"],
            sort="descending",
            axis=alt.Axis(labelOverlap=False),
        ),
    )
    heat = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "score:Q",
            title=labels.get("score", ""),
            scale=alt.Scale(domain=[1, 25], range=["#A1D99B", "#FDD49E", theme.RED]),
            legend=alt.Legend(orient="right", tickMinStep=1, format="d"),
        ),
        tooltip=["probability:O", "impact:O", "score:Q", "risks:Q"],
    )
    text = base.mark_text(fontSize=16, fontWeight="bold").encode(text="text:N")
    return alt.LayerChart(layer=[heat, text]).properties(width=320, height=280)


def requirements_by_process(data: pd.DataFrame, *, labels: dict[str, str]) -> alt.Chart:
    """Stacked horizontal bars of requirements per business process (every process labelled,
    counts on an integer axis), coloured by kind key (core | extension).

    labels: {"count", "process", "kind", "core", "extension"}."""
    kinds = {k: labels[k] for k in ("core", "extension")}
    frame = theme.with_labels(
        data.assign(business_process=data["business_process"].astype(str)), "kind", kinds
    )
    totals = (
        frame.groupby("business_process")["requirements"].sum().sort_values(ascending=False, kind="stable")
    )
    rows = list(totals.index)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("sum(requirements):Q", title=labels["count"], axis=theme.count_axis()),
            y=alt.Y(
                "business_process:N",
                sort=rows,
                scale=alt.Scale(domain=rows),
                title=labels["process"],
                axis=theme.category_axis(labelLimit=260),
            ),
            color=theme.keyed_color("kind", kinds, KIND_COLORS, title=labels["kind"], orient="top"),
            order=alt.Order("kind:N"),
            tooltip=[
                alt.Tooltip("business_process:N", title=labels["process"]),
                alt.Tooltip("kind_label:N", title=labels["kind"]),
                alt.Tooltip("requirements:Q", title=labels["count"]),
            ],
        )
        .properties(height=alt.Step(24))
    )
