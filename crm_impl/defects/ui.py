"""Widgets of the defects pages: the active project, cached lookups and read models, the filter
bar with saved filters, the defect table with row selection, the defect form with likely
duplicates, the transition inputs and the translated enum labels.

Every write goes through `common.save` (or `common.run` when the page must not rerun) and the
services of `crm_impl.defects.services`; reads are cached per data version."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session, SQLModel, col, select

from crm_impl.core import audit
from crm_impl.core.config import get_settings
from crm_impl.core.db import read_session
from crm_impl.core.i18n import get_locale, t, tn
from crm_impl.core.models import Person, UserAccount, utcnow
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common, sidebar
from crm_impl.defects import models as dm
from crm_impl.defects import queries, services
from crm_impl.rollout.models import Requirement

NONE = "–"
FILTER_KEYS = ("status", "severity", "module", "release", "assignee", "mine", "text")


# ---- project, version, lookups ---------------------------------------------------------------


def project_id() -> int:
    """The active project's id; stops the page with a hint when there is none."""
    return sidebar.require_active_project("defects.ui.no_project")


def data_version() -> int:
    with read_session() as session:
        return audit.data_version(session=session)


def _key() -> tuple[int, str]:
    return data_version(), get_settings().database_url


@st.cache_data(show_spinner=False, max_entries=8)
def _lookups(version: int, url: str, pid: int) -> dict[str, Any]:
    with read_session() as session:
        return _read_lookups(session, pid)


def _read_lookups(session: Session, pid: int) -> dict[str, Any]:
    releases = session.exec(
        select(dm.Release)
        .where(col(dm.Release.project_id) == pid)
        .order_by(col(dm.Release.planned_date), col(dm.Release.id))
    ).all()
    users = session.exec(
        select(UserAccount, Person.side)
        .join(Person, col(Person.id) == col(UserAccount.person_id), isouter=True)
        .where(col(UserAccount.is_active))
        .order_by(col(UserAccount.display_name))
    ).all()
    requirements = session.exec(
        select(Requirement.id, Requirement.title, Requirement.business_process)
        .where(col(Requirement.project_id) == pid)
        .order_by(col(Requirement.id))
    ).all()
    modules = session.exec(select(dm.Defect.module).where(col(dm.Defect.project_id) == pid).distinct()).all()
    names = {int(u.id): u.display_name or u.username for u, _ in users if u.id is not None}
    return {
        "releases": {int(r.id): r.name for r in releases if r.id is not None},
        "users": names,
        "programmers": {
            int(u.id): names[int(u.id)] for u, _ in users if u.id is not None and "programmer" in u.roles
        },
        "sides": {int(u.id): side or "" for u, side in users if u.id is not None},
        "requirements": {int(r[0] or 0): r[1] for r in requirements},
        "processes": sorted({r[2] for r in requirements if r[2]}),
        "modules": sorted({m for m in modules if m}),
    }


def cols(spec: Any) -> list[Any]:
    """`st.columns` as a list (rows of different widths reuse one name)."""
    return list(st.columns(spec))


def lookups(pid: int) -> dict[str, Any]:
    return _lookups(*_key(), pid)


def is_client_tester(actor: Actor, look: dict[str, Any]) -> bool:
    """The client-side tester: a tester whose person is on the client side (slide 9)."""
    return "tester" in actor.roles and actor.id is not None and look["sides"].get(actor.id) == "client"


# ---- read models ------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def _defects(version: int, url: str, pid: int) -> pd.DataFrame:
    with read_session() as session:
        rows = session.exec(select(dm.Defect).where(col(dm.Defect.project_id) == pid)).all()
        look = _read_lookups(session, pid)
    columns = list(dm.Defect.model_fields)
    df = pd.DataFrame([r.model_dump() for r in rows], columns=columns)
    users, releases = look["users"], look["releases"]
    for name, source, names in (
        ("reporter", "reporter_id", users),
        ("assignee", "assignee_id", users),
        ("found_in", "found_in_release_id", releases),
        ("target", "target_release_id", releases),
        ("fixed_in", "fixed_in_release_id", releases),
        ("requirement", "requirement_id", look["requirements"]),
    ):
        df[name] = df[source].map(lambda v, n=names: n.get(int(v), "") if pd.notna(v) else "")
    return df.sort_values("id", ascending=False).reset_index(drop=True)


def defects(pid: int) -> pd.DataFrame:
    """Every defect of the project with names for its people and releases, newest first."""
    return _defects(*_key(), pid)


def get_defect(defect_id: int) -> dm.Defect | None:
    with read_session() as session:
        return session.get(dm.Defect, defect_id)


def timeline(defect_id: int) -> pd.DataFrame:
    """The defect's status changes and comments in time order (D2's read model), statuses in
    the user's language."""
    with read_session() as session:
        df = queries.timeline(session=session, defect_id=defect_id)
    return df.assign(
        from_status=df["from_status"].map(lambda v: label("status", v)),
        to_status=df["to_status"].map(lambda v: label("status", v)),
    )


