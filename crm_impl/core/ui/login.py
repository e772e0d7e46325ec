"""The sign-in screen: username and password, optional SSO, and demo one-click sign-in."""

from __future__ import annotations

import streamlit as st

from crm_impl.core import auth
from crm_impl.core.config import get_settings, sso_configured
from crm_impl.core.db import UnitOfWork, read_session
from crm_impl.core.errors import AuthError
from crm_impl.core.i18n import LANGUAGES, language_name, t, tn
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session

DEMO_LOGINS = (
    "admin",
    "management",
    "pm_client",
    "pm_vendor",
    "analyst",
    "consultant",
    "tester",
    "programmer",
    "trainer",
    "sales_manager",
    "sales_rep",
)


def _password_form() -> None:
    with st.form("login"):
        username = st.text_input(t("login.username"), key="login_username")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"), type="primary", icon=":material/login:")
    if submitted:
        try:
            with UnitOfWork() as uow:
                user = auth.authenticate(session=uow.session, username=username, password=password)
        except AuthError as err:
            st.error(common.error_text(err), icon=":material/lock:")
            return
        ui_session.sign_in(user)
        st.rerun()


def _sso() -> None:
    if not sso_configured():
        return
    if not st.user.is_logged_in:
        st.button(t("login.sso"), icon=":material/key:", on_click=st.login)
        return
    try:
        with UnitOfWork() as uow:
            user = auth.sso_sign_in(session=uow.session, email=str(st.user.get("email", "")))
    except AuthError as err:
        st.error(common.error_text(err))
        return
    ui_session.sign_in(user)
    st.rerun()


def _demo() -> None:
    if not get_settings().demo_mode:
        return
    st.subheader(t("login.demo_title"))
    st.info(t("login.demo_on"), icon=":material/science:")
    with read_session() as session:
        demo_users = {u.username: u for u in auth.demo_accounts(session=session)}
        real = auth.real_user_count(session=session)
    if real:
        st.warning(tn("login.demo_real_users", real), icon=":material/warning:")
    st.caption(t("login.demo_hint"))
    # one button per demo role, and only for accounts the demo created (is_demo)
    available = [(login, demo_users[login]) for login in DEMO_LOGINS if login in demo_users]
    cols = st.columns(3)
    for i, (login, user) in enumerate(available):
        if cols[i % 3].button(
            t(f"role.{user.roles[0]}"),
            key=f"demo_{login}",
            icon=":material/person:",
            width="stretch",
        ):
            try:
                with UnitOfWork() as uow:
                    signed_in = auth.demo_sign_in(session=uow.session, username=login)
            except AuthError as err:
                st.error(common.error_text(err))
                return
            ui_session.sign_in(signed_in)
            st.rerun()


def show() -> None:
    st.title(t("login.title"))
    reason = st.session_state.pop("signout_reason", None)
    if reason:
        st.info(t(reason, minutes=get_settings().idle_timeout_minutes))
    lang = st.session_state.get("locale", get_settings().locale)
    choice = st.segmented_control(
        t("sidebar.language"), LANGUAGES, default=lang, format_func=language_name, key="login_language"
    )
    if choice and choice != lang:
        st.session_state["locale"] = st.session_state["locale_chosen"] = choice
        st.rerun()
    left, right = st.columns([1, 1], gap="large")
    with left:
        _password_form()
        _sso()
    with right:
        _demo()
