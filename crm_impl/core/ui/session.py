"""Who is signed in, for how long, and in which language — kept in st.session_state."""

from __future__ import annotations

import time

import streamlit as st

from crm_impl.core.auth import actor_for
from crm_impl.core.config import get_settings
from crm_impl.core.db import UnitOfWork, get_engine, read_session, upgrade
from crm_impl.core.i18n import LANGUAGES, set_locale
from crm_impl.core.models import UserAccount
from crm_impl.core.permissions import Actor

USER_KEY = "user_id"


@st.cache_resource(show_spinner=False)
def boot(database_url: str) -> bool:
    """Migrate the schema to head once per process and database."""
    upgrade(database_url)
    get_engine(database_url)
    return True


def current_user() -> UserAccount | None:
    """The signed-in, active user; signs out after the configured idle time."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    idle = get_settings().idle_timeout_minutes * 60
    now = time.time()
    last = st.session_state.get("last_seen", now)
    if idle > 0 and now - last > idle:
        sign_out(reason="auth.idle_signed_out")
        return None
    st.session_state["last_seen"] = now
    with read_session() as session:
        user = session.get(UserAccount, user_id)
    if user is None or not user.is_active:
        sign_out()
        return None
    return user


def sign_in(user: UserAccount) -> None:
    """Start the session. A language picked on the sign-in page wins and becomes the user's."""
    chosen = st.session_state.pop("locale_chosen", None)
    st.session_state[USER_KEY] = user.id
    st.session_state["last_seen"] = time.time()
    st.session_state["locale"] = chosen or user.locale
    if chosen and chosen != user.locale:
        from crm_impl.core.users import set_preferences

        with UnitOfWork() as uow:
            set_preferences(session=uow.session, actor=actor_for(user), locale=chosen)
            uow.commit()


def sign_out(reason: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if reason:
        st.session_state["signout_reason"] = reason


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
