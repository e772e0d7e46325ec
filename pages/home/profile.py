"""My profile: change my own password."""

import streamlit as st

from crm_impl.core import auth, users
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import AuthError
from crm_impl.core.i18n import t
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session

actor = common.page("pages/home/profile.py")
st.caption(t("account.signed_in_as", username=common.plain(actor.username)))

with st.form("change_password", clear_on_submit=True):
    current = st.text_input(t("account.current_password"), type="password")
    new = st.text_input(t("users.new_password"), type="password", help=t("users.password_help"))
    if st.form_submit_button(t("account.change_password"), type="primary", icon=":material/password:"):
        try:
            with UnitOfWork() as uow:
                auth.authenticate(session=uow.session, username=actor.username, password=current)
        except AuthError as err:
            st.error(common.error_text(err), icon=":material/lock:")
        else:
            # the change ends every session of this user (other browsers sign in again with the
            # new password); this tab goes on in a fresh session
            common.save(
                users.reset_password,
                "users.password_reset",
                user_id=actor.id,
                new_password=new,
                before_rerun=lambda _: ui_session.renew(actor.id),
            )
