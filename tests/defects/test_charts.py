"""The defect charts keep the rules of tests/core/test_charts.py (series coloured by key with a
fixed domain and a legend, the same scales in English and Polish, every category labelled,
integer axes for counts, the week in progress faded and never joining the backlog line), built
here from the hand-made histories of test_metrics."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import pytest

from crm_impl.defects import charts
from crm_impl.defects import metrics as m
from crm_impl.defects.models import OPEN_STATUSES, SEVERITIES
from tests.core.test_charts import _check
from tests.defects.test_metrics import NOW, _frames

EN = {
    "severity": "Severity",
    "status": "Status",
    "count": "Defects",
    "week": "Week",
    "series": "Series",
    "arrived": "Arrived",
    "closed": "Closed",
    "backlog": "Open backlog",
    "partial": "week in progress",
    "module": "Module",
    "release": "Release",
    "state": "State",
    "open": "Open",
    "resolved": "Resolved",
    "no_module": "(no module)",
    "no_release": "(no release)",
    "pass_rate": "Pass rate",
    "cases": "Cases",
    "programmer": "Programmer",
    "measure": "Measure",
    "assigned": "Assigned",
    "fixed": "Fixed",
    "reopened": "Reopened",
    "days": "Days",
    "stat": "Statistic",
    "fix": "Time to fix",
    "verify": "Time to verify",
    "median": "Median",
    "p90": "90th percentile",
    **{s: s.title() for s in SEVERITIES},
    **{s: s.replace("_", " ").title() for s in OPEN_STATUSES},
}
# Polish words sort differently: a colour bound to a label would move between languages
PL = {k: f"ż {v}" if i % 2 else f"a {v}" for i, (k, v) in enumerate(EN.items())}


def _spec_frames(chart: Any) -> tuple[dict, dict[str, pd.DataFrame]]:  # type: ignore[type-arg]
    spec = chart.to_dict()
    return spec, {name: pd.DataFrame(rows) for name, rows in spec.get("datasets", {}).items()}


def _charts(labels: dict[str, str]) -> dict[str, alt.TopLevelMixin]:
    f = _frames()
    d, c = f["defects"], f["changes"]
    return {
        "open_by_severity": charts.open_by_severity(m.open_by_severity_status(d), labels=labels),
        "arrival_closure": charts.arrival_closure(m.weekly_flow(d, c, NOW), labels=labels),
        "by_module": charts.by_module(m.by_module(d), labels=labels),
        "by_release": charts.by_release(m.by_found_release(d, f["releases"]), labels=labels),
        "pass_rate": charts.pass_rate(m.pass_rate(f["test_runs"], f["releases"]), labels=labels),
        "per_programmer": charts.per_programmer(m.per_programmer(d, c, f["users"]), labels=labels),
        "durations": charts.durations(
            {
                "fix": dict(m.duration_summary(m.fix_durations(d, c, NOW))),
                "verify": dict(m.duration_summary(m.verify_durations(d, c, NOW))),
            },
            labels=labels,
        ),
    }


@pytest.mark.parametrize("name", list(_charts(EN)))
def test_every_chart_keeps_colours_labels_and_integer_counts_in_both_languages(name):
    scales = {}
    for lang, labels in (("en", EN), ("pl", PL)):
        spec, frames = _spec_frames(_charts(labels)[name])
        scales[lang] = _check(spec, frames, f"{name} [{lang}]")
    assert scales["en"] == scales["pl"], f"{name}: series scales differ between languages"
    assert scales["en"] or name == "pass_rate"


def test_arrival_closure_fades_the_week_in_progress_and_keeps_it_off_the_line():
    spec, frames = _spec_frames(_charts(EN)["arrival_closure"])
    bars, line, point = spec["layer"]
    assert "datum.partial" in str(bars["encoding"]["opacity"])
    assert line["transform"] == [{"filter": "!datum.partial"}] and line["mark"]["type"] == "line"
    assert point["transform"] == [{"filter": "datum.partial"}] and point["mark"]["filled"] is False
    backlog = frames[line["data"]["name"]]
    assert backlog["partial"].tolist() == [False, False, True] and backlog["count"].tolist() == [1, 2, 2]
    colour = bars["encoding"]["color"]["scale"]
    assert colour["domain"] == ["arrived", "closed", "backlog"]


def test_every_severity_and_module_is_a_labelled_row():
    spec, _ = _spec_frames(_charts(EN)["open_by_severity"])
    assert spec["encoding"]["y"]["scale"]["domain"] == list(SEVERITIES)  # empty severities too
    spec, frames = _spec_frames(_charts(EN)["by_module"])
    assert spec["encoding"]["y"]["scale"]["domain"] == ["Sales", "Invoices", "(no module)"]
    spec, _ = _spec_frames(_charts(EN)["by_release"])
    assert spec["encoding"]["y"]["scale"]["domain"] == ["1.0", "1.1", "(no release)"]


def test_a_percentile_not_reached_is_not_drawn_as_zero():
    _, frames = _spec_frames(_charts(EN)["durations"])
    (data,) = frames.values()
    assert set(data["stat"]) == {"median"} and (data["days"] > 0).all()  # no p90 reached yet


def test_charts_of_an_empty_project_build():
    empty = m.weekly_flow(
        pd.DataFrame(columns=["id", "status", "created_at", "closed_at"]),
        pd.DataFrame(columns=["defect_id", "from_status", "to_status", "at"]),
        NOW,
    )
    for chart in (
        charts.arrival_closure(empty, labels=EN),
        charts.open_by_severity(
            m.open_by_severity_status(pd.DataFrame(columns=["severity", "status"])), labels=EN
        ),
        charts.durations(
            {"fix": {"median": None, "p90": None}, "verify": {"median": None, "p90": None}}, labels=EN
        ),
    ):
        chart.to_dict()
