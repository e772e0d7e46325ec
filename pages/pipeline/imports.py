"""Import: pick what, upload a file, check the detected format and the mapping, dry run, import."""

import streamlit as st

from crm_impl.adoption import importing as _adoption  # noqa: F401  (registers "usage")
from crm_impl.budget import importing as _budget  # noqa: F401  (registers "cost_postings")
from crm_impl.core.errors import DomainError
from crm_impl.core.i18n import t
from crm_impl.core.ui import common
from crm_impl.defects import importing as _defects  # noqa: F401  (registers "defects")
from crm_impl.importers import mapping as mapping_mod
from crm_impl.importers import ui as widgets
from crm_impl.importers.mapping import EntityMapping
from crm_impl.pipeline import importing as imports

common.page("pages/pipeline/imports.py")
st.caption(t("imports.intro"))

c1, c2 = st.columns(2)
entity = c1.selectbox(
    t("imports.entity"),
    imports.entities(),
    format_func=lambda e: t(f"imports.entity_name.{e}"),
    placeholder=t("common.choose"),
)
mapping_upload = c2.file_uploader(t("imports.mapping_file"), type=["toml"], key="import_mapping_file")
upload = st.file_uploader(t("imports.file"), type=["csv", "txt", "tsv", "xlsx"], key="import_file")

base = mapping_mod.Mapping()
if mapping_upload is not None:
    try:
        base = mapping_mod.loads(mapping_upload.getvalue().decode("utf-8-sig", errors="replace"))
        c2.caption(t("imports.mapping_loaded", name=common.plain(mapping_upload.name)))
    except DomainError as err:
        c2.error(common.error_text(err), icon=":material/error:")

if upload is None:
    st.info(t("imports.upload_first"), icon=":material/upload_file:")
    st.stop()

data = upload.getvalue()
try:
    source = imports.inspect_file(data, mapping=base, entity=entity)
except DomainError as err:
    st.error(common.error_text(err), icon=":material/error:")
    st.stop()
widgets.detected(source)

em = base.for_entity(entity)
editor_key = f"{entity}-{upload.file_id}-{mapping_upload.file_id if mapping_upload else ''}"
columns = widgets.column_editor(entity, em, source, key=f"cols-{editor_key}")
values = widgets.value_editor(entity, em, key=f"vals-{editor_key}")

st.subheader(t("imports.options"))
o1, o2, o3 = st.columns(3)
date_format = o1.text_input(
    t("imports.date_format"),
    value=str(base.option(entity, "date_format")),
    help=t("imports.date_format_help"),
)
decimals = ["auto", ",", "."]
decimal = o2.selectbox(
    t("imports.decimal"),
    decimals,
    index=decimals.index(str(base.option(entity, "decimal")))
    if base.option(entity, "decimal") in decimals
    else 0,
    format_func=lambda d: t("imports.decimal_auto") if d == "auto" else d,
    placeholder=t("common.choose"),
)
strict = o3.toggle(t("imports.strict"), value=False)

entity_options = dict(em.options)
options = dict(base.options, date_format=date_format, decimal=decimal)
mapping = widgets.build_mapping(
    mapping_mod.Mapping(options=options, entities=base.entities),
    entity,
    EntityMapping(columns=columns, values=values, options=entity_options),
)
st.download_button(
    t("imports.mapping_download"),
    mapping_mod.dumps(mapping),
    file_name="mapping.toml",
    mime="application/toml",
    icon=":material/download:",
    on_click="ignore",
)

b1, b2, _ = st.columns([1, 1, 4])
dry = b1.button(t("imports.dry_run"), icon=":material/fact_check:", width="stretch")
commit = b2.button(t("imports.commit"), type="primary", icon=":material/upload:", width="stretch")
if dry or commit:
    bar = st.progress(0.0)
    label = "imports.checking" if dry else "imports.progress"

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=t(label, done=done, total=total))

    report = common.run(
        imports.run_import,
        None,
        entity=entity,
        data=data,
        mapping=mapping,
        dry_run=dry,
        strict=strict,
        progress=progress,
        filename=upload.name,
    )
    bar.empty()
    st.session_state["import_report"] = report
    st.session_state["import_report_for"] = editor_key

report = st.session_state.get("import_report")
if report is not None and st.session_state.get("import_report_for") == editor_key:
    widgets.show_report(report)
