"""An Altair theme that speaks the user's language: Vega's number and time locale (decimal
comma, month and day names) follow crm_impl.i18n's current language.

Altair evaluates the active theme when a chart is converted, in the thread drawing it, so one
global theme serves users of both languages at once.
"""

from __future__ import annotations

from typing import Any

import altair as alt

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
