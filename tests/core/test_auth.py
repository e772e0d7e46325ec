"""Sign-in: argon2 hashes, lockout after repeated failures without revealing who exists, demo sign-in."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from crm_impl.core import auth, users
from crm_impl.core.config import get_settings
from crm_impl.core.errors import AuthError
from crm_impl.core.models import AuditEntry, LoginThrottle, UserAccount, UserUpdate, utcnow
from crm_impl.core.permissions import SYSTEM


def _try(engine, username, password):
    with Session(engine, expire_on_commit=False) as s:
        return auth.authenticate(session=s, username=username, password=password)


def test_password_is_hashed_with_argon2(engine, make_user):
    make_user("anna", "sales_rep")
    with Session(engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.username == "anna")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert _try(engine, "ANNA", "correct-horse").username == "anna"


def test_wrong_password_and_unknown_user_give_the_same_message(engine, make_user):
    make_user("anna", "sales_rep")
    with pytest.raises(AuthError) as wrong:
        _try(engine, "anna", "nope")
    with pytest.raises(AuthError) as unknown:
        _try(engine, "nobody", "nope")
    assert wrong.value.message() == unknown.value.message() == "Wrong username or password."


@pytest.mark.parametrize("username", ["anna", "ghost"])
def test_five_failures_lock_for_fifteen_minutes_existing_or_not(engine, make_user, username):
    make_user("anna", "sales_rep")
    for _ in range(4):
        with pytest.raises(AuthError) as err:
            _try(engine, username, "bad")
        assert err.value.key == "auth.invalid"
    with pytest.raises(AuthError) as err:
        _try(engine, username, "bad")
    assert err.value.key == "auth.locked"
    assert "15 minutes" in err.value.message()
    with pytest.raises(AuthError) as err:  # even the right password is refused while locked
        _try(engine, username, "correct-horse")
    assert err.value.key == "auth.locked"


def test_lock_expires_and_admin_can_unlock(engine, make_user):
    anna = make_user("anna", "sales_rep")
    admin = make_user("root", "admin")
    for _ in range(5):
        with pytest.raises(AuthError):
            _try(engine, "anna", "bad")
    with Session(engine) as s:  # the clock moves past the lock
        throttle = s.get(LoginThrottle, "anna")
        throttle.locked_until = utcnow() - timedelta(seconds=1)
        throttle.first_failed_at = utcnow() - timedelta(minutes=20)
        s.add(throttle)
        s.commit()
    assert _try(engine, "anna", "correct-horse").id == anna.id
    for _ in range(5):
        with pytest.raises(AuthError):
            _try(engine, "anna", "bad")
    with Session(engine) as s:
        users.unlock(session=s, actor=admin, user_id=anna.id)
        s.commit()
    assert _try(engine, "anna", "correct-horse").id == anna.id


def test_sign_in_attempts_are_audited(engine, make_user):
    make_user("anna", "sales_rep")
    with pytest.raises(AuthError):
        _try(engine, "anna", "bad")
    _try(engine, "anna", "correct-horse")
    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["sign_in_failed", "sign_in"]


def test_deactivated_user_cannot_sign_in(engine, make_user):
    anna = make_user("anna", "sales_rep")
    with Session(engine) as s:
        users.set_active(session=s, actor=SYSTEM, user_id=anna.id, active=False)
        s.commit()
    with pytest.raises(AuthError):
        _try(engine, "anna", "correct-horse")


def test_demo_sign_in_only_in_demo_mode(engine, make_user, monkeypatch):
    make_user("sales_rep", "sales_rep")
    with Session(engine) as s:  # an account the demo created
        user = s.exec(select(UserAccount).where(UserAccount.username == "sales_rep")).one()
        user.is_demo = True
        s.add(user)
        s.commit()
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "false")
    with Session(engine) as s, pytest.raises(AuthError):
        auth.demo_sign_in(session=s, username="sales_rep")
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "true")
    assert get_settings().demo_mode
    with Session(engine, expire_on_commit=False) as s:
        assert auth.demo_sign_in(session=s, username="sales_rep").username == "sales_rep"


def test_sso_maps_email_to_active_account(engine, make_user):
    anna = make_user("anna", "sales_rep")
    with Session(engine) as s:
        users.update_user(
            session=s,
            actor=SYSTEM,
            user_id=anna.id,
            expected_version=1,
            data=UserUpdate(email="Anna@Budmax.pl"),
        )
        s.commit()
    with Session(engine, expire_on_commit=False) as s:
        assert auth.sso_sign_in(session=s, email="anna@budmax.pl").id == anna.id
    with Session(engine) as s, pytest.raises(AuthError) as err:
        auth.sso_sign_in(session=s, email="stranger@example.com")
    assert "stranger@example.com" in err.value.message()
