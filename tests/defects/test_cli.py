"""`crm-impl report defects --json [--project ID]`: the report of the hand-made project through
the command line (typer's CliRunner), as text and as JSON; an unknown project is refused."""

from __future__ import annotations

import json

from sqlmodel import Session
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.models import Project
from tests.defects.test_queries import seed


def test_report_defects_json_and_text(db_url, engine):
    with Session(engine, expire_on_commit=False) as s:
        s.add(Project(name="A first, empty project"))
        s.commit()
        pid = seed(s)
    runner = CliRunner()
    base = ["--database-url", db_url, "report", "defects", "--today", "2026-03-13"]
    out = runner.invoke(app, [*base, "--project", str(pid), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["project"] == "Defects test" and data["project_id"] == pid
    assert data["totals"] == {"defects": 6, "open": 2, "resolved": 4}
    assert data["reopen"] == {"fixed": 3, "reopened": 1, "rate": 1 / 3, "reopens": 2}
    assert data["time_to_fix_days"]["median"] == 2.0 and data["time_to_fix_days"]["censored"] == 1
    assert [w["partial"] for w in data["weekly_flow"]] == [False, False, True]
    assert {p["name"] for p in data["per_programmer"]} == {"Ada Dev", "Bob Dev"}
    for key in ("open_by_severity_status", "by_module", "by_found_release", "real_data", "pass_rate"):
        assert data[key], key
    text = runner.invoke(app, [*base, "--project", str(pid)])
    assert text.exit_code == 0 and "reopen rate 33.3%" in text.output and "Ada Dev" in text.output
    first = json.loads(runner.invoke(app, ["--json", *base]).output)  # the global --json too
    assert first["project"] == "A first, empty project" and first["totals"]["defects"] == 0
    missing = runner.invoke(app, [*base, "--project", "9999"])
    assert missing.exit_code == 1 and "error:" in missing.output