@st.cache_data(show_spinner=False, max_entries=32)
def _listed(version: int, url: str, pid: int, filters: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    with read_session() as session:
        return queries.defect_list(session=session, project_id=pid, **dict(filters))


def defect_list(pid: int, criteria: dict[str, Any], actor: Actor) -> pd.DataFrame:
    """The filtered list (D2's query), then the title / # search."""
    filters = {
        "status": tuple(criteria.get("status") or ()),
        "severity": tuple(criteria.get("severity") or ()),
        "module": tuple(criteria.get("module") or ()),
        "release_id": tuple(criteria.get("release") or ()),
        "assignee_id": tuple(criteria.get("assignee") or ()),
        "mine": actor.id if criteria.get("mine") else None,
        "sort": "id",
        "descending": True,
    }
    df = _listed(*_key(), pid, tuple(filters.items()))
    needle = str(criteria.get("text") or "").strip().lower()
    if needle:
        df = df[
            df["title"].str.lower().str.contains(needle, regex=False)
            | (df["id"].astype(str) == needle.lstrip("#"))
        ]
    return df


def work_of(pid: int, actor: Actor, role: Any) -> pd.DataFrame:
    with read_session() as session:
        return queries.my_work(session=session, project_id=pid, user_id=int(actor.id or 0), role=role)


# ---- labels -----------------------------------------------------------------------------------


def label(kind: str, value: Any) -> str:
    """A stored enum value in the user's language (`defects.<kind>.<value>`), a dash for none."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return NONE
    return t(f"defects.{kind}.{value}")


def field(name: str) -> str:
    return t(f"defects.field.{name}")


def pick(
    name: str,
    options: dict[Any, str] | Iterable[str],
    *,
    kind: str | None = None,
    value: Any = None,
    optional: bool = False,
    where: Any = None,
    **kw: Any,
) -> Any:
    """A selectbox over ids (with their names) or enum values (with their labels)."""
    names: dict[Any, str] = (
        dict(options) if isinstance(options, dict) else {v: label(kind or name, v) for v in options}
    )
    choices: list[Any] = ([None] if optional else []) + list(names)
    index = choices.index(value) if value in choices else 0
    return (where or st).selectbox(
        field(name),
        choices,
        index=index,
        format_func=lambda v: NONE if v is None else names.get(v, str(v)),
        placeholder=t("common.choose"),
        **kw,
    )


def translated(df: pd.DataFrame) -> pd.DataFrame:
    """Enum columns in the user's language (for tables and exports)."""
    out = df.copy()
    for column, kind in (
        ("status", "status"),
        ("severity", "severity"),
        ("priority", "priority"),
        ("reproducibility", "reproducibility"),
        ("environment", "environment"),
    ):
        if column in out:
            out[column] = out[column].map(lambda v, k=kind: label(k, v))
    return out


# ---- the list: filters, saved filters, table, bulk change -------------------------------------


def _saved_filters(user_id: int | None) -> dict[int, tuple[str, dict[str, Any]]]:
    if user_id is None:
        return {}
    with read_session() as session:
        rows = session.exec(
            select(dm.SavedFilter)
            .where(col(dm.SavedFilter.user_id) == user_id, col(dm.SavedFilter.page_key) == "defects.list")
            .order_by(col(dm.SavedFilter.name))
        ).all()
    return {int(r.id): (r.name, dict(r.criteria)) for r in rows if r.id is not None}


def _apply_saved(saved: dict[int, tuple[str, dict[str, Any]]]) -> None:
    chosen = st.session_state.get("defects_saved_pick")
    criteria = saved.get(chosen, ("", {}))[1] if chosen is not None else {}
    for key in FILTER_KEYS:
        default: Any = False if key == "mine" else "" if key == "text" else []
        st.session_state[f"defects_f_{key}"] = criteria.get(key, default)


def filter_bar(actor: Actor, look: dict[str, Any]) -> dict[str, Any]:
    """The filters (status, severity, module, release, assignee, mine, open only) and the user's
    saved filters: pick one to apply it, save the current filters under a name, delete one."""
    saved = _saved_filters(actor.id)
    top = cols([3, 1])
    chosen = top[0].selectbox(
        t("defects.list.saved_filter"),
        [None, *saved],
        format_func=lambda v: t("defects.list.no_saved_filter") if v is None else saved[v][0],
        key="defects_saved_pick",
        on_change=_apply_saved,
        args=(saved,),
    )
    if chosen is not None and top[1].button(
        t("defects.list.delete_filter"), icon=":material/delete:", key="defects_filter_delete"
    ):
        common.save(services.delete_filter, "defects.list.filter_deleted", filter_id=int(chosen))
    c = cols(3)
    criteria: dict[str, Any] = {
        "status": c[0].multiselect(
            field("status"),
            list(dm.STATUSES),
            format_func=lambda v: label("status", v),
            key="defects_f_status",
            placeholder=t("common.choose_many"),
        ),
        "severity": c[1].multiselect(
            field("severity"),
            list(dm.SEVERITIES),
            format_func=lambda v: label("severity", v),
            key="defects_f_severity",
            placeholder=t("common.choose_many"),
        ),
        "module": c[2].multiselect(
            field("module"), look["modules"], key="defects_f_module", placeholder=t("common.choose_many")
        ),
        "release": c[0].multiselect(
            field("release"),
            list(look["releases"]),
            format_func=lambda v: look["releases"].get(v, str(v)),
            key="defects_f_release",
            placeholder=t("common.choose_many"),
        ),
        "assignee": c[1].multiselect(
            field("assignee"),
            list(look["users"]),
            format_func=lambda v: look["users"].get(v, str(v)),
            key="defects_f_assignee",
            placeholder=t("common.choose_many"),
        ),
    }
    with c[2]:
        criteria["mine"] = st.toggle(t("defects.list.mine"), key="defects_f_mine")
        criteria["text"] = st.text_input(t("defects.list.search"), key="defects_f_text", placeholder="…")
    with st.popover(t("defects.list.save_filter"), icon=":material/bookmark_add:"):
        name = st.text_input(field("filter_name"), key="defects_filter_name")
        if st.button(t("defects.list.save_filter"), icon=":material/save:", key="defects_filter_save"):
            common.save(
                services.save_filter,
                "defects.list.filter_saved",
                name=name,
                criteria={k: v for k, v in criteria.items() if v},
            )
    return criteria


LIST_COLUMNS = [
    "id",
    "title",
    "status",
    "severity",
    "priority",
    "module",
    "environment",
    "assignee",
    "reporter",
    "found_in",
    "target",
    "fixed_in",
    "created_at",
    "updated_at",
]


def list_column_config() -> dict[str, Any]:
    return {
        "id": st.column_config.NumberColumn("#", format="%d"),
        "title": st.column_config.TextColumn(field("title"), width="large"),
        "status": field("status"),
        "severity": field("severity"),
        "priority": field("priority"),
        "module": field("module"),
        "environment": field("environment"),
        "assignee": field("assignee"),
        "reporter": field("reporter"),
        "found_in": field("found_in_release"),
        "target": field("target_release"),
        "fixed_in": field("fixed_in_release"),
        "created_at": st.column_config.DatetimeColumn(field("created_at"), format="YYYY-MM-DD"),
        "updated_at": st.column_config.DatetimeColumn(field("updated_at"), format="YYYY-MM-DD"),
    }


def defect_table(df: pd.DataFrame, *, key: str, multi: bool = False) -> list[int]:
    """The defects as a sortable table (click a header), translated; the user selects rows (one,
    or several with `multi`) and gets their ids back, with a link to open each selected one."""
    view = translated(df[LIST_COLUMNS]).reset_index(drop=True)
    event = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=LIST_COLUMNS,
        column_config=list_column_config(),
        key=key,
        on_select="rerun",
        selection_mode="multi-row" if multi else "single-row",
    )
    ids = [int(view.iloc[r]["id"]) for r in event.selection.rows]
    for defect_id in ids[:5]:
        open_link(defect_id, str(view.loc[view["id"] == defect_id, "title"].iloc[0]))
    return ids


