"""The permission matrix, enforced inside the services: every role x every probed write action."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.core.errors import PermissionDenied
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.core.permissions import ACTIONS, APP_ROLES, MATRIX, WRITE_ACTIONS, can
from tests.core.permission_probes import PROBES, READ_PROBES

CLI = str(Path(sys.executable).parent / "crm-impl")

# The permission matrix as the product defines it, written out: x = allowed, . = refused.
# A change to crm_impl/core/permissions.py must be made here too, on purpose.
EXPECTED_GRID = """
                 adm mgt pmv pmc ana con tst prg trn smg rep
overview.read     x   x   x   x   x   x   x   x   x   x   x
pipeline.read     x   x   x   x   x   x   x   x   x   x   x
plan.read         x   x   x   x   x   x   x   x   x   x   x
team.read         x   x   x   x   x   x   x   x   x   x   .
audit.read        x   x   .   .   .   .   .   .   .   .   .
user.read         x   .   .   .   .   .   .   .   .   .   .
user.manage       x   .   .   .   .   .   .   .   .   .   .
project.manage    x   .   x   x   .   .   .   .   .   .   .
team.manage       x   .   x   x   .   .   .   .   .   .   .
stage.configure   x   .   .   .   .   .   .   .   .   x   .
deal.write        x   x   .   .   .   .   .   .   .   x   x
deal.write_any    x   x   .   .   .   .   .   .   .   x   .
import.run        x   .   .   .   .   .   .   .   .   x   .
plan.write        x   .   x   x   x   .   .   .   .   .   .
idea.submit       x   x   x   x   x   x   .   .   x   x   x
idea.triage       .   .   .   x   .   .   .   .   .   .   .
change.request    x   x   x   x   x   x   .   .   x   .   .
change.approve    .   x   .   .   .   .   .   .   .   .   .
defect.read       x   x   x   x   x   x   x   x   x   .   .
defect.report     x   .   x   x   .   .   x   .   .   .   .
defect.triage     x   .   x   x   .   .   .   .   .   .   .
defect.assign     .   .   x   x   .   .   .   .   .   .   .
defect.fix        .   .   .   .   .   .   .   x   .   .   .
defect.verify     .   .   .   .   .   .   x   .   .   .   .
defect.signoff    .   .   .   .   .   .   x   .   .   .   .
release.manage    x   .   x   x   .   .   .   .   .   .   .
testrun.record    .   .   .   .   .   .   x   .   .   .   .
acceptance.record .   .   .   .   .   .   x   .   .   .   .
training.read     x   x   x   x   x   x   .   .   x   x   .
training.manage   x   x   x   x   .   .   .   .   x   .   .
meeting.organise  x   x   x   x   x   x   .   .   x   x   .
meeting.manage    x   x   x   x   .   .   .   .   .   .   .
budget.read       x   x   x   x   x   x   .   .   x   .   .
budget.edit       x   x   x   x   .   .   .   .   .   .   .
adoption.read     x   x   x   x   x   x   .   .   x   x   .
adoption.manage   x   x   x   x   .   .   .   .   .   .   .
adoption.import   x   .   .   .   .   .   .   .   .   .   .
dq.read           x   x   x   x   .   .   .   .   .   x   .
dq.manage         x   .   x   x   .   .   .   .   .   x   .
dq.merge          x   .   .   x   .   .   .   .   .   x   .
"""
COLUMNS = {
    "adm": "admin",
    "mgt": "management",
    "pmv": "pm_vendor",
    "pmc": "pm_client",
    "ana": "analyst",
    "con": "consultant",
    "tst": "tester",
    "prg": "programmer",
    "trn": "trainer",
    "smg": "sales_manager",
    "rep": "sales_rep",
}


def _parse(grid: str) -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in grid.strip().splitlines()]
    roles = [COLUMNS[c] for c in header]
    expected: dict[tuple[str, str], bool] = {}
    for action, *marks in rows:
        assert len(marks) == len(roles), action
        assert set(marks) <= {"x", "."}, action
        expected |= {(role, action): mark == "x" for role, mark in zip(roles, marks, strict=True)}
    return expected


EXPECTED = _parse(EXPECTED_GRID)


def _row_counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
        if t.name not in {"login_throttle", "data_version"}
    }


def test_the_written_out_matrix_names_every_role_and_action():
    assert sorted({role for role, _ in EXPECTED}) == sorted(APP_ROLES)
    assert sorted({action for _, action in EXPECTED}) == sorted(ACTIONS)
    assert len(EXPECTED) == len(APP_ROLES) * len(ACTIONS)


def test_matrix_is_the_written_out_one():
    wrong = {
        (role, action): allowed
        for (role, action), allowed in EXPECTED.items()
        if (action in MATRIX[role]) != allowed or can((role,), action) != allowed
    }
    assert wrong == {}
    assert set(MATRIX) == set(APP_ROLES)


def test_several_roles_add_up_and_unknown_actions_are_refused_loudly():
    assert can(("tester", "sales_rep"), "deal.write")  # sales_rep's
    assert can(("tester", "sales_rep"), "team.read")  # tester's
    assert not can(("tester", "sales_rep"), "plan.write")
    assert not can((), "overview.read")
    assert not can(("no_such_role",), "overview.read")
    with pytest.raises(ValueError):
        can(("admin",), "no.such.action")


def test_every_write_action_has_a_probe():
    assert set(PROBES) == set(WRITE_ACTIONS)


@pytest.mark.parametrize("action", sorted(PROBES))
def test_every_role_against_every_probed_action(engine, make_user, action):
    setup, act = PROBES[action]
    for role in APP_ROLES:
        actor = make_user(f"u-{role.replace('_', '-')}", role)
        with Session(engine) as session:
            ctx = setup(session, actor)
            session.flush()
            before = _row_counts(session)
            if EXPECTED[role, action]:
                act(session, actor, ctx)
                session.flush()
                assert _row_counts(session)["audit_entry"] > before["audit_entry"], role
                session.rollback()
            else:
                with pytest.raises(PermissionDenied) as err:
                    act(session, actor, ctx)
                assert "not allowed" in err.value.message() or "own deals" in err.value.message()
                session.flush()
                assert _row_counts(session) == before, role
                session.rollback()


@pytest.mark.parametrize("action", sorted(READ_PROBES))
def test_every_role_against_every_service_read(engine, make_user, action):
    setup, read = READ_PROBES[action]
    for role in APP_ROLES:
        actor = make_user(f"r-{role.replace('_', '-')}", role)
        with Session(engine) as session:
            ctx = setup(session, actor)
            session.flush()
            if EXPECTED[role, action]:
                read(session, actor, ctx)
            else:
                with pytest.raises(PermissionDenied):
                    read(session, actor, ctx)
            session.rollback()


def test_refused_through_the_cli_writes_nothing(db_url, make_user):
    make_user("rep", "sales_rep")
    make_user("boss", "admin")
    env = {"CRM_IMPL_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    refused = subprocess.run(
        [CLI, "--as", "rep", "user", "add", "eve", "--role", "admin", "--password", "long-enough-1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "not allowed to manage users" in refused.stderr
    allowed = subprocess.run(
        [
            CLI,
            "--as",
            "boss",
            "user",
            "add",
            "eve",
            "--role",
            "sales_rep",
            "--password",
            "long-enough-1",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert allowed.returncode == 0, allowed.stderr
    from crm_impl.core.db import get_engine

    with Session(get_engine(db_url)) as session:
        names = session.exec(select(UserAccount.username)).all()
        audits = session.exec(select(AuditEntry).where(AuditEntry.entity == "user")).all()
    assert "eve" in names
    assert [(a.username, a.action) for a in audits] == [("boss", "create")]
