"""Widgets of the registers' pages (ADKAR readiness, legacy tools, benefits): the cached frames,
labels, the tables and the forms. Every write goes through `common.save` / `common.run` and the
services of `crm_impl.adoption.services`; reads are cached per data version. User text (names,
departments, notes) is shown in data frames, never as Markdown."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.adoption import models as am
from crm_impl.adoption.metrics import adkar as adkar_metrics
from crm_impl.adoption.metrics import registers as metrics
from crm_impl.adoption.queries import registers as queries
from crm_impl.adoption.registers_vocabulary import ADKAR_ELEMENTS, ADKAR_SCORES
from crm_impl.adoption.services import adkar as adkar_services
from crm_impl.adoption.services import registers as services
from crm_impl.adoption.ui.usage import project_id  # noqa: F401  (the pages' one project picker)
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_number, fmt_pct, t
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.importers import ui as import_widgets

# ---- cached reads ----------------------------------------------------------------------------------


def _key() -> tuple[int, str]:
    return ui_session.data_key()


@st.cache_data(show_spinner=False, max_entries=8)
def _frames(version: int, url: str, pid: int) -> queries.RegisterFrames:
    with read_session() as session:
        return queries.load(session, pid)


@st.cache_data(show_spinner=False, max_entries=8)
def _readiness(version: int, url: str, pid: int, day: date) -> pd.DataFrame:
    with read_session() as session:
        return queries.readiness(session, pid, day)


def frames(pid: int) -> queries.RegisterFrames:
    return _frames(*_key(), pid)


def readiness(pid: int, day: date) -> pd.DataFrame:
    return _readiness(*_key(), pid, day)


def today() -> date:
    return date.today()


def names(pid: int) -> dict[int, str]:
    people = frames(pid).people
    return dict(zip(people["id"].astype(int), people["name"], strict=True))


def people_options(pid: int) -> dict[int, str]:
    people = frames(pid).people
    return {
        int(i): f"{n} ({d})" if d else str(n)
        for i, n, d in zip(people["id"], people["name"], people["department"], strict=True)
    }


def departments(pid: int) -> list[str]:
    return sorted({str(d) for d in frames(pid).people["department"] if d})


# ---- labels ------------------------------------------------------------------------------------------


def field(name: str) -> str:
    return t(f"adoption.field.{name}")


def element(key: str) -> str:
    return t(f"adoption.element.{key}")


def label(kind: str, value: Any) -> str:
    return common.EMPTY if value is None or value == "" or pd.isna(value) else t(f"adoption.{kind}.{value}")


def pct_column(name: str) -> Any:
    return st.column_config.NumberColumn(field(name), format="percent")


def count_column(name: str) -> Any:
    return st.column_config.NumberColumn(field(name), format="%d")


def date_column(name: str) -> Any:
    return st.column_config.DateColumn(field(name), format="localized")


def chart_labels() -> dict[str, str]:
    words = {
        k: field(k)
        for k in (
            "department",
            "element",
            "score",
            "barrier",
            "survey_date",
            "round",
            "kind",
            "count",
            "status",
            "measured_on",
            "gain_share",
            "benefit",
            "value",
            "gain",
        )
    }
    return {
        **words,
        **{e: element(e) for e in ADKAR_ELEMENTS},
        **{s: t(f"adoption.status.{s}") for s in metrics.TOOL_STATUSES},
        **{f"kind.{k}": t(f"adoption.kind.{k}") for k in am.LEGACY_KINDS},
        "barrier_yes": t("adoption.adkar.barrier_yes"),
        "threshold": t("adoption.adkar.threshold"),
    }


# ---- ADKAR readiness --------------------------------------------------------------------------------


def _highlight_barrier(frame: pd.DataFrame) -> pd.DataFrame:
    """Cell styles: the barrier element of each department on an amber ground."""
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for name in ADKAR_ELEMENTS:
        styles.loc[frame["barrier"] == name, name] = "background-color: #FFBF79; font-weight: bold"
    return styles


def show_readiness(view: pd.DataFrame) -> None:
    """The one view: per department the latest scores with the barrier point highlighted, beside
    usage (adoption rate) and training coverage."""
    shown = view.assign(
        department=view["department"].replace("", common.EMPTY),
        barrier_label=view["barrier"]
        .map(lambda v: element(v) if v else t("adoption.adkar.no_barrier"))
        .where(view["responses"].notna(), common.EMPTY),
    )
    st.dataframe(
        shown.style.apply(_highlight_barrier, axis=None).format(
            {
                **{e: lambda v: fmt_number(v, 1) for e in ADKAR_ELEMENTS},
                "adoption_rate": lambda v: fmt_pct(v, 1),
                "coverage": lambda v: fmt_pct(v, 1),
            },
            na_rep=common.EMPTY,
        ),
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=[
            "department",
            "survey_date",
            "responses",
            *ADKAR_ELEMENTS,
            "barrier_label",
            "adoption_rate",
            "active",
            "users",
            "coverage",
        ],
        column_config={
            "department": field("department"),
            "survey_date": date_column("survey_date"),
            "responses": count_column("responses"),
            **{e: st.column_config.NumberColumn(element(e)) for e in ADKAR_ELEMENTS},
            "barrier_label": field("barrier"),
            # labels only: a column format would override the styler's localised percentages
            "adoption_rate": field("adoption_rate"),
            "active": count_column("active"),
            "users": count_column("users"),
            "coverage": field("coverage"),
        },
    )


def round_options(pid: int) -> dict[int, str]:
    rounds = frames(pid).rounds.sort_values(["survey_date", "id"], ascending=False)
    return {
        int(i): f"{d:%Y-%m-%d} · {title}"
        for i, d, title in zip(rounds["id"], rounds["survey_date"], rounds["title"], strict=True)
    }


def responses_table(pid: int, round_id: int) -> pd.DataFrame:
    resp = frames(pid).responses
    rows = resp.loc[resp["round_id"] == round_id].copy()
    who = names(pid)
    rows["person"] = rows["person_id"].map(
        lambda v: who.get(int(v), f"#{v}") if pd.notna(v) else t("adoption.adkar.anonymous")
    )
    rows["barrier"] = adkar_metrics.barrier(rows) if len(rows) else pd.Series(dtype=object)
    rows["barrier_label"] = rows["barrier"].map(lambda v: element(v) if v else common.EMPTY)
    return rows.sort_values(["department", "person"]).reset_index(drop=True)


def show_responses(rows: pd.DataFrame) -> None:
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["department", "person", *ADKAR_ELEMENTS, "barrier_label"],
        column_config={
            "department": field("department"),
            "person": field("person"),
            **{e: st.column_config.NumberColumn(element(e), format="%d") for e in ADKAR_ELEMENTS},
            "barrier_label": field("barrier"),
        },
    )


def export_responses(rows: pd.DataFrame) -> pd.DataFrame:
    """The round's responses with the import's column names (an export imports again)."""
    return rows[["department", "person", *ADKAR_ELEMENTS]]


def round_form(pid: int) -> None:
    with common.form("adkar_round_new"):
        c = st.columns([2, 1])
        title = c[0].text_input(field("round_title"), max_chars=120)
        day = c[1].date_input(field("survey_date"), value=today(), format="DD.MM.YYYY")
        notes = st.text_area(field("notes"), height=68)
        if st.form_submit_button(t("adoption.adkar.create_round"), icon=":material/add:", type="primary"):
            common.save(
                adkar_services.create_round,
                "adoption.adkar.round_created",
                before_rerun=lambda _: common.forms_saved(),
                project_id=pid,
                data=am.AdkarRoundCreate(title=title, survey_date=day, notes=notes),
            )


def _score_inputs(prefix: str) -> dict[str, Any]:
    low, high = ADKAR_SCORES
    c = st.columns(len(ADKAR_ELEMENTS))
    return {
        e: c[n].number_input(
            element(e), min_value=None, value=None, step=1, key=f"{prefix}_{e}", placeholder=f"{low}–{high}"
        )
        for n, e in enumerate(ADKAR_ELEMENTS)
    }


def response_form(pid: int, round_id: int) -> None:
    """One response: a person (their department is theirs) or, anonymously, a department."""
    people = people_options(pid)
    with common.form(f"adkar_response_{round_id}"):
        c = st.columns(2)
        person = c[0].selectbox(
            field("person"),
            list(people),
            index=None,
            format_func=lambda i: people.get(i, ""),
            placeholder=t("adoption.adkar.anonymous_hint"),
        )
        department = c[1].selectbox(
            field("department"), departments(pid), index=None, placeholder=t("common.choose")
        )
        scores = _score_inputs(f"adkar_{round_id}")
        if st.form_submit_button(t("adoption.adkar.add_response"), icon=":material/add:", type="primary"):
            common.save(
                adkar_services.record_response,
                "adoption.adkar.response_saved",
                before_rerun=lambda _: common.forms_saved(),
                round_id=round_id,
                data=am.AdkarScores(department=department, person_id=person, **scores),
            )


def bulk_editor(pid: int, round_id: int) -> None:
    """Several responses at once (a grid); checked as a whole, one bad row saves nothing."""
    people = people_options(pid)
    labels = {v: k for k, v in people.items()}
    blank = pd.DataFrame(
        {"department": pd.Series(dtype=object), "person": pd.Series(dtype=object)}
        | {e: pd.Series(dtype="Int64") for e in ADKAR_ELEMENTS}
    )
    key = f"adkar_bulk_{round_id}_{st.session_state.get('_forms_saved', 0)}"
    low, high = ADKAR_SCORES
    edited = st.data_editor(
        blank,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_config={
            "department": st.column_config.SelectboxColumn(field("department"), options=departments(pid)),
            "person": st.column_config.SelectboxColumn(field("person"), options=list(people.values())),
            **{
                e: st.column_config.NumberColumn(element(e), min_value=low, max_value=high, step=1)
                for e in ADKAR_ELEMENTS
            },
        },
    )
    if st.button(t("adoption.adkar.save_bulk"), icon=":material/save:", key=f"{key}_save"):
        lines = [
            am.AdkarScores(
                department=r["department"],
                person_id=labels.get(r["person"]) if isinstance(r["person"], str) else None,
                **{e: None if pd.isna(r[e]) else r[e] for e in ADKAR_ELEMENTS},
            )
            for r in edited.to_dict("records")
        ]
        common.save(
            adkar_services.record_responses,
            "adoption.adkar.responses_saved",
            before_rerun=lambda _: common.forms_saved(),
            round_id=round_id,
            lines=lines,
        )


def csv_import(pid: int) -> None:
    """Survey results from a form tool (CSV): check first, then import; the report names every
    bad line; a file with a bad line imports nothing."""
    st.caption(t("adoption.adkar.import_hint"))
    upload = st.file_uploader(t("adoption.adkar.import_file"), type=["csv", "txt"], key="adkar_csv")
    if upload is None:
        return
    c = st.columns([1, 1, 4])
    dry = c[0].button(t("imports.dry_run"), icon=":material/fact_check:", key="adkar_dry")
    commit = c[1].button(t("imports.commit"), icon=":material/upload:", type="primary", key="adkar_commit")
    if dry or commit:
        report = common.run(
            adkar_services.import_csv,
            "adoption.adkar.imported" if commit else None,
            project_id=pid,
            data=upload.getvalue(),
            dry_run=dry,
            filename=upload.name,
        )
        st.session_state["adkar_report"] = (upload.file_id, report)
    kept = st.session_state.get("adkar_report")
    if kept is not None and kept[0] == upload.file_id and kept[1] is not None:
        import_widgets.show_report(kept[1])


# ---- legacy tools -------------------------------------------------------------------------------------


def tools_table(pid: int, day: date) -> pd.DataFrame:
    f = frames(pid)
    table = metrics.tool_table(f.tools, f.tool_users, day)
    who = names(pid)
    return table.assign(
        kind_label=table["kind"].map(lambda v: label("kind", v)),
        status_label=table["status"].map(lambda v: label("status", v)),
        user_names=table["user_ids"].map(lambda ids: ", ".join(sorted(who.get(i, f"#{i}") for i in ids))),
    )


TOOL_COLUMNS = [
    "name",
    "kind_label",
    "status_label",
    "retire_by",
    "retired_on",
    "days_overdue",
    "users",
    "user_names",
]


def show_tools(table: pd.DataFrame, columns: list[str] | None = None) -> None:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=columns or TOOL_COLUMNS,
        column_config={
            "name": st.column_config.TextColumn(field("tool_name"), width="medium"),
            "kind_label": field("kind"),
            "status_label": field("status"),
            "retire_by": date_column("retire_by"),
            "retired_on": date_column("retired_on"),
            "days_overdue": count_column("days_overdue"),
            "users": count_column("user_count"),
            "user_names": st.column_config.TextColumn(field("user_names"), width="large"),
        },
    )


def export_tools(table: pd.DataFrame) -> pd.DataFrame:
    """The register for download, with translated headers."""
    headers = {
        "name": "tool_name",
        "kind_label": "kind",
        "status_label": "status",
        "retire_by": "retire_by",
        "retired_on": "retired_on",
        "users": "user_count",
        "user_names": "user_names",
        "notes": "notes",
    }
    out = table[list(headers)].assign(
        retire_by=table["retire_by"].dt.date, retired_on=table["retired_on"].dt.date
    )
    return out.rename(columns={c: field(k) for c, k in headers.items()})


def get_tool(tool_id: int) -> tuple[am.LegacyTool | None, list[int]]:
    with read_session() as session:
        row = session.get(am.LegacyTool, tool_id)
        return row, services.tool_user_ids(session=session, tool_id=tool_id) if row else []


def tool_form(pid: int, row: am.LegacyTool | None = None, users: list[int] | None = None) -> None:
    shown = 0 if row is None else common.shown_version(f"legacy_tool_{row.id}", row.version)
    name = "legacy_tool_new" if row is None else f"legacy_tool_edit_{row.id}_{shown}"
    people = people_options(pid)
    kinds = list(am.LEGACY_KINDS)
    with common.form(name):
        c = st.columns([2, 1])
        tool_name = c[0].text_input(field("tool_name"), value=row.name if row else "", max_chars=200)
        kind = c[1].selectbox(
            field("kind"),
            kinds,
            index=kinds.index(row.kind) if row else 0,
            format_func=lambda k: label("kind", k),
        )
        chosen = st.multiselect(
            field("users"),
            list(people),
            default=[i for i in (users or []) if i in people],
            format_func=lambda i: people.get(i, ""),
            placeholder=t("common.choose_many"),
        )
        d = st.columns(2)
        retire_by = d[0].date_input(
            field("retire_by"), value=row.retire_by if row else None, format="DD.MM.YYYY"
        )
        retired_on = d[1].date_input(
            field("retired_on"), value=row.retired_on if row else None, format="DD.MM.YYYY"
        )
        notes = st.text_area(field("notes"), value=row.notes if row else "", height=68)
        values: dict[str, Any] = {
            "name": tool_name,
            "kind": kind,
            "retire_by": retire_by,
            "retired_on": retired_on,
            "notes": notes,
        }
        if row is None:
            if st.form_submit_button(t("adoption.tools.create"), icon=":material/add:", type="primary"):
                common.save(
                    services.create_tool,
                    "adoption.tools.created",
                    before_rerun=lambda _: common.forms_saved(),
                    project_id=pid,
                    data=am.LegacyToolCreate(**values, user_ids=chosen),
                )
        elif st.form_submit_button(t("adoption.save"), icon=":material/save:"):
            changes = {k: v for k, v in values.items() if v != getattr(row, k)}
            if sorted(chosen) != sorted(users or []):
                changes["user_ids"] = chosen
            if not changes:
                st.toast(t("adoption.nothing_changed"), icon=":material/info:")
            else:
                common.save(
                    services.update_tool,
                    "adoption.tools.saved",
                    tool_id=int(row.id or 0),
                    expected_version=shown,
                    data=am.LegacyToolUpdate(**changes),
                )


def retire_button(row: am.LegacyTool) -> None:
    shown = common.shown_version(f"legacy_tool_retire_{row.id}", row.version)
    if row.retired_on is None and st.button(
        t("adoption.tools.retire_today"), icon=":material/delete_sweep:", key=f"retire_{row.id}"
    ):
        common.save(
            services.update_tool,
            "adoption.tools.retired",
            tool_id=int(row.id or 0),
            expected_version=shown,
            data=am.LegacyToolUpdate(retired_on=today()),
        )


# ---- benefits ---------------------------------------------------------------------------------------------


def benefits_table(pid: int) -> pd.DataFrame:
    f = frames(pid)
    table = metrics.benefit_table(f.benefits, f.measurements, f.meeting_benefits)
    return table.assign(
        unit_label=table["unit"].map(lambda v: label("unit", v)),
        direction_label=table["direction"].map(lambda v: label("direction", v)),
    )


BENEFIT_COLUMNS = [
    "name",
    "unit_label",
    "direction_label",
    "baseline",
    "current",
    "measured_on",
    "gain",
    "gain_share",
    "measurements",
    "meetings",
]


def show_benefits(table: pd.DataFrame) -> None:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=BENEFIT_COLUMNS,
        column_config={
            "name": st.column_config.TextColumn(field("benefit_name"), width="large"),
            "unit_label": field("unit"),
            "direction_label": field("direction"),
            "baseline": st.column_config.NumberColumn(field("baseline"), format="localized"),
            "current": st.column_config.NumberColumn(field("current"), format="localized"),
            "measured_on": date_column("measured_on"),
            "gain": st.column_config.NumberColumn(field("gain"), format="localized"),
            "gain_share": pct_column("gain_share"),
            "measurements": count_column("measurements"),
            "meetings": count_column("meetings"),
        },
    )


def export_benefits(table: pd.DataFrame) -> pd.DataFrame:
    """The register for download, with translated headers."""
    headers = {
        "name": "benefit_name",
        "unit_label": "unit",
        "direction_label": "direction",
        "baseline": "baseline",
        "current": "current",
        "measured_on": "measured_on",
        "gain": "gain",
        "gain_share": "gain_share",
        "meetings": "meetings",
        "notes": "notes",
    }
    out = table[list(headers)].assign(measured_on=table["measured_on"].dt.date)
    return out.rename(columns={c: field(k) for c, k in headers.items()})


def export_measurements(pid: int) -> pd.DataFrame:
    f = frames(pid)
    who = dict(zip(f.benefits["id"], f.benefits["name"], strict=True))
    m = f.measurements
    out = pd.DataFrame(
        {
            field("benefit"): m["benefit_id"].map(who),
            field("measured_on"): m["measured_on"].dt.date,
            field("value"): m["value"],
            field("note"): m["note"],
        }
    )
    return out


def benefit_options(pid: int) -> dict[int, str]:
    b = frames(pid).benefits
    return dict(zip(b["id"].astype(int), b["name"].astype(str), strict=True))


def benefit_form(pid: int) -> None:
    units, directions = list(am.BENEFIT_UNITS), list(am.BENEFIT_DIRECTIONS)
    with common.form("benefit_new"):
        name = st.text_input(field("benefit_name"), max_chars=200)
        c = st.columns(4)
        unit = c[0].selectbox(field("unit"), units, format_func=lambda u: label("unit", u))
        direction = c[1].selectbox(
            field("direction"), directions, format_func=lambda d: label("direction", d)
        )
        baseline = c[2].text_input(field("baseline"))
        baseline_on = c[3].date_input(field("baseline_on"), value=None, format="DD.MM.YYYY")
        notes = st.text_area(field("notes"), height=68)
        if st.form_submit_button(t("adoption.benefits.create"), icon=":material/add:", type="primary"):
            common.save(
                services.create_benefit,
                "adoption.benefits.created",
                before_rerun=lambda _: common.forms_saved(),
                project_id=pid,
                data=am.BenefitCreate(
                    name=name,
                    unit=unit,
                    direction=direction,
                    baseline=baseline,
                    baseline_on=baseline_on,
                    notes=notes,
                ),
            )


def measurement_form(pid: int) -> None:
    options = benefit_options(pid)
    with common.form("benefit_measurement"):
        c = st.columns([2, 1, 1])
        benefit = c[0].selectbox(
            field("benefit"),
            list(options),
            index=None,
            format_func=lambda i: options.get(i, ""),
            placeholder=t("common.choose"),
        )
        day = c[1].date_input(field("measured_on"), value=today(), format="DD.MM.YYYY")
        value = c[2].text_input(field("value"))
        note = st.text_input(field("note"), max_chars=500)
        if st.form_submit_button(
            t("adoption.benefits.add_measurement"), icon=":material/add_chart:", type="primary"
        ):
            if benefit is None:
                st.error(t("error.required", field=field("benefit")), icon=":material/error:")
                return
            common.save(
                services.add_measurement,
                "adoption.benefits.measurement_saved",
                before_rerun=lambda _: common.forms_saved(),
                benefit_id=int(benefit),
                data=am.MeasurementCreate(measured_on=day, value=value, note=note),
            )


def shown_at(pid: int, benefit_id: int) -> pd.DataFrame:
    """The meetings that showed a benefit: date and title."""
    links = frames(pid).meeting_benefits
    return links.loc[links["benefit_id"] == benefit_id, ["meeting_date", "title"]].reset_index(drop=True)