def open_link(defect_id: int, title: str, where: Any = None) -> None:
    """A link to the defect's page inside this session (a new tab would sign the user out)."""
    (where or st).page_link(
        "pages/defects/defect.py",
        label=common.plain(f"#{defect_id} {title}"),
        query_params={"id": str(defect_id)},
        icon=":material/open_in_new:",
    )


def exports(df: pd.DataFrame, *, key: str) -> None:
    """CSV and Excel of the shown defects, with labels in the user's language (formula-safe)."""
    out = translated(df[[c for c in LIST_COLUMNS if c in df]])
    out = out.rename(
        columns={c: list_column_config()[c] if isinstance(list_column_config()[c], str) else c for c in out}
    )
    c = cols(2)
    common.csv_download(out, "defects.csv", key=f"{key}_csv", where=c[0])
    common.xlsx_download(
        {t("page.defects_list"): out},
        "defects.xlsx",
        key=f"{key}_xlsx",
        label_key="defects.list.export_xlsx",
        where=c[1],
    )


def bulk_change(ids: list[int], look: dict[str, Any]) -> None:
    """A PM changes the selected defects in one all-or-nothing call: either move them to a
    status (with an assignee for assigned) or set priority / target release."""
    st.caption(tn("defects.list.bulk_selected", len(ids)))
    move, fields_tab = st.tabs([t("defects.list.bulk_status"), t("defects.list.bulk_fields")])
    with move, st.form("defects_bulk_move"):
        c = cols(3)
        to_status = pick("status", dm.STATUSES, where=c[0], key="bulk_status")
        assignee = pick("assignee", look["programmers"], optional=True, where=c[1], key="bulk_assignee")
        release = pick("release", look["releases"], optional=True, where=c[2], key="bulk_release")
        note = st.text_input(field("comment"), key="bulk_comment")
        if st.form_submit_button(t("defects.list.bulk_apply"), icon=":material/done_all:", type="primary"):
            common.save(
                services.bulk_change,
                "defects.list.bulk_done",
                defect_ids=ids,
                data=dm.DefectTransition(
                    to_status=to_status, comment=note, assignee_id=assignee, release_id=release
                ),
            )
    with fields_tab, st.form("defects_bulk_fields"):
        c = cols(2)
        priority = pick("priority", dm.PRIORITIES, optional=True, where=c[0], key="bulk_priority")
        target = pick("target_release", look["releases"], optional=True, where=c[1], key="bulk_target")
        if st.form_submit_button(t("defects.list.bulk_apply"), icon=":material/done_all:", type="primary"):
            changes = {
                k: v for k, v in (("priority", priority), ("target_release_id", target)) if v is not None
            }
            if not changes:
                st.toast(t("defects.ui.nothing_changed"), icon=":material/info:")
            else:
                common.save(
                    services.bulk_change,
                    "defects.list.bulk_done",
                    defect_ids=ids,
                    data=dm.DefectUpdate.model_validate(changes),
                )


# ---- filing and editing a defect --------------------------------------------------------------


