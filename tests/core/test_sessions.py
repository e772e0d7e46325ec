"""Server-side sessions: a reload keeps the user signed in until sign-out, idle timeout, expiry,
deactivation or a password change; the cookie route sets an HttpOnly, SameSite cookie."""

from __future__ import annotations

import asyncio
import json as jsonlib
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select, update
from starlette.applications import Starlette

from crm_impl.core import clock, sessions
from crm_impl.core.config import get_settings
from crm_impl.core.db import dispose_engines
from crm_impl.core.models import UserAccount, UserSession, utcnow
from crm_impl.core.ui import web


def _user(session: Session, make_user, name: str = "rep") -> UserAccount:  # type: ignore[no-untyped-def]
    actor = make_user(name, "sales_rep")
    user = session.get(UserAccount, actor.id)
    assert user is not None
    return user


def _signed_in(session: Session, user: UserAccount) -> tuple[int, str]:
    session_id, ticket = sessions.start(session=session, user=user)
    issued = sessions.exchange_ticket(session=session, ticket=ticket)
    assert issued is not None
    session.commit()
    return session_id, issued[0]


def test_a_ticket_buys_one_token_once_and_only_hashes_are_stored(session, make_user):
    user = _user(session, make_user)
    session_id, ticket = sessions.start(session=session, user=user)
    issued = sessions.exchange_ticket(session=session, ticket=ticket)
    assert issued is not None
    token, max_age = issued
    assert max_age == pytest.approx(get_settings().session_hours * 3600, abs=5)
    assert sessions.exchange_ticket(session=session, ticket=ticket) is None  # used up
    session.commit()
    row = session.get(UserSession, session_id)
    assert row is not None and row.ticket_hash is None
    assert token not in (row.token_hash or "") and len(row.token_hash or "") == 64
    found = sessions.resolve(session=session, token=token)
    assert found is not None and found[0] == session_id and found[1].id == user.id
    assert sessions.resolve(session=session, token=token + "x") is None


def test_a_ticket_is_good_for_a_minute(session, make_user):
    user = _user(session, make_user)
    _, ticket = sessions.start(session=session, user=user)
    session.commit()
    with clock.at(utcnow() + timedelta(seconds=sessions.TICKET_SECONDS + 1)):
        assert sessions.exchange_ticket(session=session, ticket=ticket) is None


def test_sign_out_ends_the_session_for_every_tab(session, make_user):
    user = _user(session, make_user)
    session_id, token = _signed_in(session, user)
    sessions.revoke(session=session, session_id=session_id)
    session.commit()
    assert sessions.resolve(session=session, token=token) is None
    result = sessions.check(session=session, session_id=session_id)
    assert result.user is None and result.ended == sessions.ENDED_REVOKED


def test_idle_timeout_and_expiry_end_the_session(session, make_user):
    user = _user(session, make_user)
    idle_id, idle_token = _signed_in(session, user)
    idle = get_settings().idle_timeout_minutes
    session.execute(
        update(UserSession)
        .where(col(UserSession.id) == idle_id)
        .values(last_seen_at=utcnow() - timedelta(minutes=idle + 1))
    )
    session.commit()
    result = sessions.check(session=session, session_id=idle_id)
    assert result.ended == sessions.ENDED_IDLE
    session.commit()
    assert sessions.resolve(session=session, token=idle_token) is None
    row = session.get(UserSession, idle_id)
    session.refresh(row)
    assert row is not None and row.revoked_reason == "idle"

    long_id, _ = _signed_in(session, user)
    later = utcnow() + timedelta(hours=get_settings().session_hours, minutes=1)
    with clock.at(later):
        # active all along (last seen just now), but past the configured lifetime
        session.execute(update(UserSession).where(col(UserSession.id) == long_id).values(last_seen_at=later))
        assert sessions.check(session=session, session_id=long_id).ended == sessions.ENDED_EXPIRED


