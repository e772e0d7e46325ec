"""Per record: its score and a "what is wrong" line, with a link to the page that fixes it (a
deal's page, a client's page); contacts and accounts can be corrected right here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core.i18n import t, tn
from crm_impl.core.ui import common
from crm_impl.data_quality import metrics
from crm_impl.data_quality import ui as dq
from crm_impl.data_quality.vocabulary import DIMENSIONS, ENTITIES

actor = common.page("pages/data_quality/records.py")
issues = dq.record_issues()
found, data = dq.scan()
owners = data.owners.set_index("id")["name"].to_dict()

c = st.columns(3)
entities = c[0].multiselect(
    t("dq.ui.filter_entity"),
    list(ENTITIES),
    default=list(ENTITIES),
    format_func=dq.entity_name,
    placeholder=t("common.choose_many"),
)
dimensions = c[1].multiselect(
    t("dq.ui.filter_dimension"),
    list(DIMENSIONS),
    format_func=lambda d: t(f"dq.dimension.{d}"),
    placeholder=t("common.choose_many"),
)
owner_ids = sorted({int(o) for o in issues["owner_id"].dropna()}, key=lambda o: str(owners.get(o, o)))
owner = c[2].selectbox(
    t("dq.ui.filter_owner"),
    [None, *owner_ids],
    format_func=lambda o: t("common.all") if o is None else str(owners.get(o, o)),
)
shown = issues[issues["entity"].isin(entities)]
if dimensions:
    wanted = shown["dimensions"].str.split(",").map(lambda ds: bool(set(ds) & set(dimensions)))
    shown = shown[wanted.astype(bool)]
if owner is not None:
    shown = shown[shown["owner_id"] == owner]

scores = metrics.record_scores(found)
dq.score_moved(scores)  # the record fixed on the previous run: its score before and after
st.caption(tn("dq.ui.shown", len(shown)))
if shown.empty:
    st.info(t("dq.ui.none"), icon=":material/check_circle:")
else:
    table = pd.DataFrame(
        {
            "entity": shown["entity"].map(dq.entity_name),
            "record": shown["label"].astype(str),
            "score": shown["score"].round(1),
            "what": shown["what"],
            "owner": shown["owner_id"].map(lambda o: owners.get(o, "") if pd.notna(o) else ""),
            "fix": dq.link(shown["entity"], shown["id"], shown["account_id"]),
        }
    )
    st.dataframe(
        table,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "entity": t("dq.ui.entity"),
            "record": t("dq.ui.record"),
            "score": st.column_config.NumberColumn(t("dq.ui.score"), format="%.1f"),
            "what": st.column_config.TextColumn(t("dq.ui.what_is_wrong"), width="large"),
            "owner": t("dq.ui.owner"),
            "fix": st.column_config.LinkColumn(t("dq.ui.fix"), display_text=t("dq.ui.open_record")),
        },
    )
    common.csv_download(table.drop(columns="fix"), "data-quality-records.csv", key="dq_records_csv")
    dq.fix_form(actor, shown, scores)
