"""The search box of the sidebar, on every page, and the registry its results page joins.

Core knows no domain: a domain's ui module registers the page that shows the results
(`register("pages/pipeline/search.py", "pipeline.read")`) and app.py imports that module. The
box is shown to whoever may read a registered results page; Enter (or the button) opens it
with the query in the address (`?q=…`), so a link to the results works.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor

PARAM = "q"  # the query parameter holding the search text
MAX_CHARS = 100
BOX_KEY = "sidebar_search_text"


@dataclass(frozen=True)
class Target:
    page: str  # the results page, e.g. "pages/pipeline/search.py"
    action: str  # the read permission it needs


_TARGETS: list[Target] = []


def register(page: str, action: str) -> None:
    """A results page for the search box (once; registering again changes nothing)."""
    target = Target(page, action)
    if target not in _TARGETS:
        _TARGETS.append(target)


def target_for(actor: Actor) -> Target | None:
    """The first registered results page the actor may read, or None (no box then)."""
    return next((tg for tg in _TARGETS if actor.can(tg.action)), None)


def query() -> str:
    """The search text of the address (`?q=`), trimmed; "" when there is none."""
    return str(st.query_params.get(PARAM, "")).strip()[:MAX_CHARS]


def box(actor: Actor) -> None:
    """The search box; on submit, the results page with the query in its address."""
    target = target_for(actor)
    if target is None:
        return
    with st.form("sidebar_search", border=False, enter_to_submit=True):
        text = st.text_input(
            t("search.box"),
            key=BOX_KEY,
            max_chars=MAX_CHARS,
            placeholder=t("search.placeholder"),
            icon=":material/search:",
        )
        submitted = st.form_submit_button(t("search.go"), icon=":material/search:")
    if submitted and text.strip():
        st.switch_page(target.page, query_params={PARAM: text.strip()})