def _k(name: str) -> str:
    """Widget keys of the new-defect form; a successful save starts a fresh set."""
    return f"defect_new_{name}_{st.session_state.get('_forms_saved', 0)}"


def similar(pid: int, title: str, steps: str) -> None:
    """Likely duplicates of what is being typed, before the save (fuzzy title and steps)."""
    if len(title.strip()) < 4:
        return
    with read_session() as session:
        found = services.similar_defects(session=session, project_id=pid, title=title, steps=steps)
    if not found:
        return
    st.warning(t("defects.new.similar_found"), icon=":material/content_copy:")
    st.dataframe(
        pd.DataFrame(
            [{"id": int(i), "title": str(title_), "score": float(score)} for i, title_, score in found]
        ),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "title": st.column_config.TextColumn(field("title"), width="large"),
            "score": st.column_config.ProgressColumn(
                t("defects.new.similarity"), min_value=0, max_value=100, format="%.0f"
            ),
        },
        key="defects_similar",
    )
    for i, title_, _ in found[:3]:
        open_link(int(i), str(title_))


def new_defect_form(pid: int, look: dict[str, Any], on_saved: Callable[[Any], None]) -> None:
    """Every field of a defect; title and steps are typed outside a form so the likely
    duplicates appear while typing, before the save."""
    title = st.text_input(field("title"), key=_k("title"), max_chars=200)
    steps = st.text_area(field("steps"), key=_k("steps"))
    similar(pid, title, steps)
    c = cols(2)
    expected = c[0].text_area(field("expected"), key=_k("expected"))
    actual = c[1].text_area(field("actual"), key=_k("actual"))
    c = cols(4)
    severity = pick("severity", dm.SEVERITIES, value="major", where=c[0], key=_k("severity"))
    priority = pick("priority", dm.PRIORITIES, value="P3", where=c[1], key=_k("priority"))
    reproducibility = pick("reproducibility", dm.REPRODUCIBILITY, where=c[2], key=_k("repro"))
    environment = pick("environment", dm.ENVIRONMENTS, where=c[3], key=_k("env"))
    c = cols(4)
    module = c[0].text_input(field("module"), key=_k("module"), max_chars=80)
    found_in = pick("found_in_release", look["releases"], optional=True, where=c[1], key=_k("found"))
    target = pick("target_release", look["releases"], optional=True, where=c[2], key=_k("target"))
    requirement = pick("requirement", look["requirements"], optional=True, where=c[3], key=_k("req"))
    links = st.text_area(field("links"), key=_k("links"), height=68)
    if st.button(t("defects.new.submit"), type="primary", icon=":material/bug_report:", key=_k("submit")):
        common.save(
            services.report_defect,
            "defects.new.filed",
            project_id=pid,
            data=dm.DefectCreate(
                title=title,
                steps=steps,
                expected=expected,
                actual=actual,
                severity=severity,
                priority=priority,
                module=module,
                reproducibility=reproducibility,
                environment=environment,
                found_in_release_id=found_in,
                target_release_id=target,
                requirement_id=requirement,
                links=links,
            ),
            before_rerun=on_saved,
        )


def edit_defect_form(defect: dm.Defect, look: dict[str, Any]) -> None:
    """The editable fields (DefectUpdate), saved version-checked: only what changed is sent."""
    shown = common.shown_version(f"defect_edit_{defect.id}", defect.version)  # as the form showed it
    with st.form(f"defect_edit_{defect.id}_{shown}"):
        title = st.text_input(field("title"), value=defect.title, max_chars=200)
        steps = st.text_area(field("steps"), value=defect.steps)
        c = cols(2)
        expected = c[0].text_area(field("expected"), value=defect.expected)
        actual = c[1].text_area(field("actual"), value=defect.actual)
        c = cols(4)
        values: dict[str, Any] = {
            "title": title,
            "steps": steps,
            "expected": expected,
            "actual": actual,
            "severity": pick("severity", dm.SEVERITIES, value=defect.severity, where=c[0]),
            "priority": pick("priority", dm.PRIORITIES, value=defect.priority, where=c[1]),
            "reproducibility": pick(
                "reproducibility", dm.REPRODUCIBILITY, value=defect.reproducibility, where=c[2]
            ),
            "environment": pick("environment", dm.ENVIRONMENTS, value=defect.environment, where=c[3]),
        }
        c = cols(4)
        values["module"] = c[0].text_input(field("module"), value=defect.module, max_chars=80)
        values["found_in_release_id"] = pick(
            "found_in_release", look["releases"], optional=True, value=defect.found_in_release_id, where=c[1]
        )
        values["target_release_id"] = pick(
            "target_release", look["releases"], optional=True, value=defect.target_release_id, where=c[2]
        )
        values["requirement_id"] = pick(
            "requirement", look["requirements"], optional=True, value=defect.requirement_id, where=c[3]
        )
        values["links"] = st.text_area(field("links"), value=defect.links, height=68)
        if st.form_submit_button(t("defects.defect.save"), icon=":material/save:"):
            _save_changed(
                services.update_defect,
                "defects.defect.saved",
                defect,
                shown,
                values,
                dm.DefectUpdate,
                "defect_id",
            )


