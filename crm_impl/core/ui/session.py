"""Who is signed in, for how long, and in which language.

The session itself lives on the server (crm_impl.core.sessions); st.session_state keeps its id
for this browser tab, and the HttpOnly cookie brings it back after a reload, in a new tab or when
a link is opened. Every run checks it, so a sign-out, a deactivation, a password change, the
idle timeout or the expiry end it on the next click, and live pages end it on their next refresh.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st

from crm_impl.core import audit, sessions
from crm_impl.core.auth import actor_for
from crm_impl.core.config import get_settings
from crm_impl.core.db import UnitOfWork, get_engine, read_session, upgrade
from crm_impl.core.i18n import LANGUAGES, set_locale
from crm_impl.core.models import UserAccount
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import web

P = ParamSpec("P")
USER_KEY = "user_id"
SESSION_KEY = "session_id"
_TICKET_KEY = "cookie_ticket"
_CLEAR_KEY = "cookie_clear"
# one script run asks several times (app shell, page, save helper): one check serves them all
_MEMO_KEY = "_session_checked"
_MEMO_SECONDS = 2.0
_ENDED_MESSAGES = {
    sessions.ENDED_IDLE: "auth.idle_signed_out",
    sessions.ENDED_EXPIRED: "auth.session_expired",
    sessions.ENDED_REVOKED: "auth.session_revoked",
    sessions.ENDED_INACTIVE: "auth.session_inactive",
}


@st.cache_resource(show_spinner=False)
def boot(database_url: str) -> bool:
    """Migrate the schema to head once per process and database."""
    upgrade(database_url)
    get_engine(database_url)
    return True


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser request behind this run (bare mode, tests)
        return None
    return value if isinstance(value, str) else None


def _check(*, touch: bool) -> UserAccount | None:
    """The signed-in user after checking the server-side session; signs out when it ended."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is None:
        return _restore()
    memo = st.session_state.get(_MEMO_KEY)
    if memo and memo[0] == session_id and time.monotonic() - memo[1] < _MEMO_SECONDS:
        return memo[2]  # type: ignore[no-any-return]
    with UnitOfWork() as uow:
        result = sessions.check(session=uow.session, session_id=session_id, touch=touch)
        uow.commit()
    if result.user is None:
        sign_out(reason=_ENDED_MESSAGES.get(result.ended or "", "auth.session_revoked"), revoke=False)
        return None
    st.session_state[_MEMO_KEY] = (session_id, time.monotonic(), result.user)
    return result.user


def _restore() -> UserAccount | None:
    """A reload, a new tab or an opened link: the cookie names a valid session, so the user is
    signed in again where they asked to go."""
    token = _cookie_token()
    if not token:
        return None
    with UnitOfWork() as uow:
        found = sessions.resolve(session=uow.session, token=token)
        uow.commit()
    if found is None:
        st.session_state[_CLEAR_KEY] = True
        return None
    session_id, user = found
    st.session_state[SESSION_KEY] = session_id
    st.session_state[USER_KEY] = user.id
    st.session_state.setdefault("locale", user.locale)
    return user


def current_user() -> UserAccount | None:
    """The signed-in, active user (a click counts as activity)."""
    return _check(touch=True)


def live_user() -> UserAccount | None:
    """For a page that refreshes itself: the session is checked, but the refresh is not activity,
    so the idle timeout still ends it. After it ended the whole app reruns to the sign-in page."""
    user = _check(touch=False)
    if user is None:
        st.rerun(scope="app")
    return user


def _data_version() -> int:
    with read_session() as session:
        return audit.data_version(session=session)


def data_key() -> tuple[int, str]:
    """The data version and the database: what every domain's cached read models are keyed by."""
    return _data_version(), get_settings().database_url


