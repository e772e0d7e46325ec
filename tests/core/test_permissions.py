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
from tests.core.permission_probes import PROBES

CLI = str(Path(sys.executable).parent / "crm-impl")


def _row_counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
        if t.name != "login_throttle"
    }


def test_matrix_names_only_known_roles_and_actions():
    assert set(MATRIX) == set(APP_ROLES)
    for actions in MATRIX.values():
        assert actions <= set(ACTIONS)
    assert MATRIX["admin"] == frozenset(ACTIONS) - {"idea.triage", "change.approve"}
    assert [r for r in APP_ROLES if "idea.triage" in MATRIX[r]] == ["pm_client"]
    assert [r for r in APP_ROLES if "change.approve" in MATRIX[r]] == ["management"]
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
            if can((role,), action):
                act(session, actor, ctx)
                session.flush()
                assert _row_counts(session)["audit_entry"] > before["audit_entry"]
                session.rollback()
            else:
                with pytest.raises(PermissionDenied) as err:
                    act(session, actor, ctx)
                assert "not allowed" in err.value.message() or "own deals" in err.value.message()
                session.flush()
                assert _row_counts(session) == before
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