def _save_changed(
    fn: Callable[..., Any],
    success_key: str,
    row: Any,
    shown_version: int,
    values: dict[str, Any],
    update: type[SQLModel],
    id_name: str,
) -> None:
    """Save only what the form changed on `row` (checked against `shown_version`, the version
    the form showed); say so when nothing did and nobody else changed it meanwhile."""
    changes = {k: v for k, v in values.items() if v != getattr(row, k)}
    if not changes and shown_version == row.version:
        st.toast(t("defects.ui.nothing_changed"), icon=":material/info:")
        return
    kwargs: dict[str, Any] = {
        id_name: int(row.id or 0),
        "expected_version": shown_version,
        "data": update.model_validate(changes),
    }
    common.save(fn, success_key, **kwargs)


# ---- transitions ------------------------------------------------------------------------------


def allowed(actor: Actor, defect: dm.Defect) -> list[str]:
    with read_session() as session:
        return list(services.allowed_transitions(session=session, actor=actor, defect=defect))


def transition_form(
    actor: Actor, defect: dm.Defect, look: dict[str, Any], project_defects: pd.DataFrame
) -> None:
    """Only the moves this user may make from the defect's status, each with the inputs it
    needs: an assignee for assigned, the release for fixed / verified, the original for
    duplicate, a comment (required for rejected, duplicate and won't fix)."""
    moves = allowed(actor, defect)
    if not moves:
        st.info(t("defects.defect.no_moves"), icon=":material/lock:")
        return
    to_status = st.radio(
        t("defects.defect.move_to"),
        moves,
        format_func=lambda v: label("status", v),
        horizontal=True,
        key=f"move_{defect.id}",
    )
    shown = common.shown_version(f"defect_move_{defect.id}", defect.version)  # as the form showed it
    with st.form(f"transition_{defect.id}_{shown}"):
        assignee = release = duplicate_of = None
        if to_status == "assigned":
            assignee = pick(
                "assignee", look["programmers"], value=defect.assignee_id, key=f"move_assignee_{defect.id}"
            )
        if to_status in ("fixed", "verified", "reopened", "in_retest"):
            default = defect.fixed_in_release_id or defect.target_release_id
            release = pick(
                "release",
                look["releases"],
                optional=to_status != "fixed",
                value=default,
                key=f"move_release_{defect.id}",
            )
        if to_status == "duplicate":
            others = project_defects[project_defects["id"] != defect.id]
            originals = dict(
                zip(
                    others["id"].astype(int),
                    "#" + others["id"].astype(str) + " " + others["title"],
                    strict=True,
                )
            )
            duplicate_of = pick("duplicate_of", originals, key=f"move_dup_{defect.id}")
        needed = to_status in dm.RESOLVED_WITHOUT_FIX
        comment = st.text_area(
            field("comment") + (" *" if needed else ""),
            key=f"move_comment_{defect.id}",
            help=t("defects.defect.comment_needed") if needed else None,
        )
        if st.form_submit_button(
            t("defects.defect.move", status=label("status", to_status)),
            type="primary",
            icon=":material/arrow_forward:",
        ):
            common.save(
                services.transition,
                "defects.defect.moved",
                defect_id=int(defect.id or 0),
                expected_version=shown,
                data=dm.DefectTransition(
                    to_status=to_status,
                    comment=comment,
                    assignee_id=assignee,
                    release_id=release,
                    duplicate_of_id=duplicate_of,
                ),
            )


def signoff(actor: Actor, defect: dm.Defect, look: dict[str, Any]) -> None:
    """The client tester's sign-off of a defect found on real data."""
    if defect.environment != "real_data":
        return
    if defect.client_signoff_at is not None:
        who = look["users"].get(defect.client_signoff_by_id or 0, NONE)
        st.success(t("defects.defect.signed_off", who=common.plain(who)), icon=":material/verified:")
        return
    if actor.can("defect.signoff") and is_client_tester(actor, look):
        shown = common.shown_version(f"defect_signoff_{defect.id}", defect.version)
        if st.button(t("defects.defect.signoff"), type="primary", icon=":material/verified_user:"):
            common.save(
                services.client_signoff,
                "defects.defect.signed",
                defect_id=int(defect.id or 0),
                expected_version=shown,
            )
    else:
        st.info(t("defects.defect.awaiting_signoff"), icon=":material/hourglass_top:")


def field_table(defect: dm.Defect, look: dict[str, Any]) -> None:
    """The defect's fields as a two-column table: user text stays data, never Markdown."""
    releases, users = look["releases"], look["users"]

    def name(names: dict[int, str], v: int | None) -> str:
        return names.get(v, NONE) if v is not None else NONE

    rows = [
        ("status", label("status", defect.status)),
        ("severity", label("severity", defect.severity)),
        ("priority", label("priority", defect.priority)),
        ("module", defect.module or NONE),
        ("reproducibility", label("reproducibility", defect.reproducibility)),
        ("environment", label("environment", defect.environment)),
        ("found_in_release", name(releases, defect.found_in_release_id)),
        ("target_release", name(releases, defect.target_release_id)),
        ("fixed_in_release", name(releases, defect.fixed_in_release_id)),
        ("reporter", name(users, defect.reporter_id)),
        ("assignee", name(users, defect.assignee_id)),
        ("requirement", name(look["requirements"], defect.requirement_id)),
        ("duplicate_of", f"#{defect.duplicate_of_id}" if defect.duplicate_of_id else NONE),
        ("resolution", defect.resolution or NONE),
        ("links", defect.links or NONE),
    ]
    st.dataframe(
        pd.DataFrame({"field": [field(k) for k, _ in rows], "value": [v for _, v in rows]}),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        height=35 * (len(rows) + 1) + 3,
        column_config={
            "field": st.column_config.TextColumn(t("defects.defect.field_column")),
            "value": st.column_config.TextColumn(t("defects.defect.value_column"), width="large"),
        },
    )


