"""HTTP routes beside the Streamlit app (served by `serve.py` as an ASGI `st.App`): the session
cookie.

Streamlit talks to the browser over a WebSocket, which cannot set an HttpOnly cookie. After a
sign-in the page posts its one-time ticket here (`POST /api/session`); the answer sets the cookie
with the session token, HttpOnly (page scripts cannot read it) and SameSite=Lax (other sites'
requests do not carry it, an opened link does). `DELETE /api/session` ends the session and
clears the cookie. A reload, a new tab or an opened link then finds the cookie in
`st.context.cookies` and the user stays signed in (crm_impl.core.ui.session).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crm_impl.core import sessions
from crm_impl.core.db import UnitOfWork

SESSION_ROUTE = "/api/session"


def _same_origin(request: Request) -> bool:
    """Refuse cross-site posts (login CSRF): a browser always sends Origin on a POST/DELETE fetch."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _set_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _exchange(ticket: str) -> tuple[str, int] | None:
    with UnitOfWork() as uow:
        issued = sessions.exchange_ticket(session=uow.session, ticket=ticket)
        uow.commit()
    return issued


def _revoke(token: str) -> None:
    with UnitOfWork() as uow:
        sessions.revoke_token(session=uow.session, token=token)
        uow.commit()


async def _post(request: Request) -> Response:
    if not _same_origin(request) or request.headers.get("x-crm-impl") != "1":
        return JSONResponse({"ok": False}, status_code=403)
    try:
        body = json.loads(await request.body() or b"{}")
        ticket = str(body.get("ticket", "")) if isinstance(body, dict) else ""
    except (ValueError, UnicodeDecodeError):
        ticket = ""
    issued = await run_in_threadpool(_exchange, ticket)
    if issued is None:
        return JSONResponse({"ok": False}, status_code=400)
    token, max_age = issued
    response = JSONResponse({"ok": True})
    response.headers["cache-control"] = "no-store"
    _set_cookie(request, response, token, max_age)
    return response


async def _delete(request: Request) -> Response:
    if not _same_origin(request) or request.headers.get("x-crm-impl") != "1":
        return JSONResponse({"ok": False}, status_code=403)
    token = request.cookies.get(sessions.COOKIE_NAME)
    if token:
        await run_in_threadpool(_revoke, token)
    response = JSONResponse({"ok": True})
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


async def _session(request: Request) -> Response:
    if request.method == "POST":
        return await _post(request)
    return await _delete(request)


def routes() -> list[BaseRoute]:
    return [Route(SESSION_ROUTE, _session, methods=["POST", "DELETE"])]


def ticket_script(ticket: str) -> str:
    """The script a page runs once after sign-in: trade the ticket for the cookie."""
    payload = json.dumps({"ticket": ticket})
    return (
        "<script>fetch(" + json.dumps(SESSION_ROUTE) + ",{method:'POST',credentials:'same-origin',"
        "headers:{'Content-Type':'application/json','X-Crm-Impl':'1'},body:" + json.dumps(payload) + "});"
        "</script>"
    )


def clear_script() -> str:
    """The script the sign-in page runs after a sign-out: drop the (already revoked) cookie."""
    return (
        "<script>fetch(" + json.dumps(SESSION_ROUTE) + ",{method:'DELETE',credentials:'same-origin',"
        "headers:{'X-Crm-Impl':'1'}});</script>"
    )
