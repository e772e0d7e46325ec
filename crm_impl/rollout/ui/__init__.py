"""Shared widgets of the rollout-plan pages: the active project guard, an editable table whose
changes are saved in one unit of work (all or nothing, version-checked), enum columns shown
translated, and filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from crm_impl.core.db import read_session
from crm_impl.core.i18n import t, tn
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common, sidebar
from crm_impl.core.ui import session as ui_session
from crm_impl.rollout.services import projects


def save(fn: Callable[..., Any], success_key: str | None, /, **kwargs: Any) -> Any:
    """Run a service call (see `common.run`); on success rerun the page so every table shows the
    change, and confirm with `success_key` after the rerun."""
    result = common.run(fn, None, **kwargs)
    if result is not None:
        st.session_state["plan_flash"] = t(success_key) if success_key else None
        common.forms_saved()
        st.rerun()
    return result


def _flash() -> None:
    message = st.session_state.pop("plan_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def project_id() -> int:
    """The active project's id; stops the page with a hint when there is none. Shows the
    confirmation of the write that caused this rerun."""
    _flash()
    user = ui_session.current_user()
    pid = sidebar.active_project_id(user) if user else None
    if pid is None:
        st.info(t("plan.no_project"), icon=":material/info:")
        st.stop()
    return int(pid)


def project(pid: int) -> Any:
    with read_session() as session:
        return projects.get_project(session=session, project_id=pid)


def batch(*, session: Session, actor: Actor, calls: list[tuple[Callable[..., Any], dict[str, Any]]]) -> int:
    """Run several service calls in one transaction (the caller commits once)."""
    for fn, kwargs in calls:
        fn(session=session, actor=actor, **kwargs)
    return len(calls)


def select_column(prefix: str, options: tuple[str, ...] | list[str], label_key: str, **kw: Any) -> Any:
    return st.column_config.SelectboxColumn(
        t(label_key), options=list(options), format_func=lambda v: t(f"{prefix}.{v}") if v else "", **kw
    )


def person_column(names: dict[int, str], label_key: str, **kw: Any) -> Any:
    return st.column_config.SelectboxColumn(
        t(label_key), options=list(names), format_func=lambda v: names.get(v, "") if v else "", **kw
    )


def edit_table(
    df: pd.DataFrame,
    *,
    key: str,
    editable: list[str],
    column_config: dict[str, Any],
    update: Callable[..., Any] | None,
    id_arg: str,
    can_edit: bool,
    hidden: tuple[str, ...] = ("id", "version"),
) -> None:
    """Show `df`; when the user may edit, the `editable` columns become an editor in a form and
    “Save changes” sends every edited row to `update(<id_arg>=id, expected_version=v, **cells)`."""
    view = df.reset_index(drop=True)
    order = [c for c in view.columns if c not in hidden and c in column_config]
    if not can_edit or update is None:
        st.dataframe(view, hide_index=True, width="stretch", column_order=order, column_config=column_config)
        return
    with st.form(f"{key}_form", border=False):
        st.data_editor(
            view,
            key=key,
            hide_index=True,
            width="stretch",
            column_order=order,
            column_config=column_config,
            disabled=[c for c in view.columns if c not in editable],
            num_rows="fixed",
        )
        submitted = st.form_submit_button(t("plan.save_changes"), icon=":material/save:")
    if not submitted:
        return
    edits = st.session_state.get(key, {}).get("edited_rows", {})
    calls = []
    for pos, cells in edits.items():
        row = view.iloc[int(pos)]
        changes = {c: v for c, v in cells.items() if c in editable}
        if changes:
            calls.append(
                (update, {id_arg: int(row["id"]), "expected_version": int(row["version"]), **changes})
            )
    if not calls:
        st.toast(t("plan.nothing_changed"), icon=":material/info:")
        return
    if common.run(batch, None, calls=calls) is not None:
        st.session_state["plan_flash"] = tn("plan.saved_n", len(calls))
        st.rerun()


def status_filter(
    df: pd.DataFrame, column: str, prefix: str, options: tuple[str, ...], *, key: str
) -> pd.DataFrame:
    chosen = st.multiselect(
        t("plan.filter_status"), list(options), format_func=lambda v: t(f"{prefix}.{v}"), key=key
    )
    return df[df[column].isin(chosen)] if chosen else df


def text_filter(df: pd.DataFrame, columns: list[str], *, key: str) -> pd.DataFrame:
    needle = st.text_input(t("plan.filter_search"), key=key, placeholder="…").strip().lower()
    if not needle:
        return df
    mask = pd.Series(False, index=df.index)
    for col in columns:
        mask |= df[col].fillna("").astype(str).str.lower().str.contains(needle, regex=False)
    return df[mask]


def translated(df: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    """A copy for CSV export with an enum column in the user's language."""
    return df.assign(**{column: df[column].map(lambda v: t(f"{prefix}.{v}") if isinstance(v, str) else v)})