def locale() -> str:
    return get_locale()


def comment_form(defect_id: int) -> None:
    with common.form(f"comment_{defect_id}"):
        body = st.text_area(field("body"))
        if st.form_submit_button(t("defects.defect.add_comment"), icon=":material/add_comment:"):
            result = common.run(
                services.add_comment, "defects.defect.commented", defect_id=defect_id, body=body
            )
            if result is not None:
                common.forms_saved()
                common.rerun()


# ---- releases, test runs, acceptance ----------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=8)
def _release_data(version: int, url: str, pid: int) -> dict[str, pd.DataFrame]:
    with read_session() as session:
        releases = session.exec(
            select(dm.Release)
            .where(col(dm.Release.project_id) == pid)
            .order_by(col(dm.Release.planned_date), col(dm.Release.id))
        ).all()
        runs = session.exec(
            select(dm.TestRun).where(col(dm.TestRun.project_id) == pid).order_by(col(dm.TestRun.run_on))
        ).all()
        accepted = session.exec(select(dm.Acceptance).where(col(dm.Acceptance.project_id) == pid)).all()
        fixes = session.exec(
            select(dm.Defect.fixed_in_release_id, dm.Defect.status).where(
                col(dm.Defect.project_id) == pid, col(dm.Defect.fixed_in_release_id).is_not(None)
            )
        ).all()
    rel = pd.DataFrame([r.model_dump() for r in releases], columns=list(dm.Release.model_fields))
    fix = pd.DataFrame(fixes, columns=["release_id", "status"])
    verified = fix[fix["status"].isin(("verified", "closed"))]
    rel["fixes"] = rel["id"].map(fix["release_id"].value_counts()).fillna(0).astype(int)
    rel["verified"] = rel["id"].map(verified["release_id"].value_counts()).fillna(0).astype(int)
    return {
        "releases": rel,
        "runs": pd.DataFrame([r.model_dump() for r in runs], columns=list(dm.TestRun.model_fields)),
        "acceptance": pd.DataFrame(
            [a.model_dump() for a in accepted], columns=list(dm.Acceptance.model_fields)
        ),
    }


def release_data(pid: int) -> dict[str, pd.DataFrame]:
    """Releases (with how many fixes they contain and how many are verified), test runs and
    acceptance decisions of the project."""
    return _release_data(*_key(), pid)


def releases_table(rel: pd.DataFrame) -> None:
    view = rel.assign(status=rel["status"].map(lambda v: label("release_status", v)))
    st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["name", "planned_date", "released_on", "status", "fixes", "verified", "notes"],
        column_config={
            "name": field("name"),
            "planned_date": st.column_config.DateColumn(field("planned_date")),
            "released_on": st.column_config.DateColumn(field("released_on")),
            "status": field("release_status"),
            "fixes": st.column_config.NumberColumn(field("fixes"), format="%d"),
            "verified": st.column_config.NumberColumn(t("defects.releases.fixes_verified"), format="%d"),
            "notes": st.column_config.TextColumn(field("notes"), width="large"),
        },
    )


def release_form(pid: int, release: dm.Release | None = None) -> None:
    """Create a release, or edit one (version-checked)."""
    shown = 0 if release is None else common.shown_version(f"release_edit_{release.id}", release.version)
    name_key = "release_new" if release is None else f"release_edit_{release.id}_{shown}"
    with common.form(name_key):
        c = cols(3)
        name = c[0].text_input(field("name"), value=release.name if release else "", max_chars=40)
        planned = c[1].date_input(field("planned_date"), value=release.planned_date if release else None)
        released = (
            c[2].date_input(field("released_on"), value=release.released_on) if release is not None else None
        )
        notes = st.text_area(field("notes"), value=release.notes if release else "", height=68)
        if release is None:
            if st.form_submit_button(t("defects.releases.create"), icon=":material/add:", type="primary"):
                result = common.run(
                    services.create_release,
                    "defects.releases.created",
                    project_id=pid,
                    data=dm.ReleaseCreate(name=name, planned_date=planned, notes=notes),
                )
                if result is not None:
                    common.forms_saved()
                    common.rerun()
        elif st.form_submit_button(t("defects.releases.save"), icon=":material/save:"):
            values = {"name": name, "planned_date": planned, "released_on": released, "notes": notes}
            _save_changed(
                services.update_release,
                "defects.releases.saved",
                release,
                shown,
                values,
                dm.ReleaseUpdate,
                "release_id",
            )


