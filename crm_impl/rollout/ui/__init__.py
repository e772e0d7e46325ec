"""Shared widgets of the rollout-plan pages: the active project guard, the save of a form, an
editable table whose changes are saved in one unit of work (all or nothing, version-checked,
the failing row named), enum columns shown translated, and filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import t, tn
from crm_impl.core.ui import common, sidebar
from crm_impl.rollout.services import grid, projects
from crm_impl.rollout.services.checks import Fields
from crm_impl.rollout.services.grid import GridRow


def save_form(fn: Callable[..., Any], success_key: str, /, **kwargs: Any) -> Any:
    """`common.save` for a form built with `common.form`: on failure the translated message and
    the form keeps what the user typed; on success every form starts empty and the page reruns
    with `success_key` shown after the rerun (every create service returns the new row)."""
    result = common.run(fn, success_key, **kwargs)
    if result is not None:
        common.forms_saved()
        common.rerun()
    return result


def project_id() -> int:
    """The active project's id; stops the page with a hint when there is none."""
    return sidebar.require_active_project("plan.no_project")


def project(pid: int) -> Any:
    with read_session() as session:
        return projects.get_project(session=session, project_id=pid)


def select_column(prefix: str, options: tuple[str, ...] | list[str], label_key: str, **kw: Any) -> Any:
    return st.column_config.SelectboxColumn(
        t(label_key), options=list(options), format_func=lambda v: t(f"{prefix}.{v}") if v else "", **kw
    )


def person_column(names: dict[int, str], label_key: str, **kw: Any) -> Any:
    return st.column_config.SelectboxColumn(
        t(label_key), options=list(names), format_func=lambda v: names.get(int(v), "") if v else "", **kw
    )


def edit_table(
    df: pd.DataFrame,
    *,
    key: str,
    fields: Fields[Any],
    column_config: dict[str, Any],
    update: Callable[..., Any] | None,
    id_arg: str,
    can_edit: bool,
    hidden: tuple[str, ...] = ("id", "version"),
) -> None:
    """Show `df`; when the user may edit, the entity's editable fields (its Update model's
    fields, those shown) become an editor in a form, and “Save changes” sends every edited row
    to `update(<id_arg>=id, expected_version=v, changes=<typed update>)` in one transaction:
    all rows or none, a refusal naming the row."""
    view = df.reset_index(drop=True)
    order = [c for c in view.columns if c not in hidden and c in column_config]
    if not can_edit or update is None:
        st.dataframe(
            view,
            placeholder=common.EMPTY,
            hide_index=True,
            width="stretch",
            column_order=order,
            column_config=column_config,
        )
        return
    editable = [c for c in fields.names if c in order]
    with st.form(f"{key}_form", border=False):
        st.data_editor(
            view,
            key=key,
            placeholder=common.EMPTY,
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
    rows = []
    for pos, cells in sorted(edits.items(), key=lambda item: int(item[0])):
        row = view.iloc[int(pos)]
        changes = {c: v for c, v in cells.items() if c in editable}
        if changes:
            rows.append(GridRow(int(pos) + 1, int(row["id"]), int(row["version"]), changes))
    if not rows:
        st.toast(t("plan.nothing_changed"), icon=":material/info:")
        return
    saved = common.run(grid.save_rows, None, update=update, fields=fields, id_arg=id_arg, rows=rows)
    if saved is not None:
        st.session_state["_flash"] = tn("plan.saved_n", saved)
        common.rerun()


def status_filter(
    df: pd.DataFrame, column: str, prefix: str, options: tuple[str, ...], *, key: str
) -> pd.DataFrame:
    chosen = st.multiselect(
        t("plan.filter_status"),
        list(options),
        format_func=lambda v: t(f"{prefix}.{v}"),
        key=key,
        placeholder=t("common.choose_many"),
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
