"""Candidate duplicates of accounts and of contacts, side by side with their score and reason;
pick the record to keep and merge (confirmed), or dismiss the pair as "not a duplicate".
Merging and dismissing need `dq.merge` (checked again in the service); the pairs export as CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_impl.core import audit
from crm_impl.core.config import get_settings
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_number, t, tn
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.data_quality.duplicates import SHOWN
from crm_impl.data_quality.services import merge

actor = common.page("pages/data_quality/duplicates.py")


@st.cache_data(show_spinner=False, max_entries=8)
def _candidates(version: int, url: str, kind: str) -> pd.DataFrame:
    with read_session() as session:
        return merge.candidates(session, kind)


def candidates(kind: str) -> pd.DataFrame:
    with read_session() as session:
        version = audit.data_version(session=session)
    return _candidates(version, get_settings().database_url, kind)


def _text(value: object) -> str:
    return (
        "" if value is None or (isinstance(value, float) and pd.isna(value)) or pd.isna(value) else str(value)
    )


def table(pairs: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The pairs as the user reads (and exports) them: translated reason, plain text cells."""
    out = pd.DataFrame(
        {
            "score": pairs["score"].round(1),
            "reason": pairs["reason"].map(lambda r: t(f"dq_duplicates.reason.{r}")),
        }
    )
    for side in ("left", "right"):
        out[f"{side}_id"] = pairs[f"{side}_id"].astype("int64")
        for name in SHOWN[kind]:
            column = f"{side}_{name}"
            if column in pairs:
                out[column] = pairs[column].map(_text)
    return out


def column_config(kind: str) -> dict[str, object]:
    config: dict[str, object] = {
        "score": st.column_config.NumberColumn(t("dq_duplicates.ui.score"), format="%.1f"),
        "reason": st.column_config.TextColumn(t("dq_duplicates.ui.reason"), width="medium"),
    }
    for side in ("left", "right"):
        config[f"{side}_id"] = st.column_config.NumberColumn(t(f"dq_duplicates.ui.{side}_id"), format="%d")
        for name in SHOWN[kind]:
            config[f"{side}_{name}"] = t(
                f"dq_duplicates.ui.{side}_field", field=t(f"dq_duplicates.field.{name}")
            )
    return config


def decide(actor: Actor, pairs: pd.DataFrame, kind: str) -> None:
    """Pick a pair, see both records side by side, keep one and merge, or dismiss the pair."""
    st.subheader(t("dq_duplicates.ui.decide"))
    # labels made here, in the page's language (a format_func may be called outside this run)
    names = pairs["left_name"].map(_text) + " ↔ " + pairs["right_name"].map(_text)
    labels = [f"{n} ({fmt_number(float(sc), 1)})" for n, sc in zip(names, pairs["score"], strict=True)]
    picked = st.selectbox(
        t("dq_duplicates.ui.pick_pair"),
        list(range(len(pairs))),
        format_func=lambda i: labels[i],
        key=f"dq_dup_pick_{kind}",
    )
    if picked is None:
        return
    row = pairs.iloc[int(picked)]
    left_id, right_id = int(row["left_id"]), int(row["right_id"])
    with read_session() as session:
        current = merge.versions(session, kind, [left_id, right_id])
    if len(current) < 2:  # merged or removed meanwhile: the next run no longer lists it
        st.info(t("dq_duplicates.ui.gone"), icon=":material/info:")
        return
    shown = {i: common.shown_version(f"dq_dup_{kind}_{i}", current[i]) for i in (left_id, right_id)}
    st.caption(t(f"dq_duplicates.reason.{row['reason']}"))
    cols = st.columns(2)
    for col, side, record_id in ((cols[0], "left", left_id), (cols[1], "right", right_id)):
        with col.container(border=True):
            st.text(t("dq_duplicates.ui.record_id", id=record_id))
            for name in SHOWN[kind]:
                st.text(f"{t(f'dq_duplicates.field.{name}')}: {_text(row.get(f'{side}_{name}'))}")
    keep_labels = {
        # a radio's labels render Markdown: the names are escaped (user text is data)
        left_id: t("dq_duplicates.ui.keep_option", id=left_id, name=common.plain(_text(row["left_name"]))),
        right_id: t("dq_duplicates.ui.keep_option", id=right_id, name=common.plain(_text(row["right_name"]))),
    }
    keep = st.radio(
        t("dq_duplicates.ui.keep"),
        [left_id, right_id],
        format_func=lambda i: keep_labels[i],
        horizontal=True,
        key=f"dq_dup_keep_{kind}_{left_id}_{right_id}",
    )
    gone = right_id if keep == left_id else left_id
    st.caption(t("dq_duplicates.ui.merge_explained"))
    confirmed = st.checkbox(t("dq_duplicates.ui.confirm"), key=f"dq_dup_confirm_{kind}_{left_id}_{right_id}")
    b = st.columns(2)
    if b[0].button(
        t("dq_duplicates.ui.merge"),
        type="primary",
        icon=":material/merge:",
        disabled=not confirmed,
        key=f"dq_dup_merge_{kind}",
    ):
        common.save(
            merge.merge,
            "dq_duplicates.ui.merged",
            kind=kind,
            keep_id=int(keep),
            merge_id=int(gone),
            expected_versions=(shown[int(keep)], shown[int(gone)]),
        )
    if b[1].button(t("dq_duplicates.ui.dismiss"), icon=":material/block:", key=f"dq_dup_dismiss_{kind}"):
        common.save(
            merge.dismiss_pair, "dq_duplicates.ui.dismissed", kind=kind, left_id=left_id, right_id=right_id
        )


tabs = st.tabs([t("dq_duplicates.ui.tab_account"), t("dq_duplicates.ui.tab_contact")])
for tab, kind in zip(tabs, ("account", "contact"), strict=True):
    with tab:
        pairs = candidates(kind)
        st.caption(tn("dq_duplicates.ui.pairs", len(pairs)))
        if pairs.empty:
            st.info(t("dq_duplicates.ui.none"), icon=":material/check_circle:")
            continue
        shown_table = table(pairs, kind)
        st.dataframe(
            shown_table,
            placeholder=common.EMPTY,
            hide_index=True,
            width="stretch",
            column_config=column_config(kind),  # type: ignore[arg-type]
        )
        common.csv_download(shown_table, f"duplicates-{kind}s.csv", key=f"dq_dup_csv_{kind}")
        if actor.can("dq.merge"):
            decide(actor, pairs, kind)
