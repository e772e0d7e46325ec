"""Audit log: every write, filterable by user, entity and date, exportable as CSV."""

import json
from datetime import date, timedelta

import streamlit as st

from crm_impl.core import audit
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_datetime, t, tn
from crm_impl.core.ui import common

actor = common.page("pages/admin/audit.py")
with read_session() as session:
    usernames, entities = audit.audit_filters(session=session, actor=actor)

c1, c2, c3 = st.columns([1, 1, 2])
username = c1.selectbox(
    t("field.user"), [None, *usernames], format_func=lambda v: t("common.all") if v is None else v
)
entity = c2.selectbox(
    t("field.entity"), [None, *entities], format_func=lambda v: t("common.all") if v is None else v
)
period = c3.date_input(t("field.period"), value=(date.today() - timedelta(days=30), date.today()))
since, until = (period + (None,))[:2] if isinstance(period, tuple) else (period, None)

with read_session() as session:
    df = audit.list_entries(
        session=session, actor=actor, username=username, entity=entity, since=since, until=until
    )

st.caption(tn("audit.count", len(df)))
for col in ("before", "after"):
    df[col] = df[col].map(lambda v: json.dumps(v, ensure_ascii=False) if v else "")
st.dataframe(
    df.assign(at=df["at"].map(fmt_datetime)),
    hide_index=True,
    width="stretch",
    column_config={
        "id": "#",
        "at": t("field.when"),
        "username": t("field.user"),
        "entity": t("field.entity"),
        "entity_id": t("field.entity_id"),
        "action": t("field.action"),
        "before": t("field.before"),
        "after": t("field.after"),
    },
)
common.csv_download(df, "audit.csv", key="audit_csv")
