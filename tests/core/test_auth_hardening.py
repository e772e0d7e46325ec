"""Issue 8 holes in sign-in and user administration: demo sign-in only for demo accounts, an
atomic lockout count under parallel attempts, separation of duties for role grants, a list of
common passwords, before/after in the password and unlock audit, sessions ended on password
change and deactivation."""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from crm_impl import demo
from crm_impl.cli import app as cli_app
from crm_impl.core import auth, sessions, users
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.errors import AuthError, PermissionDenied, ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import (
    AuditEntry,
    LoginThrottle,
    PersonCreate,
    ProjectCreate,
    UserAccount,
    UserCreate,
    UserSession,
    UserUpdate,
)
from crm_impl.core.permissions import SYSTEM, Actor, can
from crm_impl.rollout.models import ChangeRequestCreate
from crm_impl.rollout.services import changes, projects

PARALLEL = 8


def test_parallel_wrong_passwords_get_at_most_the_limit_of_password_checks(engine, make_user, monkeypatch):
    make_user("anna", "sales_rep")
    limit = auth.get_settings().lockout_attempts
    real_checks: list[str] = []
    verify = auth._verify
    guard = threading.Lock()

    def counting(password_hash: str, password: str) -> bool:
        if password_hash != auth._DUMMY_HASH:
            with guard:
                real_checks.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(auth, "_verify", counting)
    start = threading.Barrier(PARALLEL)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        start.wait()
        for _ in range(2):
            try:
                with Session(engine, expire_on_commit=False) as s:
                    auth.authenticate(session=s, username="anna", password=f"wrong-{n}")
                outcome = "signed_in"
            except AuthError as err:
                outcome = err.key
            except Exception as err:  # noqa: BLE001 - the test reports what escaped
                outcome = f"raw {type(err).__name__}: {err}"
            with guard:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(PARALLEL)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    raw = [o for o in outcomes if o.startswith("raw")]
    print(f"{engine.dialect.name}: {len(real_checks)} password checks for a limit of {limit}; raw: {raw}")
    assert raw == []
    assert sorted(set(outcomes)) == ["auth.invalid", "auth.locked"]
    assert len(real_checks) <= limit


# --- 1. demo sign-in only into the demo's own accounts ------------------------------------------


def _mark_demo(engine, username: str, is_demo: bool = True) -> None:
    with Session(engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.username == username)).one()
        user.is_demo = is_demo
        s.add(user)
        s.commit()


def test_demo_sign_in_refuses_a_real_account_named_like_a_demo_login(engine, make_user, monkeypatch):
    make_user("admin", "admin")  # a real administrator who happens to be called admin
    make_user("sales_rep", "sales_rep")
    _mark_demo(engine, "sales_rep")
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "true")
    with Session(engine) as s, pytest.raises(AuthError) as err:
        auth.demo_sign_in(session=s, username="admin")
    assert err.value.message() == "Wrong username or password."
    with Session(engine, expire_on_commit=False) as s:
        assert auth.demo_sign_in(session=s, username="sales_rep").username == "sales_rep"
        assert [u.username for u in auth.demo_accounts(session=s)] == ["sales_rep"]
        assert auth.real_user_count(session=s) == 1
    with Session(engine) as s:
        users.set_active(
            session=s,
            actor=SYSTEM,
            user_id=s.exec(select(UserAccount.id).where(UserAccount.username == "sales_rep")).one(),
            active=False,
        )
        s.commit()
    with Session(engine) as s, pytest.raises(AuthError):  # a deactivated demo account neither
        auth.demo_sign_in(session=s, username="sales_rep")


def test_the_demo_marks_its_accounts_and_runs_as_the_given_actor(engine):
    operator = Actor(id=None, username="ops", roles=("admin",))
    with Session(engine) as s:
        demo.load(session=s, seed=2, accounts=15, deals=30, today=date(2026, 11, 30), actor=operator)
    with Session(engine) as s:
        accounts = s.exec(select(UserAccount)).all()
        first = s.exec(
            select(AuditEntry).where(AuditEntry.entity == "user").order_by(col(AuditEntry.id))
        ).first()
        closing = s.exec(select(AuditEntry).where(AuditEntry.entity == "demo")).one()
        assert auth.real_user_count(session=s) == 0
    assert len(accounts) == len(demo.TEAM) + demo.EXTRA_REPS and all(u.is_demo for u in accounts)
    assert first.username == closing.username == "ops"  # the operator, not the built-in system
    assert first.after["is_demo"] is True


