"""The saved-filters bar of a list page: pick one of one's own (or a shared) filter to apply it,
save the current filters under a name, and rename, update, share or delete one's own. The
values live in crm_impl.core.saved_filters; the page says how to apply them (`apply` sets its
widgets' state, dropping values that no longer exist) and what "the current filters" are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from crm_impl.core import saved_filters as saved
from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common


def _filters(actor: Actor, page: saved.FilterPage) -> dict[int, saved.SavedFilterPublic]:
    with read_session() as session:
        return {f.id: f for f in saved.list_filters(session=session, actor=actor, page=page)}


def _label(f: saved.SavedFilterPublic | None, owners: dict[int, str]) -> str:
    if f is None:
        return t("saved_filter.none")
    if f.mine:
        return f"{f.name} ({t('saved_filter.shared_mark')})" if f.shared else f.name
    return t("saved_filter.by", name=f.name, owner=owners.get(f.user_id, "–"))


def bar(
    *,
    actor: Actor,
    page: saved.FilterPage,
    key: str,
    current: Callable[[], dict[str, Any]],
    apply: Callable[[dict[str, Any]], None],
    owners: dict[int, str],
) -> None:
    """Draw the bar above the page's filter widgets. `apply(criteria)` runs in the selectbox's
    callback (before the widgets are drawn), `current()` after them, when a button is pressed."""
    pick = f"{key}_pick"
    if f"{key}_pending" in st.session_state:  # the filter just saved or deleted
        st.session_state[pick] = st.session_state.pop(f"{key}_pending")
    found = _filters(actor, page)
    if st.session_state.get(pick) not in (None, *found):
        st.session_state[pick] = None  # deleted meanwhile (by another tab)

    def _applied() -> None:
        chosen = found.get(st.session_state.get(pick))  # type: ignore[arg-type]
        apply(dict(chosen.criteria) if chosen is not None else {})

    c = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    chosen_id = c[0].selectbox(
        t("saved_filter.label"),
        [None, *found],
        format_func=lambda i: _label(found.get(i) if i is not None else None, owners),
        key=pick,
        on_change=_applied,
    )
    chosen = found.get(chosen_id) if chosen_id is not None else None
    with c[1].popover(t("saved_filter.save_new"), icon=":material/bookmark_add:"):
        name = st.text_input(t("saved_filter.field.name"), key=f"{key}_new_name", max_chars=saved.NAME_MAX)
        shared = st.checkbox(t("saved_filter.shared"), key=f"{key}_new_shared")
        if st.button(t("saved_filter.save_new"), icon=":material/save:", key=f"{key}_create"):
            common.save(
                saved.create_filter,
                "saved_filter.saved",
                page=page,
                data=saved.SavedFilterCreate(name=name, criteria=current(), shared=shared),
                before_rerun=lambda row: st.session_state.__setitem__(f"{key}_pending", row.id),
            )
    if chosen is None or not chosen.mine:
        return
    with c[2].popover(t("saved_filter.edit"), icon=":material/edit:"):
        new_name = st.text_input(
            t("saved_filter.field.name"),
            value=chosen.name,
            key=f"{key}_rename_{chosen.id}",
            max_chars=saved.NAME_MAX,
        )
        share = st.checkbox(t("saved_filter.shared"), value=chosen.shared, key=f"{key}_share_{chosen.id}")
        keep = st.checkbox(t("saved_filter.take_current"), key=f"{key}_take_{chosen.id}")
        if st.button(t("common.save"), icon=":material/save:", key=f"{key}_update"):
            changes: dict[str, Any] = {"name": new_name, "shared": share}
            if keep:
                changes["criteria"] = current()
            common.save(
                saved.update_filter,
                "saved_filter.updated",
                page=page,
                filter_id=chosen.id,
                expected_version=chosen.version,
                data=saved.SavedFilterUpdate(**changes),
            )
    if c[3].button(t("saved_filter.delete"), icon=":material/delete:", key=f"{key}_delete"):
        common.save(
            saved.delete_filter,
            "saved_filter.deleted",
            page=page,
            filter_id=chosen.id,
            expected_version=chosen.version,
            before_rerun=lambda _: st.session_state.__setitem__(f"{key}_pending", None),
        )
