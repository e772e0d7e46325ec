"""crm-impl entry point: page config, the sign-in gate, and navigation built from the user's roles.

Run through serve.py (`make run`), which adds the session-cookie route, so a sign-in survives a
reload and a link to a page opens it after sign-in.
"""

import streamlit as st

import crm_impl.tables  # noqa: F401  (every table, and the usage rollup's listener, before any write)
from crm_impl.core import chart_theme as theme
from crm_impl.core.config import get_settings
from crm_impl.core.ui import common, login, nav, sidebar
from crm_impl.core.ui import session as ui_session
from crm_impl.pipeline.ui import search as _pipeline_search  # noqa: F401  (joins the sidebar's search box)

common.install_error_handler()  # a page that raises shows a translated message, never a traceback
st.set_page_config(page_title="crm-impl", page_icon=":material/hub:", layout="wide")
ui_session.boot(get_settings().database_url)
theme.enable()
user = ui_session.current_user()
ui_session.apply_locale(user)
ui_session.cookie_scripts()

if user is None:
    # every page's address leads to the sign-in form, and after sign-in to that page
    page = st.navigation(nav.signed_out(login.show), position="hidden")
else:
    page = st.navigation(nav.build(ui_session.actor(user)), expanded=True)
    sidebar.show(user)
page.run()
