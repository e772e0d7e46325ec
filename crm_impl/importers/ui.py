"""Widgets of the import page: detected-format summary, column and value mapping editors,
and the report (numbers, bad rows, CSV download)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import fmt_number, t, tn
from crm_impl.core.ui import common
from crm_impl.importers.cleaning import suggest
from crm_impl.importers.mapping import EntityMapping, Mapping
from crm_impl.importers.reading import DELIMITER_NAMES, Source
from crm_impl.importers.registry import fields
from crm_impl.importers.report import ImportReport


def detected(source: Source) -> None:
    st.caption(t("imports.detected"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("imports.format"), source.file_format.upper())
    c2.metric(t("imports.encoding"), source.encoding or "–")
    delim = DELIMITER_NAMES.get(source.delimiter or "", "")
    c3.metric(t("imports.delimiter"), t(f"imports.delimiter_name.{delim}") if delim else "–")
    c4.metric(t("imports.rows_estimate"), fmt_number(source.total_rows))
    st.caption(t("imports.columns_found") + ": " + common.plain(", ".join(source.header)))  # the file's text


def _guess(field: str, chosen: str, header: list[str]) -> str:
    if chosen in header:
        return chosen
    lower = {h.lower(): h for h in header}
    if field in lower:
        return lower[field]
    label = t(f"imports.field.{field}")
    return suggest(field, header, cutoff=85) or suggest(label, header, cutoff=85) or ""


def column_editor(entity: str, em: EntityMapping, source: Source, key: str) -> dict[str, str]:
    """field -> source column, edited in a table with one dropdown per field."""
    none = t("imports.not_mapped")
    rows = [
        {
            "field": spec.name,
            "label": t(f"imports.field.{spec.name}") + (" *" if spec.required else ""),
            "source": _guess(spec.name, em.columns.get(spec.name, ""), source.header) or none,
        }
        for spec in fields(entity)
    ]
    st.subheader(t("imports.column_mapping"))
    st.caption(t("imports.column_mapping_help"))
    edited = st.data_editor(
        pd.DataFrame(rows),
        key=key,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        disabled=["field", "label"],
        column_order=["label", "source"],
        column_config={
            "label": st.column_config.TextColumn(t("imports.field_label")),
            "source": st.column_config.SelectboxColumn(
                t("imports.source_column"), options=[none, *source.header], required=True
            ),
        },
    )
    return {r["field"]: r["source"] for r in edited.to_dict("records") if r["source"] and r["source"] != none}


def value_editor(entity: str, em: EntityMapping, key: str) -> dict[str, dict[str, str]]:
    """field -> {value in the file: value to use}, edited as rows."""
    rows = [
        {"field": f, "source": s, "target": v} for f, pairs in em.values.items() for s, v in pairs.items()
    ]
    st.subheader(t("imports.value_mapping"))
    st.caption(t("imports.value_mapping_help"))
    names = [spec.name for spec in fields(entity)]
    edited = st.data_editor(
        pd.DataFrame(rows, columns=["field", "source", "target"]),
        key=key,
        num_rows="dynamic",
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "field": st.column_config.SelectboxColumn(
                t("imports.field_label"), options=names, format_func=lambda f: t(f"imports.field.{f}")
            ),
            "source": st.column_config.TextColumn(t("imports.source_value")),
            "target": st.column_config.TextColumn(t("imports.target_value")),
        },
    )
    values: dict[str, dict[str, str]] = {}
    for r in edited.to_dict("records"):
        if r.get("field") and r.get("source") not in (None, ""):
            values.setdefault(str(r["field"]), {})[str(r["source"])] = str(r.get("target") or "")
    return values


def build_mapping(base: Mapping, entity: str, em: EntityMapping) -> Mapping:
    entities = dict(base.entities)
    entities[entity] = em
    return Mapping(options=dict(base.options), entities=entities)


def show_report(report: ImportReport) -> None:
    st.subheader(t("imports.report"))
    cols = st.columns(6)
    for col, (key, value) in zip(
        cols,
        [
            ("imports.rows_total", report.total_rows),
            ("imports.rows_valid", report.valid_rows),
            ("imports.rows_rejected", report.rejected),
            ("imports.rows_created", report.created),
            ("imports.rows_updated", report.updated),
            ("imports.rows_skipped", report.skipped),
        ],
        strict=True,
    ):
        col.metric(t(key), fmt_number(value))
    if report.dry_run:
        st.info(t("imports.dry_run_done"), icon=":material/fact_check:")
    elif report.written:
        st.success(
            t("imports.committed", created=report.created, updated=report.updated, rejected=report.rejected),
            icon=":material/check_circle:",
        )
    else:
        st.warning(t("imports.strict_refused", rejected=report.rejected), icon=":material/block:")
    for name, count in report.extra.items():
        if name == "stage_changes":
            st.caption(t("imports.stage_changes", n=count))
        elif name in ("users_created", "managers_created"):
            st.caption(t("imports.users_created", n=count))
    if not report.errors:
        st.caption(t("imports.no_errors"))
        return
    frame = report.errors_frame()
    st.markdown("**" + t("imports.errors_title") + "**")
    st.dataframe(
        frame,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={c: t(f"imports.column.{c}") for c in frame.columns},
    )
    if report.errors_left_out:
        st.caption(tn("imports.errors_left_out", report.errors_left_out))
    common.csv_download(frame, f"import-{report.entity}-report.csv", key="import_report_csv")
