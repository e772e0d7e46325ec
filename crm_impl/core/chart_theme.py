"""An Altair theme that speaks the user's language, and the shared rules every chart follows.

- Vega's number and time locale (decimal comma, month and day names) follow crm_impl.i18n's
  current language. Altair evaluates the active theme when a chart is converted, in the thread
  drawing it, so one global theme serves users of both languages at once.
- A series keeps its colour in every language: colour (and dash, offset) scales are built on the
  series KEY ("won", "actual", "deals_share" …) with a fixed domain and range (`keyed_color`);
  the legend shows the translated label through a `labelExpr`. Never encode a colour on a
  translated label: its alphabetical order differs between languages and the colours swap.
- Won is green and lost red everywhere (`WON`, `LOST`).
- Every category on an axis is labelled (`category_axis`: no label dropping), and counts get
  integer axes (`count_axis`).
- A month still in progress is drawn as partial (faded, hollow), never as a fall to zero
  (`partial_month`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import altair as alt
import pandas as pd

from crm_impl.core.i18n import get_locale

_PL: dict[str, Any] = {
    "number": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0zł"]},
    "time": {
        "dateTime": "%A, %e %B %Y, %X",
        "date": "%d.%m.%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["niedziela", "poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota"],
        "shortDays": ["niedz.", "pon.", "wt.", "śr.", "czw.", "pt.", "sob."],
        "months": [
            "styczeń",
            "luty",
            "marzec",
            "kwiecień",
            "maj",
            "czerwiec",
            "lipiec",
            "sierpień",
            "wrzesień",
            "październik",
            "listopad",
            "grudzień",
        ],
        "shortMonths": ["sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"],
    },
}


def config() -> dict[str, Any]:
    return {"config": {"locale": _PL}} if get_locale() == "pl" else {"config": {}}


def enable() -> None:
    if "crm_impl" not in alt.theme.names():
        alt.theme.register("crm_impl", enable=False)(config)  # type: ignore[arg-type]
    if alt.theme.active != "crm_impl":
        alt.theme.enable("crm_impl")


# ---- colours (Tableau 10, as Vega's default, but pinned per series key)
BLUE = "#4C78A8"
LIGHT_BLUE = "#9ECAE9"
ORANGE = "#F58518"
LIGHT_ORANGE = "#FFBF79"
GREEN = "#54A24B"
RED = "#E45756"
TEAL = "#72B7B2"
GREY = "#BAB0AC"
DARK = "#333333"
NAVY = "#1F3B73"
WON = GREEN
LOST = RED

PARTIAL_OPACITY = 0.35

Orient = Literal["left", "right", "top", "bottom"]


def label_expr(labels: Mapping[str, str]) -> str:
    """A Vega expression showing `labels[key]` for a legend/axis entry whose value is `key`."""
    expr = "datum.label"
    for key, label in reversed(list(labels.items())):
        expr = f"datum.value === {json.dumps(key)} ? {json.dumps(label, ensure_ascii=False)} : ({expr})"
    return expr


def _legend(labels: Mapping[str, str], orient: Orient, symbol: str | None) -> alt.Legend:
    # labelLimit 0 and two or three entries a row: a legend entry is never cut short by the chart's
    # width (Polish labels are longer than English ones); three long labels in a half-width chart
    # ("Wartość planowana (PV)" …) do not fit one row either, so they wrap two a row too
    longest = max((len(v) for v in labels.values()), default=0)
    per_row = 2 if longest > 12 and len(labels) >= 3 else 3
    columns = min(len(labels), per_row) if orient in ("bottom", "top") else 1
    if symbol is None:
        return alt.Legend(orient=orient, labelExpr=label_expr(labels), labelLimit=0, columns=columns)
    return alt.Legend(
        orient=orient,
        labelExpr=label_expr(labels),
        labelLimit=0,
        columns=columns,
        symbolType=symbol,
        symbolStrokeWidth=2,
        symbolSize=300,
    )


def keyed_color(
    field: str,
    labels: Mapping[str, str],
    colors: Mapping[str, str],
    *,
    title: str,
    orient: Orient = "bottom",
    symbol: str | None = None,
) -> alt.Color:
    """Colour by the series key in `field`: domain = the keys of `labels` (in their order), range =
    `colors[key]`, legend entries = the translated labels. Identical scale in every language."""
    keys = list(labels)
    return alt.Color(
        f"{field}:N",
        title=title,
        sort=keys,
        scale=alt.Scale(domain=keys, range=[colors[k] for k in keys]),
        legend=_legend(labels, orient, symbol),
    )


def keyed_stroke_dash(
    field: str,
    labels: Mapping[str, str],
    dashes: Mapping[str, Sequence[float]],
    *,
    title: str,
    orient: Orient = "bottom",
    symbol: str | None = None,
) -> alt.StrokeDash:
    """Dash by the series key; same title and labels as `keyed_color`, so the two legends merge."""
    keys = list(labels)
    return alt.StrokeDash(
        f"{field}:N",
        title=title,
        sort=keys,
        scale=alt.Scale(domain=keys, range=[list(dashes[k]) for k in keys]),
        legend=_legend(labels, orient, symbol),
    )


def with_labels(df: pd.DataFrame, field: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """`df` plus `<field>_label` (the translated label of each key) for tooltips."""
    return df.assign(**{f"{field}_label": df[field].map(dict(labels)).fillna(df[field].astype(str))})


def category_axis(**kwargs: Any) -> alt.Axis:
    """An axis of categories that never drops a label (the chart's step gives each its room)."""
    return alt.Axis(labelOverlap=False, labelLimit=kwargs.pop("labelLimit", 240), **kwargs)


def count_axis(**kwargs: Any) -> alt.Axis:
    """An axis of counts: whole numbers only (no 0.2, 0.4 … ticks)."""
    return alt.Axis(tickMinStep=1, format="d", **kwargs)


def partial_month(
    df: pd.DataFrame, month: str = "month", *, today: pd.Timestamp | None = None
) -> pd.DataFrame:
    """`df` plus a boolean `partial`: the row's month is the month in progress (or later)."""
    now = pd.Timestamp.now() if today is None else pd.Timestamp(today)
    start = now.normalize().replace(day=1)
    months = pd.to_datetime(df[month])
    if months.dt.tz is not None:
        months = months.dt.tz_localize(None)
    return df.assign(partial=months >= start)
