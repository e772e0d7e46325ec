"""The sidebar: who is signed in and as what, the search box, the active project, language, sign out."""

from __future__ import annotations

import streamlit as st

from crm_impl.core import projects, users
from crm_impl.core.db import read_session
from crm_impl.core.i18n import LANGUAGES, language_name, t
from crm_impl.core.models import UserAccount
from crm_impl.core.ui import search
from crm_impl.core.ui import session as ui_session
from crm_impl.core.ui.common import plain, run


def active_project_id(user: UserAccount) -> int | None:
    """The user's chosen project, else the first one; None when no project exists yet."""
    with read_session() as session:
        ids = [p.id for p in projects.list_projects(session=session)]
    if user.active_project_id in ids:
        return user.active_project_id
    return ids[0] if ids else None


def require_active_project(no_project_key: str) -> int:
    """The signed-in user's active project's id; stops the page with the domain's hint
    (`no_project_key`) when there is none."""
    user = ui_session.current_user()
    pid = active_project_id(user) if user else None
    if pid is None:
        st.info(t(no_project_key), icon=":material/info:")
        st.stop()
    return int(pid)


def _language_changed() -> None:
    lang = st.session_state["sidebar_language"]
    st.session_state["locale"] = lang
    run(users.set_preferences, locale=lang)


def _project_changed() -> None:
    run(users.set_preferences, active_project_id=st.session_state["sidebar_project"])


def show(user: UserAccount) -> None:
    with st.sidebar:
        st.markdown(f"**{plain(user.display_name or user.username)}**")
        st.caption(", ".join(t(f"role.{r}") for r in user.roles))
        search.box(ui_session.actor(user))
        with read_session() as session:
            options: dict[int, str] = {
                p.id: p.name for p in projects.list_projects(session=session) if p.id is not None
            }
        if options:
            ids: list[int] = list(options)
            current = active_project_id(user)
            st.selectbox(
                t("sidebar.project"),
                ids,
                index=ids.index(current) if current in ids else 0,
                format_func=lambda project_id: options.get(project_id, ""),
                key="sidebar_project",
                on_change=_project_changed,
            )
        lang = st.session_state.get("locale", user.locale)
        st.selectbox(
            t("sidebar.language"),
            list(LANGUAGES),
            index=LANGUAGES.index(lang),
            format_func=language_name,
            key="sidebar_language",
            on_change=_language_changed,
        )
        st.button(
            t("sidebar.sign_out"), icon=":material/logout:", key="sign_out", on_click=ui_session.sign_out
        )
