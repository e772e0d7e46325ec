"""The pipeline's search results: registered with the sidebar's search box (core), the folded
index cached per data version, and the hits drawn as links to the client and deal pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.config import get_settings
from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.core.ui import search as core_search
from crm_impl.pipeline import ui as pipeline_ui
from crm_impl.pipeline.queries import search as search_queries
from crm_impl.pipeline.search import Results, SearchIndex

PAGE = "pages/pipeline/search.py"
LIMIT = 50
ICONS = {"client": ":material/storefront:", "contact": ":material/person:", "deal": ":material/handshake:"}

core_search.register(PAGE, "pipeline.read")


@st.cache_resource(show_spinner=False, max_entries=2)
def _index(version: int, url: str) -> SearchIndex:
    """Read-only and shared by every session: folded once per data version."""
    with read_session() as session:
        return search_queries.load_index(session)


def results(actor: Actor, query: str) -> Results:
    """The first `LIMIT` matches, best first, and the count of all of them per kind."""
    index = _index(pipeline_ui.data_version(), get_settings().database_url)
    return search_queries.find(index=index, actor=actor, query=query, limit=LIMIT)


def show_hits(hits: pd.DataFrame, stage_names: dict[int, str]) -> None:
    """One line per hit: the label as a link to its page (a contact: its client), below it
    what it is and the secondary text. User text stays plain text."""
    for hit in hits.itertuples():
        kind = t(f"search.kind.{hit.kind}")
        parts = [kind, str(hit.secondary)] if hit.secondary else [kind]
        if hit.kind == "deal" and pd.notna(hit.stage_id):
            parts.append(stage_names.get(int(hit.stage_id), ""))
        with st.container(key=f"hit_{hit.kind}_{hit.id}"):
            if pd.notna(hit.target):
                st.page_link(
                    hit.page,
                    label=common.plain(hit.label),
                    query_params={hit.param: str(int(hit.target))},
                    icon=ICONS[hit.kind],
                )
            else:  # a contact of no client: nothing to open
                st.text(str(hit.label))
            st.caption(common.plain(" · ".join(p for p in parts if p)))