def test_the_demo_refuses_an_actor_who_may_not_manage_users(engine):
    with Session(engine) as s, pytest.raises(PermissionDenied):
        demo.load(session=s, accounts=15, deals=30, actor=Actor(id=None, username="x", roles=("sales_rep",)))
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(UserAccount)).one() == 0


def test_cli_demo_refuses_a_database_with_real_users_unless_forced(db_url, make_user):
    runner = CliRunner()
    base = ["--database-url", db_url]
    make_user("boss", "admin")  # a real user: demo mode would be a door into a real database
    refused = runner.invoke(cli_app, [*base, "demo", "--if-empty"])
    assert refused.exit_code == 1
    assert "1 active user the demo did not create" in refused.output and "--force" in refused.output
    polish = runner.invoke(cli_app, [*base, "--lang", "pl", "demo", "--if-empty"])
    assert polish.exit_code == 1 and "której nie utworzyło demo" not in polish.output
    assert "którego nie utworzyło demo" in polish.output
    forced = runner.invoke(cli_app, [*base, "demo", "--if-empty", "--force"])
    assert forced.exit_code == 0 and "demo not loaded" in forced.output


def test_cli_demo_uses_the_as_user(db_url):
    runner = CliRunner()
    unknown = runner.invoke(cli_app, ["--database-url", db_url, "--as", "nobody", "demo"])
    assert unknown.exit_code == 1, unknown.output  # it used to ignore --as and load as system
    with Session(get_engine(db_url)) as s:
        assert s.exec(select(func.count()).select_from(UserAccount)).one() == 0


def test_sign_in_page_says_demo_mode_is_on_and_offers_only_demo_accounts(app_as, demo_url):
    engine = get_engine(demo_url)
    _mark_demo(engine, "management", is_demo=False)  # as if it were a real account
    with Session(engine) as s:
        s.add(UserAccount(username="realboss", roles=["admin"], password_hash="x"))
        s.commit()
    at = app_as(None)
    infos = [i.value for i in at.info]
    assert any("Demo mode is on" in v for v in infos), infos
    assert any("2 real users" in w.value for w in at.warning)  # realboss and management now
    keys = {b.key for b in at.button if (b.key or "").startswith("demo_")}
    assert "demo_admin" in keys and "demo_sales_rep" in keys
    assert "demo_management" not in keys  # not created by the demo (any more): no button
    at_pl = app_as(None, locale="pl")
    assert any("Tryb demonstracyjny jest włączony" in i.value for i in at_pl.info)


# --- 3. separation of duties ----------------------------------------------------------------------


def _change_request(session):
    project = projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Rollout"))
    person = projects.create_person(
        session=session, actor=SYSTEM, data=PersonCreate(full_name="Req", side="client")
    )
    change = changes.request_change(
        session=session,
        actor=SYSTEM,
        project_id=project.id,
        data=ChangeRequestCreate(title="Extra field", reason="Workshops", requested_by_id=person.id),
    )
    session.commit()
    return change


def test_an_admin_cannot_grant_themselves_management_and_then_approve(session, make_user):
    admin = make_user("root", "admin")
    change = _change_request(session)
    with pytest.raises(ValidationError) as err:
        users.update_user(
            session=session,
            actor=admin,
            user_id=admin.id,
            expected_version=1,
            data=UserUpdate(roles=["admin", "management"]),
        )
    assert err.value.message() == "You cannot change your own roles: another administrator has to do it."
    set_locale("pl")
    assert err.value.message() == "Nie możesz zmieniać własnych ról: musi to zrobić inny administrator."
    session.rollback()
    reloaded = auth.actor_for(session.get(UserAccount, admin.id))
    assert reloaded.roles == ("admin",)
    with pytest.raises(PermissionDenied):
        changes.decide_change(
            session=session, actor=reloaded, change_id=change.id, expected_version=1, approve=True
        )


