"""Sign-in with argon2 password hashes, lockout after repeated failures, and SSO mapping."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, func, select

from crm_impl.core import audit
from crm_impl.core.config import Settings, get_settings
from crm_impl.core.errors import AuthError, ValidationError
from crm_impl.core.models import LoginThrottle, UserAccount, utcnow
from crm_impl.core.permissions import Actor

_hasher = PasswordHasher()
# Verifying against a real hash for unknown usernames keeps the response time the same,
# so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError("error.password_short", min=MIN_PASSWORD_LENGTH)


def actor_for(user: UserAccount) -> Actor:
    return Actor(id=user.id, username=user.username, roles=tuple(user.roles or ()))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    settings: Settings | None = None,
) -> UserAccount:
    """The user on success; AuthError otherwise. Commits the throttle and audit rows itself."""
    settings = settings or get_settings()
    key = (username or "").strip().lower()[:64]
    now = utcnow()
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        _verify(_DUMMY_HASH, password)
        raise AuthError("auth.locked", minutes=settings.lockout_minutes)
    user = session.exec(select(UserAccount).where(func.lower(UserAccount.username) == key)).first()
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    if ok and user is not None and user.is_active:
        if throttle:
            session.delete(throttle)
        user.last_login_at = now
        session.add(user)
        audit.record(
            session=session, actor=actor_for(user), entity="user", entity_id=user.id, action="sign_in"
        )
        session.commit()
        return user
    throttle = throttle or LoginThrottle(username=key)
    window = timedelta(minutes=settings.lockout_minutes)
    if throttle.first_failed_at is None or now - throttle.first_failed_at > window:
        throttle.failed_count, throttle.first_failed_at = 0, now
    throttle.failed_count += 1
    locked = throttle.failed_count >= settings.lockout_attempts
    if locked:
        throttle.locked_until = now + window
    session.add(throttle)
    audit.record(
        session=session,
        actor=Actor(id=None, username=key or "?"),
        entity="user",
        entity_id=user.id if user else "",
        action="sign_in_locked" if locked else "sign_in_failed",
    )
    session.commit()
    if locked:
        raise AuthError("auth.locked", minutes=settings.lockout_minutes)
    raise AuthError("auth.invalid")


def sso_sign_in(*, session: Session, email: str) -> UserAccount:
    """Map an identity confirmed by the SSO provider to an active account with that e-mail."""
    user = session.exec(
        select(UserAccount).where(func.lower(UserAccount.email) == (email or "").lower())
    ).first()
    if user is None or not user.is_active:
        raise AuthError("auth.sso_unknown", email=email)
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(
        session=session, actor=actor_for(user), entity="user", entity_id=user.id, action="sign_in_sso"
    )
    session.commit()
    return user


def lock_state(*, session: Session, username: str) -> LoginThrottle | None:
    throttle = session.get(LoginThrottle, username.lower())
    if throttle and throttle.locked_until and throttle.locked_until > utcnow():
        return throttle
    return None


def demo_sign_in(*, session: Session, username: str, settings: Settings | None = None) -> UserAccount:
    """One-click sign-in offered on the login page; refused unless demo mode is on."""
    if not (settings or get_settings()).demo_mode:
        raise AuthError("auth.invalid")
    user = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if user is None or not user.is_active:
        raise AuthError("auth.invalid")
    user.last_login_at = utcnow()
    session.add(user)
    audit.record(
        session=session, actor=actor_for(user), entity="user", entity_id=user.id, action="sign_in_demo"
    )
    session.commit()
    return user