def gate(release: dm.Release, can_manage: bool) -> None:
    """What keeps the release from going live, naming each defect; PMs move its status (ready
    and released only through the gate)."""
    with read_session() as session:
        reasons = services.release_gate(session=session, release_id=int(release.id or 0))
    if reasons:
        st.error(tn("defects.releases.blocked", len(reasons)), icon=":material/block:")
        st.dataframe(
            pd.DataFrame(
                {
                    "id": [r.defect_id for r in reasons],
                    "title": [r.title for r in reasons],
                    "reason": [t(f"defects.releases.reason_{r.kind}") for r in reasons],
                    "severity": [label("severity", r.severity) for r in reasons],
                }
            ),
            hide_index=True,
            width="stretch",
            placeholder=common.EMPTY,
            column_config={
                "id": st.column_config.NumberColumn("#", format="%d"),
                "title": st.column_config.TextColumn(field("title"), width="large"),
                "reason": t("defects.releases.reason"),
                "severity": field("severity"),
            },
        )
        for r in reasons[:5]:
            open_link(r.defect_id, r.title)
    else:
        st.success(t("defects.releases.gate_open"), icon=":material/check_circle:")
    if not can_manage:
        return
    others = [s for s in dm.RELEASE_STATUSES if s != release.status]
    shown = common.shown_version(f"release_status_{release.id}", release.version)
    c = cols(len(others))
    for col_, status in zip(c, others, strict=True):
        if col_.button(
            t("defects.releases.set_status", status=label("release_status", status)),
            key=f"release_status_{release.id}_{status}",
            icon=":material/rocket_launch:" if status == "ready" else ":material/swap_horiz:",
            type="primary" if status == "ready" else "secondary",
        ):
            common.save(
                services.set_release_status,
                "defects.releases.status_saved",
                release_id=int(release.id or 0),
                expected_version=shown,
                status=status,
            )


def runs_table(runs: pd.DataFrame, look: dict[str, Any]) -> None:
    total = runs["passed"] + runs["failed"] + runs["blocked"]
    view = runs.assign(
        release=runs["release_id"].map(lambda v: look["releases"].get(int(v), NONE)),
        tester=runs["tester_id"].map(lambda v: look["users"].get(int(v), NONE) if pd.notna(v) else NONE),
        side=runs["side"].map(lambda v: label("side", v)),
        environment=runs["environment"].map(lambda v: label("environment", v)),
        pass_rate=(runs["passed"] / total.where(total > 0)).astype(float) * 100,
    )
    st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=[
            "id",
            "run_on",
            "release",
            "tester",
            "side",
            "environment",
            "passed",
            "failed",
            "blocked",
            "pass_rate",
            "notes",
        ],
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "run_on": st.column_config.DateColumn(field("run_on")),
            "release": field("release"),
            "tester": field("tester"),
            "side": field("side"),
            "environment": field("environment"),
            "passed": st.column_config.NumberColumn(field("passed"), format="%d"),
            "failed": st.column_config.NumberColumn(field("failed"), format="%d"),
            "blocked": st.column_config.NumberColumn(field("blocked"), format="%d"),
            "pass_rate": st.column_config.NumberColumn(field("pass_rate"), format="%.0f %%"),
            "notes": st.column_config.TextColumn(field("notes"), width="large"),
        },
    )


def test_run_form(pid: int, look: dict[str, Any]) -> None:
    """Record a run (the side is the tester's own); the failed cases' titles, one a line,
    become defects found in the run's release, in the same unit of work as the run."""
    with common.form("test_run"):
        c = cols(4)
        release = pick("release", look["releases"], where=c[0])
        environment = pick("environment", dm.ENVIRONMENTS, where=c[1])
        run_on = c[2].date_input(field("run_on"), value="today")
        c = cols(3)
        passed = c[0].number_input(field("passed"), min_value=0, step=1)
        failed = c[1].number_input(field("failed"), min_value=0, step=1)
        blocked = c[2].number_input(field("blocked"), min_value=0, step=1)
        notes = st.text_area(field("notes"), height=68)
        cases = st.text_area(field("failed_cases"), help=t("defects.releases.failed_cases_help"))
        if st.form_submit_button(
            t("defects.releases.record_run"), icon=":material/fact_check:", type="primary"
        ):
            titles = [line.strip() for line in cases.splitlines() if line.strip()]
            result = common.run(
                _record_run,
                "defects.releases.run_recorded",
                project_id=pid,
                data=dm.TestRunCreate(
                    release_id=release,
                    environment=environment,
                    run_on=run_on,
                    passed=int(passed),
                    failed=int(failed),
                    blocked=int(blocked),
                    notes=notes,
                ),
                titles=titles,
            )
            if result is not None:
                common.forms_saved()
                common.rerun()


def _record_run(
    *, session: Session, actor: Actor, project_id: int, data: dm.TestRunCreate, titles: list[str]
) -> Any:
    """The run and its failed cases' defects in one transaction: both or neither."""
    run = services.record_test_run(session=session, actor=actor, project_id=project_id, data=data)
    if titles:
        services.defects_from_failed_cases(
            session=session, actor=actor, test_run_id=int(run.id or 0), titles=titles
        )
    return run


def acceptance_matrix(acc: pd.DataFrame, rel: pd.DataFrame, processes: list[str]) -> None:
    """Business process × release: the client tester's decision in each cell."""
    names = dict(zip(rel["id"].astype(int), rel["name"], strict=True))
    rows = sorted(set(processes) | set(acc["business_process"]))
    grid = pd.DataFrame("", index=rows, columns=list(names.values()))
    for _, a in acc.iterrows():
        if int(a["release_id"]) in names:
            grid.loc[a["business_process"], names[int(a["release_id"])]] = label("decision", a["decision"])
    grid = grid.replace("", NONE)
    grid.index.name = field("business_process")
    st.dataframe(grid, width="stretch", placeholder=common.EMPTY)


