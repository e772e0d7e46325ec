"""My training (issue 10: everyone sees their own training record): the sessions I was invited to,
whether I attended and my scores."""

import streamlit as st

from crm_impl.core.i18n import fmt_number, t
from crm_impl.core.ui import common
from crm_impl.training import ui

actor = common.page("pages/training/my_training.py")
record = ui.my_record(actor)
if record is None:
    st.info(t("training.ui.no_person"), icon=":material/info:")
    st.stop()

attended = record.loc[record["attended"].fillna(False).astype(bool)]
scored = attended["score"].dropna()
c = st.columns(3)
c[0].metric(t("training.ui.invited_to"), fmt_number(len(record)))
c[1].metric(t("training.ui.attended_count"), fmt_number(len(attended)))
c[2].metric(t("training.field.mean_score"), fmt_number(float(scored.mean()) if len(scored) else None, 1))

if record.empty:
    st.info(t("training.ui.no_record"), icon=":material/info:")
else:
    st.dataframe(
        record,
        hide_index=True,
        width="stretch",
        placeholder=common.EMPTY,
        column_order=["session_date", "title", "module", "status_label", "attended_label", "score"],
        column_config={
            "session_date": st.column_config.DateColumn(ui.field("session_date"), format="localized"),
            "title": st.column_config.TextColumn(ui.field("title"), width="large"),
            "module": ui.field("module"),
            "status_label": ui.field("status"),
            "attended_label": ui.field("attended"),
            "score": st.column_config.NumberColumn(ui.field("score"), format="%d"),
        },
    )
