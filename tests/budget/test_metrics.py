"""Earned value against a worked example computed by hand, and the budget's other pure metrics."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from crm_impl.budget import metrics

# The worked example (docs/budget.md, "Earned value"):
#   Analysis     planned 2026-01-01..01-31 (31 days), 100 % complete, line "Analysis" 10,000
#   Programming  planned 2026-02-01..03-31 (59 days),  40 % complete, line "Build"    59,000
#   line "Licences" 9,000 belongs to no phase: it follows the whole project (01-01..03-31, 90 days)
#   postings: Analysis 12,000 on 01-20; Build 20,000 on 02-15 and 5,000 on 03-05 (after the date)
# As of 2026-02-28:
#   BAC = 10,000 + 59,000 + 9,000                                  = 78,000
#   PV  = 10,000 × 31/31 + 59,000 × 28/59 + 9,000 × 59/90           = 10,000 + 28,000 + 5,900 = 43,900
#   project % complete = (10,000 × 1.0 + 59,000 × 0.4) / 69,000     = 33,600 / 69,000
#   EV  = 10,000 × 1.0 + 59,000 × 0.4 + 9,000 × 33,600/69,000       = 10,000 + 23,600 + 4,382.61 = 37,982.61
#   AC  = 12,000 + 20,000                                           = 32,000
#   CV  = EV − AC = 5,982.61        SV = EV − PV = −5,917.39
#   CPI = EV / AC = 1.186957        SPI = EV / PV = 0.865208
#   EAC = BAC / CPI = 78,000 × 32,000 / 37,982.61 = 65,714.28
#   ETC = EAC − AC = 33,714.28      VAC = BAC − EAC = 12,285.72
LINES = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "name": ["Analysis", "Build", "Licences"],
        "category": ["analysis", "programming", "licences"],
        "phase_id": pd.array([10, 20, None], dtype="Int64"),
        "planned": [10_000.0, 59_000.0, 9_000.0],
        "committed": [10_000.0, 40_000.0, 9_000.0],
        "forecast": [None, 64_000.0, None],
        "status": ["closed", "open", "open"],
    }
)
POSTINGS = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "line_id": [1, 2, 2],
        "posted_on": [date(2026, 1, 20), date(2026, 2, 15), date(2026, 3, 5)],
        "amount": [12_000.0, 20_000.0, 5_000.0],
    }
)
PHASES = pd.DataFrame(
    {
        "id": [10, 20],
        "name": ["Analysis", "Programming"],
        "kind": ["analysis", "programming"],
        "planned_start": [date(2026, 1, 1), date(2026, 2, 1)],
        "planned_end": [date(2026, 1, 31), date(2026, 3, 31)],
        "percent_complete": [100, 40],
    }
)


def test_earned_value_of_the_worked_example():
    ev = metrics.earned_value(LINES, POSTINGS, PHASES, date(2026, 2, 28))
    assert ev.bac == 78_000
    assert ev.pv == pytest.approx(43_900.00, abs=0.01)
    assert ev.ev == pytest.approx(37_982.61, abs=0.01)
    assert ev.ac == 32_000
    assert ev.cv == pytest.approx(5_982.61, abs=0.01)
    assert ev.sv == pytest.approx(-5_917.39, abs=0.01)
    assert ev.cpi == pytest.approx(1.186957, abs=1e-6)
    assert ev.spi == pytest.approx(0.865208, abs=1e-6)
    assert ev.eac == pytest.approx(65_714.28, abs=0.01)
    assert ev.etc == pytest.approx(33_714.28, abs=0.01)
    assert ev.vac == pytest.approx(12_285.72, abs=0.01)


def test_before_the_start_nothing_is_planned_and_cpi_is_unknown_without_actuals():
    ev = metrics.earned_value(
        LINES, POSTINGS.iloc[0:0], PHASES.assign(percent_complete=0), date(2025, 12, 31)
    )
    assert (ev.pv, ev.ev, ev.ac) == (0, 0, 0)
    assert ev.cpi is None and ev.spi is None
    assert ev.eac == ev.bac == 78_000  # no CPI yet: the plan is the estimate
    assert ev.vac == 0


def test_at_the_end_everything_is_planned():
    ev = metrics.earned_value(LINES, POSTINGS, PHASES, date(2026, 3, 31))
    assert ev.pv == pytest.approx(78_000)
    assert ev.ac == 37_000


def test_line_table_puts_the_largest_overrun_first():
    table = metrics.line_table(LINES, POSTINGS)
    # Build: forecast given 64,000 (+5,000); Analysis: actual 12,000 > planned 10,000 (+2,000)
    assert table["name"].tolist() == ["Build", "Analysis", "Licences"]
    assert table["variance"].tolist() == [5_000.0, 2_000.0, 0.0]
    assert table["actual"].tolist() == [25_000.0, 12_000.0, 0.0]
    assert table.loc[1, "variance_pct"] == pytest.approx(0.2)


def test_by_category_and_by_phase():
    table = metrics.line_table(LINES, POSTINGS)
    cat = metrics.by_category(table).set_index("category")
    assert len(cat) == 10  # every category, in the fixed order
    assert cat.loc["programming", "forecast"] == 64_000
    assert cat.loc["training", "planned"] == 0
    phase = metrics.by_phase(table, PHASES)
    assert phase["phase"].tolist() == ["Analysis", "Programming", ""]  # "" = no phase (Licences)
    assert phase["actual"].tolist() == [12_000.0, 25_000.0, 0.0]


def test_findings_name_the_missing_stages_the_training_share_and_the_overruns():
    table = metrics.line_table(LINES, POSTINGS)
    found = metrics.findings(table, low=0.15, high=0.20, source="Rule of thumb")
    missing = [f.category for f in found if f.kind == "missing_stage"]
    assert missing == ["testing", "deployment", "modifications", "maintenance"]
    training = next(f for f in found if f.kind.startswith("training"))
    assert training.kind == "training_low" and training.share == 0 and training.source == "Rule of thumb"
    assert [(f.line, f.amount) for f in found if f.kind == "overrun"] == [
        ("Build", 5_000.0),
        ("Analysis", 2_000.0),
    ]


def test_training_share_inside_and_above_the_band():
    lines = LINES.assign(category=["training", "programming", "licences"])  # 10,000 of 78,000
    table = metrics.line_table(lines, POSTINGS)
    assert metrics.training_share(table) == pytest.approx(10_000 / 78_000)
    kinds = {f.kind for f in metrics.findings(table, low=0.10, high=0.20, source="")}
    assert "training_ok" in kinds
    kinds = {f.kind for f in metrics.findings(table, low=0.05, high=0.10, source="")}
    assert "training_high" in kinds


def test_history_keeps_the_frozen_months_and_adds_the_month_in_progress_as_partial():
    snaps = pd.DataFrame(
        {"month": [date(2026, 1, 1)], "bac": [78_000], "pv": [10_000], "ev": [9_000], "ac": [12_000]}
    )
    live = metrics.earned_value(LINES, POSTINGS, PHASES, date(2026, 2, 28))
    hist = metrics.history(snaps, live)
    assert hist["month"].tolist() == [date(2026, 1, 1), date(2026, 2, 1)]
    assert hist["partial"].tolist() == [False, True]
    assert hist.loc[0, "cpi"] == pytest.approx(0.75)  # the frozen January: 9,000 / 12,000


def test_cumulative_actual_against_the_planned_curve():
    cum = metrics.cumulative(LINES, POSTINGS, PHASES, date(2026, 2, 10))
    planned = cum[cum["series"] == "planned"].set_index("month")["amount"]
    actual = cum[cum["series"] == "actual"].set_index("month")["amount"]
    assert planned.index.tolist() == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert planned.iloc[-1] == pytest.approx(78_000)
    assert actual.tolist() == [12_000.0, 12_000.0]  # February so far: the 02-15 posting is later
    assert cum.loc[cum["month"] == date(2026, 2, 1), "partial"].all()


def test_months():
    assert metrics.month_end(date(2026, 2, 10)) == date(2026, 2, 28)
    assert metrics.last_closed_month(date(2026, 3, 1)) == date(2026, 2, 1)
    assert metrics.last_closed_month(date(2026, 1, 15)) == date(2025, 12, 1)


def test_the_ev_legend_wraps_so_no_series_is_cut_off():
    """Three long labels in a half-width chart: two a row, so "Actual cost (AC)" is never clipped."""
    from crm_impl.budget import charts

    snaps = pd.DataFrame(
        {"month": [date(2026, 1, 1)], "bac": [78_000], "pv": [10_000], "ev": [9_000], "ac": [12_000]}
    )
    labels = {
        "month": "Miesiąc", "value": "Kwota", "series": "Seria", "partial": "Miesiąc w toku",
        "partial_yes": "tak", "partial_no": "nie", "pv": "Wartość planowana (PV)",
        "ev": "Wartość wypracowana (EV)", "ac": "Koszt rzeczywisty (AC)",
    }  # fmt: skip
    spec = charts.earned_value(metrics.history(snaps, None), labels=labels).to_dict()
    legends = [layer["encoding"]["color"]["legend"] for layer in spec["layer"]]
    assert all(legend["columns"] == 2 and legend["labelLimit"] == 0 for legend in legends)
