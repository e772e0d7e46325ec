"""The app as an ASGI application: Streamlit's pages (app.py) plus the session-cookie route.

`streamlit run serve.py` (what `make run` does) or `uvicorn serve:app`. Running app.py directly
still works, but a reload then signs the user out: only this entry point can set the cookie.
"""

import threading

from streamlit.runtime.pages_manager import PagesManager
from streamlit.starlette import App

from crm_impl.core.ui import common
from crm_impl.core.ui.web import routes

# The app navigates with st.navigation (app.py). Streamlit decides that a script beside a
# `pages/` folder is an old-style multipage app until the first run has called st.navigation, so
# the first visitor of a fresh process opening a link (/pipeline_deal) got "Page not found".
# Streamlit sets this flag to False itself after that first run; set it before.
PagesManager.uses_pages_directory = False


def _warm_up() -> None:
    """statsmodels takes seconds to import (much longer on a busy machine) and only the forecast
    needs it: import it in the background at start, not during the first visitor's page run."""
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401


threading.Thread(target=_warm_up, name="crm-impl-warm-up", daemon=True).start()

# on_script_error: a live fragment refreshing on its own is covered too (app.py installs the
# same handler for each script run)
app = App("app.py", routes=routes(), on_script_error=common.on_script_error)