def test_a_live_refresh_is_not_activity(session, make_user):
    user = _user(session, make_user)
    session_id, _ = _signed_in(session, user)
    seen = session.exec(select(UserSession.last_seen_at).where(UserSession.id == session_id)).one()
    with clock.at(utcnow() + timedelta(minutes=5)):
        assert sessions.check(session=session, session_id=session_id, touch=False).user is not None
        session.commit()
        assert (
            session.exec(select(UserSession.last_seen_at).where(UserSession.id == session_id)).one() == seen
        )
        assert sessions.check(session=session, session_id=session_id, touch=True).user is not None
        session.commit()
        assert (
            session.exec(select(UserSession.last_seen_at).where(UserSession.id == session_id)).one() != seen
        )


def test_deactivation_and_password_change_end_every_session(session, make_user):
    user = _user(session, make_user)
    first, _ = _signed_in(session, user)
    second, _ = _signed_in(session, user)
    assert sessions.active_count(session=session, user_id=user.id or 0) == 2
    assert sessions.revoke_user(session=session, user_id=user.id or 0, reason="password") == 2
    session.commit()
    assert sessions.check(session=session, session_id=first).user is None
    assert sessions.check(session=session, session_id=second).user is None

    third, _ = _signed_in(session, user)
    user.is_active = False
    session.add(user)
    session.commit()
    assert sessions.check(session=session, session_id=third).ended == sessions.ENDED_INACTIVE


class Answer:
    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        self.status_code, self.headers = status_code, headers


class Client:
    """Calls the routes as the ASGI server would (starlette's TestClient needs an extra package)."""

    def __init__(self) -> None:
        self.app = Starlette(routes=web.routes())
        self.cookies: dict[str, str] = {}

    def _call(self, method: str, body: bytes, headers: dict[str, str]) -> Answer:
        raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers}.items()]
        if self.cookies:
            raw.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        scope = {
            "type": "http",
            "method": method,
            "path": web.SESSION_ROUTE,
            "raw_path": web.SESSION_ROUTE.encode(),
            "query_string": b"",
            "headers": raw,
            "scheme": "http",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 5000),
            "http_version": "1.1",
            "root_path": "",
        }
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]})

    def post(
        self, _path: str, *, json: object = None, content: bytes | None = None, headers: dict[str, str]
    ) -> Answer:
        body = content if content is not None else jsonlib.dumps(json).encode()
        return self._call("POST", body, headers)

    def delete(self, _path: str, *, headers: dict[str, str]) -> Answer:
        return self._call("DELETE", b"", headers)


@pytest.fixture
def client(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CRM_IMPL_DATABASE_URL", db_url)
    yield Client()
    dispose_engines()


def test_cookie_route_sets_an_httponly_samesite_cookie_once(client, session, make_user):
    user = _user(session, make_user)
    _, ticket = sessions.start(session=session, user=user)
    session.commit()
    headers = {"Origin": "http://testserver", "X-Crm-Impl": "1"}
    answer = client.post(web.SESSION_ROUTE, json={"ticket": ticket}, headers=headers)
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert sessions.resolve(session=session, token=token) is not None
    # the same ticket again, another site's page, or no marker header: refused
    assert client.post(web.SESSION_ROUTE, json={"ticket": ticket}, headers=headers).status_code == 400
    _, other = sessions.start(session=session, user=user)
    session.commit()
    evil = {"Origin": "http://evil.example", "X-Crm-Impl": "1"}
    assert client.post(web.SESSION_ROUTE, json={"ticket": other}, headers=evil).status_code == 403
    assert (
        client.post(
            web.SESSION_ROUTE, json={"ticket": other}, headers={"Origin": "http://testserver"}
        ).status_code
        == 403
    )
    assert client.post(web.SESSION_ROUTE, content=b"not json", headers=headers).status_code == 400


def test_cookie_route_sign_out_revokes_and_clears(client, session, make_user):
    user = _user(session, make_user)
    _, token = _signed_in(session, user)
    client.cookies[sessions.COOKIE_NAME] = token
    answer = client.delete(web.SESSION_ROUTE, headers={"Origin": "http://testserver", "X-Crm-Impl": "1"})
    assert answer.status_code == 200
    assert "Max-Age=0" in answer.headers["set-cookie"] or "expires=" in answer.headers["set-cookie"].lower()
    session.expire_all()
    assert sessions.resolve(session=session, token=token) is None
