"""`crm-impl report training --json [--project ID] [--today]`: a small hand-made project through
the command line, as JSON and as text; an unknown project and a user without training.read are
refused."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import Session
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.models import Person, Project
from crm_impl.training.models import Attendance, Meeting, TrainingSession


def _seed(session: Session) -> int:
    project = Project(name="Training test", go_live_date=date(2026, 3, 1))
    people = [
        Person(full_name="Ala", department="Sales", licensed_user=True),
        Person(full_name="Bartek", department="Sales", licensed_user=True),
        Person(full_name="Ewa", department="Logistics", licensed_user=True),
    ]
    session.add(project)
    session.add_all(people)
    session.flush()
    pid = int(project.id or 0)
    held = TrainingSession(
        project_id=pid, title="Basics", module="Basics", session_date=date(2026, 2, 10), status="held"
    )
    planned = TrainingSession(project_id=pid, title="Offers", session_date=date(2026, 3, 20))
    session.add_all([held, planned])
    session.flush()
    session.add_all(
        [
            Attendance(session_id=held.id, person_id=people[0].id, attended=True, score=90),
            Attendance(session_id=held.id, person_id=people[1].id, attended=False),
            Meeting(
                project_id=pid,
                kind="steering",
                title="SC 1",
                meeting_date=date(2026, 2, 2),
                management_present=True,
            ),
            Meeting(project_id=pid, kind="steering", title="SC 2", meeting_date=date(2026, 3, 2)),
        ]
    )
    session.commit()
    return pid


def test_report_training_json_and_text(db_url, engine, make_user):
    with Session(engine, expire_on_commit=False) as s:
        pid = _seed(s)
    runner = CliRunner()
    base = ["--database-url", db_url, "report", "training", "--today", "2026-03-10"]
    out = runner.invoke(app, [*base, "--project", str(pid), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["project"] == "Training test"
    assert data["coverage"] == {"licensed": 3, "trained": 1, "share": 1 / 3}
    assert [p["name"] for p in data["untrained"]] == ["Ewa", "Bartek"]  # Logistics, then Sales
    assert data["sessions"] == {"sessions": 2, "held": 1, "planned": 1, "cancelled": 0, "overdue": 0}
    assert data["scores"]["mean"] == 90
    assert data["meetings"]["steering"] == {"held": 2, "with_management": 1, "share": 0.5}
    text = runner.invoke(app, [*base, "--project", str(pid)])
    assert text.exit_code == 0 and "trained before go-live: 1 of 3" in text.output
    missing = runner.invoke(app, [*base, "--project", "9999"])
    assert missing.exit_code == 1 and "error:" in missing.output
    make_user("rep", "sales_rep")
    refused = runner.invoke(app, ["--as", "rep", *base])
    assert refused.exit_code == 1 and "not allowed to view training" in refused.output