def _interaction_pending() -> bool:
    """Whether the browser has already asked for the next run (a click, a submitted form) that
    has not started yet. Streamlit keeps that request in the run's `script_requests` (no public
    accessor: read defensively, and an unknown shape counts as nothing pending)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    requests = getattr(get_script_run_ctx(), "script_requests", None)
    state = getattr(requests, "_state", None)
    return getattr(state, "name", "") == "RERUN"


def _watcher(run_every: int | None, seen_key: str) -> Callable[[], None]:
    @st.fragment(run_every=run_every)
    def watch() -> None:
        if live_user() is None:
            return
        # A click must never be lost to a refresh. The click's own run redraws the page from
        # the new data anyway, so while one is pending the watcher does not ask for a run of its
        # own: two runs requested at once are merged by Streamlit, and a watcher rerun that wins
        # the race redraws the page first, after which the click lands on a page redrawn under
        # the user's pointer (a form typed into, a card that moved). The widgets a click can hit
        # on live pages are also keyed (their identity is the key, not the data they show), so
        # a click made on the page as drawn before another user's change still finds its widget
        # after it (tests/pipeline/test_live_pages.py).
        if st.session_state.get(seen_key) != _data_version() and not _interaction_pending():
            st.rerun(scope="app")  # a fragment cannot rerun the one around it: the page does

    return watch


def live_page(run_every: int | None, name: str) -> None:
    """Make a whole page live (deal, client): the page's run notes the data version it drew and
    a small watcher fragment, woken every `run_every` seconds, reruns the page only when the
    data changed since (see `live_fragment`). The page itself is no fragment: each of its own
    actions reruns it as usual. What the user is typing survives the rerun: a form keeps its
    name (`common.form`) and an unkeyed input of a record keeps what was typed unless that very
    value was changed by someone else (its identity includes its default)."""
    if live_user() is None:
        return
    seen_key = f"_live_seen_{name}"
    st.session_state[seen_key] = _data_version()  # read first: a change meanwhile shows next time
    if run_every:
        _watcher(run_every, seen_key)()


def live_fragment(run_every: int | None) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """A fragment for a live page (board, dashboard): it redraws on its own actions (a move
    reruns only it), and a small watcher fragment inside it wakes every `run_every` seconds and
    costs two tiny queries: the session check first (a board left open past the idle timeout, or
    of a user deactivated meanwhile, shows the sign-in page instead of new data), then the data
    version (crm_impl.core.audit). Only when that changed since the page last drew does the page
    rerun, so an open board no longer redraws its fifty cards every refresh while nobody works."""

    def decorate(body: Callable[P, None]) -> Callable[P, None]:
        seen_key = f"_live_seen_{body.__module__}.{body.__qualname__}"
        watch = _watcher(run_every, seen_key)

        @functools.wraps(body)
        def checked(*args: P.args, **kwargs: P.kwargs) -> None:
            if live_user() is None:
                return
            st.session_state[seen_key] = _data_version()  # read first: a change meanwhile shows next time
            if run_every:
                watch()
            body(*args, **kwargs)

        return st.fragment(checked)

    return decorate


def sign_in(user: UserAccount) -> None:
    """Start the session. A language picked on the sign-in page wins and becomes the user's."""
    chosen = st.session_state.pop("locale_chosen", None)
    with UnitOfWork() as uow:
        session_id, ticket = sessions.start(session=uow.session, user=user)
        if chosen and chosen != user.locale:
            from crm_impl.core.users import set_preferences

            set_preferences(session=uow.session, actor=actor_for(user), locale=chosen)
        uow.commit()
    st.session_state.pop(_CLEAR_KEY, None)
    st.session_state[SESSION_KEY] = session_id
    st.session_state[USER_KEY] = user.id
    st.session_state[_TICKET_KEY] = ticket
    st.session_state["locale"] = chosen or user.locale


def renew(user_id: int | None) -> None:
    """A fresh session for this tab after the user's own password change ended the old ones."""
    with UnitOfWork() as uow:
        user = uow.session.get(UserAccount, user_id) if user_id is not None else None
    st.session_state.pop(_MEMO_KEY, None)
    if user is None or not user.is_active:
        sign_out()
        return
    sign_in(user)


def sign_out(reason: str | None = None, *, revoke: bool = True) -> None:
    """End the session everywhere (every tab of this browser) and forget this run's state."""
    session_id = st.session_state.get(SESSION_KEY)
    if revoke and session_id is not None:
        with UnitOfWork() as uow:
            sessions.revoke(session=uow.session, session_id=session_id)
            uow.commit()
    locale = st.session_state.get("locale")
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[_CLEAR_KEY] = True
    if locale:
        st.session_state["locale"] = locale
    if reason:
        st.session_state["signout_reason"] = reason


def cookie_scripts() -> None:
    """Run once after sign-in (set the cookie) or sign-out (clear it); see crm_impl.core.ui.web."""
    ticket = st.session_state.pop(_TICKET_KEY, None)
    if ticket:
        st.html(web.ticket_script(ticket), unsafe_allow_javascript=True)
    if st.session_state.pop(_CLEAR_KEY, None):
        st.html(web.clear_script(), unsafe_allow_javascript=True)


ANONYMOUS = Actor(id=None, username="anonymous", roles=())


def actor(user: UserAccount | None = None) -> Actor:
    """The acting user: `user` when the caller already loaded it, else the signed-in one."""
    user = user or current_user()
    if user is None:
        return ANONYMOUS
    return actor_for(user)


def apply_locale(user: UserAccount | None) -> str:
    lang = st.session_state.get("locale") or (user.locale if user else get_settings().locale)
    lang = lang if lang in LANGUAGES else "en"
    set_locale(lang)
    return lang


def uow() -> UnitOfWork:
    return UnitOfWork()
