"""`crm-impl report budget --json` and `crm-impl budget snapshot` through the command line: the
worked example's earned value, per category figures and findings; a month frozen once; a user
without budget rights is refused."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select
from typer.testing import CliRunner

from crm_impl.budget import services
from crm_impl.budget.models import BudgetLineCreate, CostPostingCreate, EvSnapshot
from crm_impl.cli import app


def _example(w) -> None:  # type: ignore[no-untyped-def]
    """The worked example of test_metrics: Analysis 10,000 (100 %), Build 59,000 (40 %), Licences
    9,000 (no phase); 12,000 posted on Analysis, 20,000 on Build."""
    made = {}
    for name, category, phase, planned in (
        ("Analysis", "analysis", w.phases["analysis"], "10000"),
        ("Build", "programming", w.phases["programming"], "59000"),
        ("Licences", "licences", None, "9000"),
    ):
        made[name] = services.create_line(
            session=w.session,
            actor=w["pm"],
            project_id=w.project_id,
            data=BudgetLineCreate(name=name, category=category, phase_id=phase, planned=planned),
        )
    for name, day, amount in (
        ("Analysis", date(2026, 1, 20), "12000"),
        ("Build", date(2026, 2, 15), "20000"),
    ):
        services.add_posting(
            session=w.session,
            actor=w["pm"],
            project_id=w.project_id,
            data=CostPostingCreate(line_id=int(made[name].id or 0), posted_on=day, amount=amount),
        )
    w.session.commit()


def test_report_budget_json_and_text(db_url, budget_world):
    _example(budget_world)
    runner = CliRunner()
    base = ["--database-url", db_url, "report", "budget", "--today", "2026-02-28"]
    out = runner.invoke(app, [*base, "--project", str(budget_world.project_id), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    ev = data["earned_value"]
    assert (ev["bac"], ev["pv"], ev["ev"], ev["ac"]) == (78000.0, 43900.0, 37982.61, 32000.0)
    assert ev["cpi"] == 1.187 and ev["spi"] == 0.8652
    # over time: every EV figure per month (no snapshot yet: February is the month in progress)
    assert data["history"] == [
        {
            "month": "2026-02", "bac": 78000.0, "pv": 43900.0, "ev": 37982.61, "ac": 32000.0,
            "cv": 5982.61, "sv": -5917.39, "cpi": 1.19, "spi": 0.87, "eac": 65714.28, "etc": 33714.28,
            "vac": 12285.72, "partial": True,
        }
    ]  # fmt: skip
    cats = {c["category"]: c for c in data["by_category"]}
    assert cats["analysis"] == {
        "category": "analysis", "planned": 10000.0, "committed": 0.0, "actual": 12000.0,
        "forecast": 12000.0, "variance": 2000.0,
    }  # fmt: skip
    assert len(cats) == 10
    kinds = [(f["kind"], f.get("category", ""), f.get("line", "")) for f in data["findings"]]
    assert ("missing_stage", "testing", "") in kinds and ("overrun", "analysis", "Analysis") in kinds
    assert ("training_low", "", "") in kinds and data["training_share"] == 0.0
    text = runner.invoke(app, [*base, "--project", str(budget_world.project_id)])
    assert text.exit_code == 0 and "CPI 1.19" in text.output and "training share 0.0%" in text.output


def test_snapshot_freezes_a_month_once(db_url, budget_world, engine):
    _example(budget_world)
    runner = CliRunner()
    base = ["--database-url", db_url, "budget", "snapshot", "--project", str(budget_world.project_id)]
    first = runner.invoke(app, [*base, "--month", "2026-02", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "taken": True, "month": "2026-02", "bac": 78000.0, "pv": 43900.0, "ev": 37982.61, "ac": 32000.0,
    }  # fmt: skip
    again = runner.invoke(app, [*base, "--month", "2026-02"])
    assert again.exit_code == 1 and "already frozen" in again.output
    refused = runner.invoke(
        app, ["--database-url", db_url, "--as", "consultant", *base[2:], "--month", "2026-01"]
    )
    assert refused.exit_code == 1 and "not allowed to edit the budget" in refused.output
    with budget_world.session as s:
        assert [r.month for r in s.exec(select(EvSnapshot)).all()] == [date(2026, 2, 1)]
