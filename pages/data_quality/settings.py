"""The scan's settings: required fields per entity, N days for timeliness, the burst limits and
the known sectors (PMs, sales managers, administrators)."""

from __future__ import annotations

import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.ui import common
from crm_impl.data_quality import queries, services
from crm_impl.data_quality.models import DqSettingsUpdate
from crm_impl.data_quality.vocabulary import REQUIRABLE

actor = common.page("pages/data_quality/settings.py")
with read_session() as session:
    row = queries.settings(session)
version = common.shown_version("dq_settings", int(row.version))

with common.form("dq_settings"):
    required = {
        entity: st.multiselect(
            t(f"dq.field.required_{entity}"),
            list(fields),
            default=[f for f in getattr(row, f"required_{entity}") if f in fields],
            format_func=lambda f: t(f"dq.field.{f}"),
            placeholder=t("common.choose_many"),
            key=f"dq_required_{entity}",
        )
        for entity, fields in REQUIRABLE.items()
    }
    stale = st.number_input(t("dq.field.stale_days"), min_value=1, max_value=3650, value=int(row.stale_days))
    c = st.columns(2)
    burst_count = c[0].number_input(t("dq.field.burst_count"), min_value=2, value=int(row.burst_count))
    burst_minutes = c[1].number_input(
        t("dq.field.burst_minutes"), min_value=1, max_value=1440, value=int(row.burst_minutes)
    )
    sectors = st.text_area(t("dq.field.sectors"), "\n".join(row.sectors), height=200)
    if st.form_submit_button(t("common.save"), type="primary", disabled=not actor.can("dq.manage")):
        common.save(
            services.update_settings,
            "dq.ui.settings_saved",
            expected_version=version,
            data=DqSettingsUpdate(
                required_account=required["account"],
                required_contact=required["contact"],
                required_deal=required["deal"],
                stale_days=int(stale),
                burst_count=int(burst_count),
                burst_minutes=int(burst_minutes),
                sectors=sectors,
            ),
        )