def test_granting_a_privileged_role_is_audited_and_shown_to_management(session, make_user):
    admin = make_user("root", "admin")
    boss = make_user("boss", "management")
    rep = make_user("anna", "sales_rep")
    users.update_user(
        session=session,
        actor=admin,
        user_id=rep.id,
        expected_version=1,
        data=UserUpdate(roles=["sales_rep", "pm_client"]),
    )
    users.update_user(  # not privileged: no grant entry
        session=session,
        actor=admin,
        user_id=rep.id,
        expected_version=2,
        data=UserUpdate(roles=["sales_rep", "pm_client", "tester"]),
    )
    session.commit()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "grant_role")).one()
    assert (entry.username, entry.entity_id) == ("root", str(rep.id))
    assert entry.before == {"roles": ["sales_rep"]}
    assert entry.after == {"roles": ["pm_client", "sales_rep"]}
    grants = users.role_grants(session=session, actor=boss)  # management reads it (audit.read)
    assert grants[["granted_by", "user"]].values.tolist() == [["root", "anna"]]
    assert grants.iloc[0]["granted"] == ["pm_client"]
    with pytest.raises(PermissionDenied):
        users.role_grants(session=session, actor=rep)
    assert can(("management",), "audit.read") and not can(("management",), "user.manage")


def test_management_sees_the_role_grants_on_the_audit_page(app_as):
    at = app_as("management", "pages/admin/audit.py")
    assert not at.exception
    assert "Grants of privileged roles" in [h.value for h in at.subheader]
    grants = next(df.value for df in at.dataframe if "granted_by" in df.value.columns)
    assert "Management" in set(grants["granted"])  # the demo admin made the management user


# --- 4. common passwords --------------------------------------------------------------------------

WEAK = ["password", "12345678", "Password", "QWERTY123", "iloveyou", "haslo123", "zaq12wsx", "polska123"]


def test_the_shipped_list_holds_the_common_passwords():
    common = auth.common_passwords()
    assert 1000 <= len(common) <= 10000
    assert {p.lower() for p in WEAK} <= common
    assert all(len(p) >= 8 for p in common)  # shorter ones are refused by length already


@pytest.mark.parametrize("password", WEAK)
def test_a_common_password_is_refused_on_create_and_nothing_is_written(engine, make_user, password):
    admin = make_user("root", "admin")
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        users.create_user(
            session=uow.session,
            actor=admin,
            data=UserCreate(username="eve", password=password, roles=["admin"]),
        )
    assert err.value.key == "error.password_common"
    assert "most common passwords" in err.value.message()
    with Session(engine) as s:
        assert users.get_by_username(session=s, username="eve") is None


