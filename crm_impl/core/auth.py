"""Sign-in with argon2 password hashes, lockout after repeated failures, and SSO mapping.

Lockout counts attempts atomically: each attempt first takes its number in one statement
(`UPDATE login_throttle SET failed_count = failed_count + 1 … RETURNING`, the row created
race-free by `INSERT … ON CONFLICT DO NOTHING`) and commits it, and only an attempt whose number
is within `lockout_attempts` gets its password checked. So parallel clients together get at most
`lockout_attempts` password checks per window, on SQLite and PostgreSQL alike.

Passwords: at least 8 characters, no composition rules, not one of the most common passwords
(crm_impl/core/data/common_passwords.txt, compared case-insensitively) and not the username
(NIST SP 800-63B 5.1.1.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

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


COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercased (lines starting with "# " are comments)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("# "))


def check_password_policy(password: str, username: str | None = None) -> None:
    """Length at least 8, not a common password, not the username; no composition rules."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("error.password_short", min=MIN_PASSWORD_LENGTH)
    folded = password.strip().casefold()
    if folded in common_passwords():
        raise ValidationError("error.password_common")
    if username and folded == username.strip().casefold():
        raise ValidationError("error.password_username")


def actor_for(user: UserAccount) -> Actor:
    return Actor(id=user.id, username=user.username, roles=tuple(user.roles or ()))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def _take_attempt(
    session: Session, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime | None]:
    """Number this attempt for `key` atomically and commit it: (its number in the current
    window, the lock's end if a lock is in force). A window that ended, or a lock that ran
    out, starts again at 1."""
    conn = session.connection()
    insert: Any = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(username=key, failed_count=0).on_conflict_do_nothing())
    first, count, until = (
        col(LoginThrottle.first_failed_at),
        col(LoginThrottle.failed_count),
        col(LoginThrottle.locked_until),
    )
    fresh = or_(first.is_(None), first < now - window, (until.is_not(None)) & (until <= now))
    row = session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.username) == key)
        .values(
            failed_count=case((fresh, 1), else_=count + 1),
            first_failed_at=case((fresh, now), else_=first),
            locked_until=case((fresh, None), else_=until),
        )
        .returning(count, until)
    ).one()
    session.commit()
    locked_until = row[1]
    return int(row[0]), locked_until if locked_until is not None and locked_until > now else None


def _stamp_sign_in(session: Session, user: UserAccount, now: datetime) -> None:
    """The time of the last sign-in, set by one UPDATE that leaves the row's version alone: it is
    bookkeeping, not an edit of the account, and the same account signing in twice at once (two
    tabs, or two demo visitors on one role) must not make one of them fail as a conflict. The
    sign-in's audit entry is the caller's."""
    session.execute(update(UserAccount).where(col(UserAccount.id) == user.id).values(last_login_at=now))
    set_committed_value(user, "last_login_at", now)  # the object agrees, and has nothing to flush


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
    window = timedelta(minutes=settings.lockout_minutes)
    number, locked_until = _take_attempt(session, key, now, window)
    if locked_until is not None or number > settings.lockout_attempts:
        _verify(_DUMMY_HASH, password)  # the same time as a real check
        raise AuthError("auth.locked", minutes=settings.lockout_minutes)
    user = session.exec(select(UserAccount).where(func.lower(UserAccount.username) == key)).first()
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    if ok and user is not None and user.is_active:
        session.execute(delete(LoginThrottle).where(col(LoginThrottle.username) == key))
        _stamp_sign_in(session, user, now)
        audit.record(
            session=session, actor=actor_for(user), entity="user", entity_id=user.id, action="sign_in"
        )
        session.commit()
        return user
    locked = number >= settings.lockout_attempts
    if locked:
        session.execute(
            update(LoginThrottle).where(col(LoginThrottle.username) == key).values(locked_until=now + window)
        )
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
    _stamp_sign_in(session, user, utcnow())
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


def demo_accounts(*, session: Session) -> list[UserAccount]:
    """The active accounts the demo created (`is_demo`), by username."""
    query = select(UserAccount).where(col(UserAccount.is_demo), col(UserAccount.is_active))
    return list(session.exec(query.order_by(col(UserAccount.username))).all())


def real_user_count(*, session: Session) -> int:
    """Active accounts the demo did not create: demo mode on such a database needs --force."""
    query = select(func.count()).select_from(UserAccount)
    return int(session.exec(query.where(~col(UserAccount.is_demo), col(UserAccount.is_active))).one())


def demo_sign_in(*, session: Session, username: str, settings: Settings | None = None) -> UserAccount:
    """One-click sign-in offered on the login page: only with demo mode on, and only into an
    active account the demo created (a real account named like a demo login is refused)."""
    if not (settings or get_settings()).demo_mode:
        raise AuthError("auth.invalid")
    user = session.exec(
        select(UserAccount).where(func.lower(UserAccount.username) == (username or "").strip().lower())
    ).first()
    if user is None or not user.is_active or not user.is_demo:
        raise AuthError("auth.invalid")
    _stamp_sign_in(session, user, utcnow())
    audit.record(
        session=session, actor=actor_for(user), entity="user", entity_id=user.id, action="sign_in_demo"
    )
    session.commit()
    return user
