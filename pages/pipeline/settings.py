"""Pipeline settings: stages (names, order, probability, cost, rot threshold), lost reasons and
the monthly sales budget."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import get_locale, t
from crm_impl.core.ui import common
from crm_impl.pipeline.services import settings as stage_admin
from crm_impl.pipeline.services import stages

common.page("pages/pipeline/settings.py")
with read_session() as session:
    rows = stages.list_stages(session=session)
    reasons = stage_admin.list_lost_reasons(session=session)
    budget = stage_admin.list_budget(session=session)

stage_tab, reason_tab, budget_tab = st.tabs(
    [t("pipeline.settings.stages"), t("pipeline.settings.reasons"), t("pipeline.settings.budget")]
)
EDITABLE = ["name_en", "name_pl", "probability", "stage_cost", "rot_days", "active"]

with stage_tab:
    st.caption(t("pipeline.settings.stages_help"))
    df = pd.DataFrame([{**r.model_dump(), "stage_cost": float(r.stage_cost)} for r in rows])
    edited = st.data_editor(
        df[["key", "position", "kind", *EDITABLE]],
        hide_index=True,
        width="stretch",
        key="stages_editor",
        disabled=["key", "kind"],
        column_config={
            "key": t("pipeline.field.key"),
            "position": st.column_config.NumberColumn(t("pipeline.field.position"), min_value=1, step=1),
            "kind": t("pipeline.field.kind"),
            "name_en": t("pipeline.field.name_en"),
            "name_pl": t("pipeline.field.name_pl"),
            "probability": st.column_config.NumberColumn(
                t("pipeline.field.probability"), min_value=0.0, max_value=1.0, step=0.05
            ),
            "stage_cost": st.column_config.NumberColumn(
                t("pipeline.field.stage_cost"), min_value=0.0, format="%.0f"
            ),
            "rot_days": st.column_config.NumberColumn(t("pipeline.field.rot_days"), min_value=1, step=1),
            "active": st.column_config.CheckboxColumn(t("field.active")),
        },
    )
    if st.button(t("common.save"), icon=":material/save:", key="save_stages"):
        ok = True
        for (_, old), (_, new) in zip(df.iterrows(), edited.iterrows(), strict=True):
            changes = {c: new[c] for c in EDITABLE if new[c] != old[c]}
            if changes:
                ok = (
                    ok
                    and common.run(
                        stage_admin.update_stage,
                        None,
                        stage_id=int(old["id"]),
                        expected_version=int(old["version"]),
                        **changes,
                    )
                    is not None
                )
        order = list(edited.sort_values(["position", "key"])["key"])
        if ok and order != list(df["key"]):
            ok = common.run(stage_admin.reorder_stages, None, keys=order) is not None
        if ok:
            st.toast(t("common.saved"), icon=":material/check_circle:")
            st.rerun()
    with common.form("add_stage"):
        st.markdown(f"**{t('pipeline.settings.add_stage')}**")
        c = st.columns(4)
        key = c[0].text_input(t("pipeline.field.key"), help=t("pipeline.settings.key_help"))
        name_en = c[1].text_input(t("pipeline.field.name_en"))
        name_pl = c[2].text_input(t("pipeline.field.name_pl"))
        after = c[3].selectbox(
            t("pipeline.settings.after"),
            [r.key for r in rows],
            format_func=lambda k: next(
                r.name_pl if get_locale() == "pl" else r.name_en for r in rows if r.key == k
            ),
        )
        c = st.columns(3)
        prob = c[0].number_input(t("pipeline.field.probability"), 0.0, 1.0, 0.5, 0.05)
        cost = c[1].number_input(t("pipeline.field.stage_cost"), 0.0, value=0.0, step=50.0)
        rot = c[2].number_input(t("pipeline.field.rot_days"), 1, 3650, 14)
        if st.form_submit_button(t("pipeline.settings.add_stage"), icon=":material/add:"):
            if common.run(
                stage_admin.add_stage,
                "common.saved",
                key=key,
                name_en=name_en,
                name_pl=name_pl,
                after_key=after,
                probability=prob,
                stage_cost=cost,
                rot_days=rot,
            ):
                common.forms_saved()
                st.rerun()

with reason_tab:
    st.caption(t("pipeline.settings.reasons_help"))
    rdf = pd.DataFrame(
        [r.model_dump() for r in reasons], columns=["key", "name_en", "name_pl", "active", "position"]
    )
    redited = st.data_editor(
        rdf,
        hide_index=True,
        width="stretch",
        num_rows="dynamic",
        key="reasons_editor",
        column_config={
            "key": t("pipeline.field.key"),
            "name_en": t("pipeline.field.name_en"),
            "name_pl": t("pipeline.field.name_pl"),
            "active": st.column_config.CheckboxColumn(t("field.active"), default=True),
            "position": st.column_config.NumberColumn(t("pipeline.field.position"), step=1),
        },
    )
    if st.button(t("common.save"), icon=":material/save:", key="save_reasons"):
        before = {r["key"]: r for r in rdf.to_dict(orient="records")}
        ok = True
        for r in redited.to_dict(orient="records"):
            if before.get(r["key"]) != r:
                pos = None if pd.isna(r.get("position")) else int(r["position"])
                ok = (
                    ok
                    and common.run(
                        stage_admin.save_lost_reason,
                        None,
                        key=r["key"],
                        name_en=r["name_en"],
                        name_pl=r["name_pl"],
                        active=bool(r["active"]),
                        position=pos,
                    )
                    is not None
                )
        if ok:
            st.toast(t("common.saved"), icon=":material/check_circle:")
            st.rerun()

with budget_tab:
    st.caption(t("pipeline.settings.budget_help"))
    bdf = pd.DataFrame(
        [{"month": b.month, "amount": float(b.amount)} for b in budget], columns=["month", "amount"]
    )
    st.dataframe(
        bdf,
        hide_index=True,
        width="stretch",
        column_config={
            "month": st.column_config.DateColumn(t("pipeline.measure.month"), format="YYYY-MM"),
            "amount": st.column_config.NumberColumn(t("pipeline.measure.budget"), format="%.0f"),
        },
    )
    with common.form("budget"):
        c = st.columns(2)
        month = c[0].date_input(t("pipeline.measure.month"), value=date.today().replace(day=1))
        amount = c[1].number_input(t("pipeline.measure.budget"), min_value=0.0, step=5000.0)
        if st.form_submit_button(t("common.save"), icon=":material/save:"):
            if common.run(stage_admin.set_budget, "common.saved", month=month, amount=amount):
                common.forms_saved()
                st.rerun()
