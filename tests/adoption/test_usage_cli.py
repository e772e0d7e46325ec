"""`crm-impl report adoption --json` and `crm-impl import usage FILE`: a small hand-made company
through the command line on both databases; JSON keys of both halves, figures counted by hand;
an unknown project and a user without adoption.read are refused.

`crm-impl adoption rebuild-usage`: an entry written behind SQLAlchemy's back leaves the rollup
behind until the administrator rebuilds it (printed rows, audited); anyone else is refused.
In a fresh process (the CLI, and app.py as the server runs it) a write through a service is in
the rollup at once: the listener is registered before anything writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from crm_impl.adoption.models import UsageDay
from crm_impl.cli import app
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount
from tests.adoption.test_usage_rollup import _covered
from tests.conftest import ROOT


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


def _used(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(select(func.coalesce(func.sum(UsageDay.used), 0))).one())


def test_rebuild_usage_after_a_write_behind_the_apps_back(db_url, engine, make_user):
    with Session(engine, expire_on_commit=False) as s:
        _seed(s)
        s.connection().execute(
            text(
                "INSERT INTO audit_entry (at, user_id, username, project_id, entity, entity_id, action) "
                "VALUES (:at, NULL, 'bulk', NULL, 'deal', '7', 'create')"
            ),
            {"at": "2026-03-04 10:00:00" + ("+00" if engine.dialect.name == "postgresql" else ".000000")},
        )
        s.commit()
        assert not _covered(s) and _used(engine) == 3
    runner = CliRunner()
    base = ["--database-url", db_url, "adoption", "rebuild-usage"]
    for login, role in (("mgmt", "management"), ("pm", "pm_vendor")):
        make_user(login, role)
        refused = runner.invoke(app, ["--database-url", db_url, "--as", login, "adoption", "rebuild-usage"])
        assert refused.exit_code == 1 and "not allowed" in refused.output, refused.output
    with Session(engine) as s:
        assert not _covered(s)  # the refusals changed nothing
    out = runner.invoke(app, [*base, "--json"])
    assert out.exit_code == 0, out.output
    with Session(engine) as s:
        assert _covered(s) and _used(engine) == 4
        rows = s.exec(select(func.count()).select_from(UsageDay)).one()
        # ala on 2 and 3 March, the bulk entry (no user) on 4 March
        assert json.loads(out.output) == {"rows": rows} and rows == 3
        entry = s.exec(select(AuditEntry).where(AuditEntry.entity == "usage_rollup")).one()
        assert (entry.action, entry.username, entry.after) == ("rebuild", "system", {"rows": 3})
    make_user("boss", "admin")
    again = runner.invoke(app, ["--database-url", db_url, "--as", "boss", "adoption", "rebuild-usage"])
    assert again.exit_code == 0 and again.output.strip() == "usage rollup rebuilt: 3 rows", again.output
    assert _used(engine) == 4  # rebuilt, not added to


def _fresh(code: str, db_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRM_IMPL_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# How each entry point starts before its first write: app.py as the server runs it for its first
# visitor (the sign-in page), and the `crm-impl` console script (which imports crm_impl.cli.app).
# The imports write no per-record audit entries, so no CLI command writes use yet: the child writes
# through the service itself once the entry point has loaded.
ENTRY_POINTS = {
    "app": f"""
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        """,
    "cli": """
        from crm_impl.cli import app
        """,
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_service_write_in_a_fresh_process_is_rolled_up(db_url, engine, make_user, entry):
    make_user("rep", "sales_rep")
    child = _fresh(
        """
        import sys
        assert not [m for m in sys.modules if m.startswith("crm_impl")]  # a fresh process
        """
        + ENTRY_POINTS[entry]
        + """
        from sqlmodel import Session, select
        from crm_impl.core.auth import actor_for
        from crm_impl.core.db import get_engine
        from crm_impl.core.models import UserAccount
        from crm_impl.pipeline.models import AccountCreate
        from crm_impl.pipeline.services import deals
        with Session(get_engine()) as session:
            user = session.exec(select(UserAccount).where(UserAccount.username == "rep")).one()
            deals.create_account(session=session, actor=actor_for(user), data=AccountCreate(name="Acme"))
            session.commit()
        """,
        db_url,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    with Session(engine) as s:
        assert _covered(s)
        rep = s.exec(select(UserAccount.id).where(UserAccount.username == "rep")).one()
        row = s.exec(select(UsageDay).where(UsageDay.subject_id == rep)).one()
        assert (row.imported, row.source, row.created, row.used) == (False, "app", 1, 1)
