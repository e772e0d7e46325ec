"""`crm-impl report adoption --json` and `crm-impl import usage FILE`: a small hand-made company
through the command line on both databases; JSON keys of both halves, figures counted by hand;
an unknown project and a user without adoption.read are refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount


def _seed(session: Session) -> int:
    project = Project(name="Adoption test", go_live_date=date(2026, 3, 2))
    ala = Person(full_name="Ala", department="Sales", licensed_user=True, email="ala@x.pl")
    ewa = Person(full_name="Ewa", department="Logistics", licensed_user=True)
    session.add_all([project, ala, ewa])
    session.flush()
    user = UserAccount(
        username="ala", roles=["sales_rep"], person_id=ala.id, created_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    session.add(user)
    session.flush()
    for day in (2, 3):  # Monday and Tuesday: two deals created, one moved
        session.add(
            AuditEntry(
                at=datetime(2026, 3, day, 9, tzinfo=UTC),
                user_id=user.id,
                username="ala",
                entity="deal",
                action="create",
            )
        )
    session.add(
        AuditEntry(
            at=datetime(2026, 3, 3, 10, tzinfo=UTC),
            user_id=user.id,
            username="ala",
            entity="deal",
            action="move",
        )
    )
    session.commit()
    return int(project.id or 0)


def test_report_adoption_json_and_text(db_url, engine, make_user, tmp_path: Path):
    with Session(engine, expire_on_commit=False) as s:
        pid = _seed(s)
    runner = CliRunner()
    log = tmp_path / "usage.csv"
    log.write_text(
        "user,timestamp,action\nala@x.pl,2026-03-05T12:00:00Z,update\nnobody,2026-03-05T12:00:00Z,update\n"
    )
    imported = runner.invoke(app, ["--database-url", db_url, "import", "usage", str(log), "--json"])
    assert imported.exit_code == 2, imported.output  # one row rejected (unknown user), the other written
    result = json.loads(imported.output)
    assert result["created"] == 1 and result["errors"][0]["line"] == 3

    base = ["--database-url", db_url, "report", "adoption", "--today", "2026-03-06"]
    out = runner.invoke(app, [*base, "--project", str(pid), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) == {"project", "project_id", "usage", "adkar", "legacy_tools", "benefits"}
    s = data["usage"]["summary"]
    assert (s["licensed"], s["mau"], s["never_active"]) == (2, 1, 1)
    assert s["adoption_rate"] == 0.5
    assert s["created_per_active"] == 2 and s["updated_per_active"] == 2  # the move and the import
    assert [p["name"] for p in data["usage"]["never_active"]] == ["Ewa"]
    assert {r["source"]: r["people"] for r in data["usage"]["by_source"]} == {"app": 1, "import": 1}
    assert data["usage"]["monthly"][0]["month"] == "2026-03-01" and data["usage"]["monthly"][0]["partial"]
    text = runner.invoke(app, [*base, "--project", str(pid)])
    assert text.exit_code == 0 and "MAU 1 (adoption rate 50.0%)" in text.output
    missing = runner.invoke(app, [*base, "--project", "9999"])
    assert missing.exit_code == 1 and "error:" in missing.output
    make_user("rep", "sales_rep")
    refused = runner.invoke(app, ["--as", "rep", *base])
    assert refused.exit_code == 1 and "not allowed" in refused.output