def test_weak_passwords_are_refused_on_reset_and_change(session, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna.kowalska", "sales_rep")
    for actor in (admin, anna):  # an administrator's reset, the user's own change
        for bad, key in [
            ("12345678", "error.password_common"),
            ("Anna.Kowalska", "error.password_username"),
            ("short", "error.password_short"),
        ]:
            with pytest.raises(ValidationError) as err:
                users.reset_password(session=session, actor=actor, user_id=anna.id, new_password=bad)
            assert err.value.key == key
    set_locale("pl")
    with pytest.raises(ValidationError) as err:
        users.reset_password(session=session, actor=anna, user_id=anna.id, new_password="password")
    assert "najczęściej używanych" in err.value.message()
    users.reset_password(session=session, actor=anna, user_id=anna.id, new_password="ogórki w słoiku")


# --- 5. password and unlock audit, sessions ended --------------------------------------------------


def _sessions_of(session, user_id):
    return session.exec(select(UserSession).where(UserSession.user_id == user_id)).all()


def test_password_reset_and_unlock_audit_before_and_after_never_the_hash(session, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna", "sales_rep")
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(session=session, username="anna", password="bad")
    locked = session.get(LoginThrottle, "anna")
    locked_until = locked.locked_until.isoformat()
    users.unlock(session=session, actor=admin, user_id=anna.id)
    users.reset_password(session=session, actor=admin, user_id=anna.id, new_password="another-long-1")
    session.commit()
    unlock = session.exec(select(AuditEntry).where(AuditEntry.action == "unlock")).one()
    assert unlock.before == {"locked_until": locked_until, "failed_count": 5}
    assert unlock.after == {"locked_until": None, "failed_count": 0}
    reset = session.exec(select(AuditEntry).where(AuditEntry.action == "reset_password")).one()
    user = session.get(UserAccount, anna.id)
    assert reset.before == {"password_changed_at": None}  # make_user sets no time
    assert reset.after == {"password_changed_at": user.password_changed_at.isoformat()}
    everything = json.dumps([(e.before, e.after) for e in session.exec(select(AuditEntry)).all()])
    assert user.password_hash not in everything and "argon2" not in everything


def test_password_change_reset_and_deactivation_end_the_users_sessions(session, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna", "sales_rep")
    user = session.get(UserAccount, anna.id)
    admin_session, _ = sessions.start(session=session, user=session.get(UserAccount, admin.id))
    for action, reason in [
        (
            lambda: users.reset_password(
                session=session, actor=anna, user_id=anna.id, new_password="my own long one"
            ),
            "password_change",
        ),
        (
            lambda: users.reset_password(
                session=session, actor=admin, user_id=anna.id, new_password="set by the admin"
            ),
            "password_reset",
        ),
        (
            lambda: users.set_active(session=session, actor=admin, user_id=anna.id, active=False),
            "deactivated",
        ),
    ]:
        sessions.start(session=session, user=user)
        sessions.start(session=session, user=user)
        session.commit()
        action()
        session.commit()
        open_ = [s for s in _sessions_of(session, anna.id) if s.revoked_at is None]
        assert open_ == [], reason
        latest = session.exec(
            select(UserSession).where(UserSession.user_id == anna.id).order_by(col(UserSession.id).desc())
        ).first()
        assert latest.revoked_reason == reason
    assert session.get(UserSession, admin_session).revoked_at is None  # nobody else's


@pytest.mark.parametrize("how", ["password", "demo"])
def test_one_account_signing_in_in_parallel_never_conflicts(engine, make_user, how):
    # two tabs, or two demo visitors on one role: the last-sign-in time is no edit to protect,
    # so no sign-in fails as "changed by someone else" (it did, from 2 at once on the demo)
    make_user("anna", "sales_rep")
    with Session(engine) as s:  # test setup: a demo account
        user = s.exec(select(UserAccount).where(UserAccount.username == "anna")).one()
        user.is_demo = True
        s.add(user)
        s.commit()
        version = s.exec(select(UserAccount.version).where(UserAccount.username == "anna")).one()
    settings = auth.get_settings().model_copy(update={"demo_mode": True})
    # passwords: fewer at once than the lockout limit, which counts attempts in flight
    parallel = PARALLEL if how == "demo" else auth.get_settings().lockout_attempts - 1
    start = threading.Barrier(parallel)
    outcomes: list[str] = []
    guard = threading.Lock()

    def attempt() -> None:
        start.wait()
        for _ in range(3):
            try:
                with Session(engine, expire_on_commit=False) as s:
                    if how == "password":
                        auth.authenticate(session=s, username="anna", password="correct-horse")
                    else:
                        auth.demo_sign_in(session=s, username="anna", settings=settings)
                outcome = "signed_in"
            except Exception as err:  # noqa: BLE001 - the test reports what escaped
                outcome = f"{type(err).__name__}: {err}"
            with guard:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(parallel)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes == ["signed_in"] * (3 * parallel)
    with Session(engine) as s:
        action = "sign_in" if how == "password" else "sign_in_demo"
        audited = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        entries = s.exec(audited).one()
        row = s.exec(select(UserAccount).where(UserAccount.username == "anna")).one()
    assert entries == 3 * parallel  # every sign-in audited
    assert row.last_login_at is not None and row.version == version  # bookkeeping, not an edit
