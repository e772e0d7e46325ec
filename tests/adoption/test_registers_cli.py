"""The registers' part of `crm-impl report adoption --json` on both databases: a hand-made round, tools
and a benefit written through the services; the "adkar", "legacy_tools" and "benefits" figures
counted by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlmodel import Session
from typer.testing import CliRunner

from crm_impl.adoption.models import (
    AdkarRoundCreate,
    AdkarScores,
    BenefitCreate,
    LegacyToolCreate,
    MeasurementCreate,
)
from crm_impl.adoption.services import adkar, registers
from crm_impl.cli import app
from crm_impl.core import clock
from crm_impl.core.models import Person, ProjectCreate
from crm_impl.core.permissions import SYSTEM
from crm_impl.rollout.services import projects

TODAY = date(2026, 6, 10)


def _seed(session: Session) -> int:
    pid = int(projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Reg")).id or 0)
    people = [
        Person(full_name="Ala", department="Sales", licensed_user=True),
        Person(full_name="Ola", department="Sales", licensed_user=True),
        Person(full_name="Ewa", department="Logistics", licensed_user=True),
    ]
    session.add_all(people)
    session.flush()
    ala, ola, ewa = (int(p.id or 0) for p in people)
    rnd = adkar.create_round(
        session=session, actor=SYSTEM, project_id=pid, data=AdkarRoundCreate(title="R", survey_date=TODAY)
    )
    lines = [
        AdkarScores(person_id=ala, awareness=5, desire=4, knowledge=3, ability=2, reinforcement=4),
        AdkarScores(person_id=ola, awareness=5, desire=4, knowledge=4, ability=2, reinforcement=4),
        AdkarScores(department="Logistics", awareness=4, desire=4, knowledge=4, ability=4, reinforcement=4),
    ]
    adkar.record_responses(session=session, actor=SYSTEM, round_id=int(rnd.id or 0), lines=lines)
    with clock.at(datetime(2026, 6, 10, 12, tzinfo=UTC)):
        registers.create_tool(
            session=session,
            actor=SYSTEM,
            project_id=pid,
            data=LegacyToolCreate(
                name="Sheet", kind="spreadsheet", retire_by=date(2026, 6, 1), user_ids=[ewa]
            ),
        )
        registers.create_tool(
            session=session,
            actor=SYSTEM,
            project_id=pid,
            data=LegacyToolCreate(
                name="Book", kind="paper", retire_by=date(2026, 5, 1), retired_on=date(2026, 5, 2)
            ),
        )
        b = registers.create_benefit(
            session=session,
            actor=SYSTEM,
            project_id=pid,
            data=BenefitCreate(name="Hours", unit="hours", direction="decrease", baseline="4"),
        )
        registers.add_measurement(
            session=session,
            actor=SYSTEM,
            benefit_id=int(b.id or 0),
            data=MeasurementCreate(measured_on=date(2026, 6, 1), value="3"),
        )
    session.commit()
    return pid


def test_report_adoption_json_has_the_registers(db_url, engine):
    with Session(engine, expire_on_commit=False) as s:
        pid = _seed(s)
    out = CliRunner().invoke(
        app,
        [
            "--database-url",
            db_url,
            "report",
            "adoption",
            "--project",
            str(pid),
            "--today",
            "2026-06-10",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    a = data["adkar"]
    assert (a["rounds"], a["responses"], a["latest_round_date"]) == (1, 3, "2026-06-10")
    by = {d["department"]: d for d in a["departments"]}
    # Sales: K (3+4)/2 = 3.5 is above 3, Ability (2+2)/2 = 2 is the first at or below 3
    assert by["Sales"]["barrier"] == "ability" and by["Sales"]["knowledge"] == 3.5
    assert by["Logistics"]["barrier"] is None and by["Logistics"]["responses"] == 1
    assert a["barriers"]["ability"] == 1 and a["barriers"]["none"] == 1
    t = data["legacy_tools"]
    assert (t["tools"], t["retired"], t["overdue"], t["share_retired"]) == (2, 1, 1, 0.5)
    assert t["overdue_tools"] == [
        {
            "name": "Sheet",
            "kind": "spreadsheet",
            "retire_by": "2026-06-01",
            "days_overdue": 9,
            "users": ["Ewa"],
        }
    ]
    b = data["benefits"]
    assert (b["benefits"], b["measured"], b["improved"]) == (1, 1, 1)
    assert b["items"][0]["gain"] == 1.0 and b["items"][0]["gain_share"] == 0.25