def acceptance_form(pid: int, look: dict[str, Any], acc: pd.DataFrame) -> None:
    with common.form("acceptance"):
        c = cols(3)
        release = pick("release", look["releases"], where=c[0])
        process = c[1].selectbox(field("business_process"), look["processes"], placeholder=t("common.choose"))
        decision = pick("decision", dm.ACCEPTANCE_DECISIONS, where=c[2])
        remarks = st.text_area(field("remarks"), height=68)
        if st.form_submit_button(
            t("defects.releases.record_acceptance"), icon=":material/task_alt:", type="primary"
        ):
            existing = acc[(acc["release_id"] == release) & (acc["business_process"] == process)]
            result = common.run(
                services.record_acceptance,
                "defects.releases.acceptance_recorded",
                project_id=pid,
                data=dm.AcceptanceCreate(
                    release_id=release, business_process=process or "", decision=decision, remarks=remarks
                ),
                expected_version=int(existing["version"].iloc[0]) if len(existing) else None,
            )
            if result is not None:
                common.forms_saved()
                common.rerun()


def get_release(release_id: int) -> dm.Release | None:
    with read_session() as session:
        return session.get(dm.Release, release_id)


# ---- my work ----------------------------------------------------------------------------------


def my_work(pid: int, df: pd.DataFrame, actor: Actor, look: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The lists of "my work" this user has, by what they do (slide 9): the programmer's
    assigned defects (reopened first), the tester's fixes waiting for a retest (their own
    reports first, with the release containing the fix), the client tester's real-data defects
    waiting for sign-off, and the PM's defects waiting for triage or an assignee."""
    lists: dict[str, pd.DataFrame] = {}
    if actor.can("defect.fix"):
        lists["programmer"] = work_of(pid, actor, "programmer")
    if actor.can("defect.verify") and not is_client_tester(actor, look):
        lists["retest"] = work_of(pid, actor, "tester")
    if actor.can("defect.signoff") and is_client_tester(actor, look):
        lists["signoff"] = df[
            (df["environment"] == "real_data")
            & df["status"].isin(("in_retest", "verified"))
            & df["client_signoff_by_id"].isna()
        ].sort_values(["priority", "id"])
    if actor.can("defect.triage"):
        lists["triage"] = df[df["status"].isin(("new", "confirmed", "reopened"))].sort_values(
            ["status", "priority", "id"]
        )
    return lists


# ---- dashboard --------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=4)
def _dashboard(version: int, url: str, pid: int) -> dict[str, Any]:
    # the frames are read once; only the computed figures stay in the cache
    from crm_impl.defects import metrics as m

    with read_session() as session:
        f = queries.load(session, pid)
    now = utcnow()
    h = m.history(f.changes)  # the history in order once, shared by the metrics that read it
    return {
        "totals": m.totals(f.defects),
        "severity": m.open_by_severity_status(f.defects),
        "flow": m.weekly_flow(f.defects, f.changes, now, h),
        "reopen": m.reopen_rate(f.changes, h),
        "fix": dict(m.duration_summary(m.fix_durations(f.defects, f.changes, now, h))),
        "verify": dict(m.duration_summary(m.verify_durations(f.defects, f.changes, now, h))),
        "modules": m.by_module(f.defects),
        "releases": m.by_found_release(f.defects, f.releases),
        "real_data": m.real_data_share(f.defects, f.users),
        "pass_rate": m.pass_rate(f.test_runs, f.releases),
        "programmers": m.per_programmer(f.defects, f.changes, f.users, h),
    }


def dashboard(pid: int) -> dict[str, Any]:
    """Every figure of the quality dashboard (D2's metrics on D2's frames), per data version."""
    return _dashboard(*_key(), pid)


def chart_labels() -> dict[str, dict[str, str]]:
    """The words of each defects chart in the user's language (series keyed, never by label)."""
    d = "defects.dashboard."
    states = {"open": t(d + "open"), "resolved": t(d + "resolved"), "state": t(d + "state")}
    count = {"count": t(d + "count")}
    return {
        "severity": {
            "severity": field("severity"),
            "status": field("status"),
            **count,
            **{s: label("severity", s) for s in dm.SEVERITIES},
            **{s: label("status", s) for s in dm.OPEN_STATUSES},
        },
        "flow": {
            "week": t(d + "week"),
            "series": t(d + "series"),
            "arrived": t(d + "arrived"),
            "closed": t(d + "closed"),
            "backlog": t(d + "backlog"),
            "partial": t(d + "partial"),
            **count,
        },
        "durations": {
            "days": t(d + "days"),
            "measure": t(d + "measure"),
            "stat": t(d + "stat"),
            "fix": t(d + "time_to_fix"),
            "verify": t(d + "time_to_verify"),
            "median": t(d + "median"),
            "p90": t(d + "p90"),
        },
        "modules": {"module": field("module"), "no_module": t(d + "no_module"), **states, **count},
        "releases": {
            "release": field("found_in_release"),
            "no_release": t(d + "no_release"),
            **states,
            **count,
        },
        "pass_rate": {"release": field("release"), "pass_rate": field("pass_rate"), "cases": t(d + "cases")},
        "programmers": {
            "programmer": t(d + "programmer"),
            "measure": t(d + "measure"),
            "assigned": t(d + "assigned"),
            "fixed": t(d + "fixed"),
            "reopened": t(d + "reopened"),
            **count,
        },
    }
