"""Audit log: every write, filterable by user, entity and date, exportable as CSV."""

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from crm_impl.core import audit
from crm_impl.core.config import local_tz
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_datetime, t, tn
from crm_impl.core.ui import common, role_grants
from crm_impl.pipeline import ui as pipeline_ui

actor = common.page("pages/admin/audit.py")
with read_session() as session:
    usernames, entities = audit.audit_filters(session=session, actor=actor)

c1, c2, c3 = st.columns([1, 1, 2])
username = c1.selectbox(
    t("field.user"),
    [None, *usernames],
    format_func=lambda v: t("common.all") if v is None else v,
    placeholder=t("common.choose"),
)
entity = c2.selectbox(
    t("field.entity"),
    [None, *entities],
    format_func=lambda v: t("common.all") if v is None else audit.entity_label(v),
    placeholder=t("common.choose"),
)
today = datetime.now(local_tz()).date()  # the filter's dates are local dates (audit.list_entries)
period = c3.date_input(t("field.period"), value=(today - timedelta(days=30), today))
since, until = (period + (None,))[:2] if isinstance(period, tuple) else (period, None)

with read_session() as session:
    df = audit.list_entries(
        session=session, actor=actor, username=username, entity=entity, since=since, until=until
    )


def _names() -> dict[str, Any]:
    """Ids the log records that are cheap to show by name: stages, users and clients."""
    lookups = pipeline_ui.current_lookups()
    stage_names = pipeline_ui.stage_name_map(lookups["stages"]) if len(lookups["stages"]) else {}
    account_ids = sorted(
        {
            int(v)
            for side in ("before", "after")
            for change in df[side]
            if change
            for k, v in change.items()
            if k == "account_id" and v is not None
        }
    )
    accounts = pipeline_ui.account_names(account_ids) if account_ids else {}
    users = lookups["owners"]
    return {
        "stage_id": stage_names,
        "from_stage_id": stage_names,
        "to_stage_id": stage_names,
        "owner_id": users,
        "user_id": users,
        "account_id": accounts,
    }


st.caption(tn("audit.count", len(df)))
shown = audit.readable_entries(df, _names())
st.dataframe(
    shown.assign(at=shown["at"].map(fmt_datetime)),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config={
        "id": "#",
        "at": t("field.when"),
        "username": t("field.user"),
        "entity": t("field.entity"),
        "entity_id": t("field.entity_id"),
        "action": t("field.action"),
        "changes": t("field.changes"),
    },
)
common.csv_download(shown, "audit.csv", key="audit_csv")
role_grants.show(actor)  # separation of duties: who gave whom decision rights (issue 8)
