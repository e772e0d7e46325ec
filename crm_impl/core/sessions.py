"""Server-side sign-in sessions: what keeps a user signed in across reloads, tabs and links.

A browser holds an opaque random token in an HttpOnly, SameSite cookie (set by the cookie route
in `crm_impl.core.ui.web`); this table keeps only the token's SHA-256, so a stolen database copy
signs nobody in. Before the browser has its cookie, sign-in hands the page a one-time ticket
(also stored hashed, valid for a minute, usable once) that the cookie route exchanges for the
token: the token itself never passes through the page's JavaScript.

A session ends on sign-out, on the user's deactivation or password change (`revoke_user`), after
`idle_timeout_minutes` without activity, and `session_hours` after it started.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from crm_impl.core.config import Settings, get_settings
from crm_impl.core.models import UserAccount, UserSession, utcnow

COOKIE_NAME = "crm_impl_session"
TICKET_SECONDS = 60
# last_seen_at is written at most this often (a page that reruns every second writes nothing)
TOUCH_SECONDS = 30

ENDED_IDLE = "idle"
ENDED_EXPIRED = "expired"
ENDED_REVOKED = "revoked"
ENDED_INACTIVE = "inactive"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; the app stores UTC everywhere."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Check:
    """The outcome of checking a session: the user when it is valid, else why it ended."""

    user: UserAccount | None
    ended: str | None = None


def start(*, session: Session, user: UserAccount, settings: Settings | None = None) -> tuple[int, str]:
    """A new session for `user`: its id and the one-time ticket the cookie route takes."""
    settings = settings or get_settings()
    now = utcnow()
    ticket = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id or 0,
        ticket_hash=_hash(ticket),
        ticket_expires_at=now + timedelta(seconds=TICKET_SECONDS),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id, ticket


def exchange_ticket(*, session: Session, ticket: str) -> tuple[str, int] | None:
    """The cookie token and its lifetime in seconds for a valid, unused ticket; None otherwise.
    A ticket works once: it is cleared in the same statement that checks it."""
    if not ticket or len(ticket) > 200:
        return None
    now = utcnow()
    row = session.exec(select(UserSession).where(UserSession.ticket_hash == _hash(ticket))).first()
    if row is None or row.revoked_at is not None or row.ticket_expires_at is None:
        return None
    if _aware(row.ticket_expires_at) < now or _aware(row.expires_at) <= now:
        return None
    token = secrets.token_urlsafe(32)
    # compare-and-set: of two requests racing with one ticket, only one gets a token
    claimed = session.execute(
        update(UserSession)
        .where(col(UserSession.id) == row.id, col(UserSession.ticket_hash) == _hash(ticket))
        .values(ticket_hash=None, ticket_expires_at=None, token_hash=_hash(token))
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    seconds = int((_aware(row.expires_at) - now).total_seconds())
    return token, max(seconds, 0)


def _judge(session: Session, row: UserSession | None, settings: Settings, *, touch: bool) -> Check:
    if row is None:
        return Check(None, ENDED_REVOKED)
    if row.revoked_at is not None:
        return Check(None, ENDED_REVOKED)
    now = utcnow()
    if _aware(row.expires_at) <= now:
        return Check(None, ENDED_EXPIRED)
    if now - _aware(row.last_seen_at) > timedelta(minutes=settings.idle_timeout_minutes):
        _end(session, row, ENDED_IDLE)
        return Check(None, ENDED_IDLE)
    user = session.get(UserAccount, row.user_id)
    if user is None or not user.is_active:
        _end(session, row, ENDED_INACTIVE)
        return Check(None, ENDED_INACTIVE)
    if touch and (now - _aware(row.last_seen_at)).total_seconds() >= TOUCH_SECONDS:
        session.execute(update(UserSession).where(col(UserSession.id) == row.id).values(last_seen_at=now))
    return Check(user)


def check(
    *, session: Session, session_id: int, touch: bool = True, settings: Settings | None = None
) -> Check:
    """Is session `session_id` still valid? `touch` counts this as activity (a user's click; a
    live page refreshing itself is not activity)."""
    row = session.get(UserSession, session_id)
    return _judge(session, row, settings or get_settings(), touch=touch)


def resolve(
    *, session: Session, token: str, settings: Settings | None = None
) -> tuple[int, UserAccount] | None:
    """The session and user a cookie token belongs to, when the session is still valid."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    result = _judge(session, row, settings or get_settings(), touch=True)
    if result.user is None or row is None or row.id is None:
        return None
    return row.id, result.user


def _end(session: Session, row: UserSession, reason: str) -> None:
    if row.revoked_at is None:
        session.execute(
            update(UserSession)
            .where(col(UserSession.id) == row.id)
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )


def revoke(*, session: Session, session_id: int, reason: str = "sign_out") -> None:
    """End one session (sign-out)."""
    session.execute(
        update(UserSession)
        .where(col(UserSession.id) == session_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:20])
    )


def revoke_token(*, session: Session, token: str, reason: str = "sign_out") -> None:
    session.execute(
        update(UserSession)
        .where(col(UserSession.token_hash) == _hash(token), col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:20])
    )


def revoke_user(*, session: Session, user_id: int, reason: str) -> int:
    """End every session of a user (deactivation, password change or reset); how many ended."""
    result = session.execute(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:20])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def active_count(*, session: Session, user_id: int) -> int:
    now = utcnow()
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None))
    ).all()
    return sum(1 for r in rows if _aware(r.expires_at) > now)
