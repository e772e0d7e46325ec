"""Pipeline settings: stages (names, order, probability, cost, rot threshold), lost reasons and
the monthly sales budget."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_money, get_locale, t
from crm_impl.core.ui import common
from crm_impl.pipeline.models import (
    STAGE_FIELDS,
    LostReasonGridRow,
    SalesBudgetCreate,
    StageDefinitionCreate,
    StageDefinitionPublic,
    StageDefinitionUpdate,
    StageGridRow,
)
from crm_impl.pipeline.queries import values
from crm_impl.pipeline.services import settings as stage_admin
from crm_impl.pipeline.services import stages

common.page("pages/pipeline/settings.py")
with read_session() as session:
    rows = [StageDefinitionPublic.model_validate(r) for r in stages.list_stages(session=session)]
    reasons = stage_admin.list_lost_reasons(session=session)
    budget = stage_admin.list_budget(session=session)


def _new_grid(name: str) -> None:
    """After a save: the grid starts again from the rows as stored (a new editor key)."""
    st.session_state[f"{name}_editor_gen"] = st.session_state.get(f"{name}_editor_gen", 0) + 1


def _plain(value: Any) -> Any:
    """A grid cell as a plain Python value (numpy scalars become int/float/bool)."""
    return value.item() if hasattr(value, "item") else value


stage_tab, reason_tab, budget_tab = st.tabs(
    [t("pipeline.settings.stages"), t("pipeline.settings.reasons"), t("pipeline.settings.budget")]
)
EDITABLE = list(STAGE_FIELDS)  # the grid's editable columns are StageDefinitionUpdate's fields

with stage_tab:
    st.caption(t("pipeline.settings.stages_help"))
    df = pd.DataFrame([{**r.model_dump(), "stage_cost": float(r.stage_cost)} for r in rows])
    stages_key = f"stages_editor_{st.session_state.get('stages_editor_gen', 0)}"  # new after a save
    shown = {r.id: common.shown_version(f"stage_{r.id}", r.version, grid=stages_key) for r in rows}
    edited = st.data_editor(
        # the kind reads as a word; the key is the stage's identifier (read-only, labelled as such)
        df[["key", "position", "kind", *EDITABLE]].assign(
            kind=df["kind"].map(lambda k: t(f"pipeline.stage_kind.{k}"))
        ),
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        key=stages_key,
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
            "stage_cost": common.money_column(
                t("pipeline.field.stage_cost"), values.base_currency(), min_value=0.0
            ),
            "rot_days": st.column_config.NumberColumn(t("pipeline.field.rot_days"), min_value=1, step=1),
            "active": st.column_config.CheckboxColumn(t("field.active")),
        },
    )
    if st.button(t("common.save"), icon=":material/save:", key="save_stages"):
        # every row in one transaction: a bad row is named and nothing is saved
        grid = [
            StageGridRow(
                id=int(old["id"]),
                expected_version=shown[int(old["id"])],  # as the grid showed it
                position=int(new["position"]) if pd.notna(new["position"]) else int(old["position"]),
                changes=StageDefinitionUpdate(**{c: _plain(new[c]) for c in EDITABLE if new[c] != old[c]}),
            )
            for (_, old), (_, new) in zip(df.iterrows(), edited.iterrows(), strict=True)
        ]
        common.save(
            stage_admin.save_stages, "common.saved", rows=grid, before_rerun=lambda _: _new_grid("stages")
        )
    with common.form("add_stage"):
        st.markdown(f"**{t('pipeline.settings.add_stage')}**")
        cols = st.columns(4)
        key = cols[0].text_input(t("pipeline.field.key"), help=t("pipeline.settings.key_help"))
        name_en = cols[1].text_input(t("pipeline.field.name_en"))
        name_pl = cols[2].text_input(t("pipeline.field.name_pl"))
        after = cols[3].selectbox(
            t("pipeline.settings.after"),
            [r.key for r in rows],
            format_func=lambda k: next(
                r.name_pl if get_locale() == "pl" else r.name_en for r in rows if r.key == k
            ),
            placeholder=t("common.choose"),
        )
        c = st.columns(3)
        prob = c[0].number_input(t("pipeline.field.probability"), 0.0, 1.0, 0.5, 0.05)
        cost = c[1].number_input(t("pipeline.field.stage_cost"), 0.0, value=0.0, step=50.0)
        rot = c[2].number_input(t("pipeline.field.rot_days"), 1, 3650, 14)
        if st.form_submit_button(t("pipeline.settings.add_stage"), icon=":material/add:"):
            common.save(
                stage_admin.add_stage,
                "common.saved",
                data=StageDefinitionCreate(
                    key=key,
                    name_en=name_en,
                    name_pl=name_pl,
                    after_key=after,
                    probability=prob,
                    stage_cost=cost,
                    rot_days=rot,
                ),
                before_rerun=lambda _: common.forms_saved(),
            )

with reason_tab:
    st.caption(t("pipeline.settings.reasons_help"))
    rdf = pd.DataFrame(
        [r.model_dump() for r in reasons],
        columns=["id", "version", "key", "name_en", "name_pl", "active", "position"],
    )
    reasons_key = f"reasons_editor_{st.session_state.get('reasons_editor_gen', 0)}"  # new after a save
    rshown = {
        int(r.id or 0): common.shown_version(f"reason_{r.id}", r.version, grid=reasons_key) for r in reasons
    }
    redited = st.data_editor(
        rdf,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        num_rows="dynamic",
        key=reasons_key,
        column_order=["key", "name_en", "name_pl", "active", "position"],
        column_config={
            "key": t("pipeline.field.key"),
            "name_en": t("pipeline.field.name_en"),
            "name_pl": t("pipeline.field.name_pl"),
            "active": st.column_config.CheckboxColumn(t("field.active"), default=True),
            "position": st.column_config.NumberColumn(t("pipeline.field.position"), step=1),
        },
    )
    if st.button(t("common.save"), icon=":material/save:", key="save_reasons"):
        # every row in one transaction: a bad row is named and nothing is saved
        reason_rows = [
            LostReasonGridRow(
                id=None if pd.isna(r.get("id")) else int(r["id"]),
                expected_version=None
                if pd.isna(r.get("id"))
                else rshown.get(int(r["id"]), int(r["version"])),
                key="" if pd.isna(r.get("key")) else str(r["key"]),
                name_en="" if pd.isna(r.get("name_en")) else str(r["name_en"]),
                name_pl="" if pd.isna(r.get("name_pl")) else str(r["name_pl"]),
                position=None if pd.isna(r.get("position")) else int(r["position"]),
                active=True if pd.isna(r.get("active")) else bool(r["active"]),
            )
            for r in redited.to_dict(orient="records")
        ]
        common.save(
            stage_admin.save_lost_reasons,
            "common.saved",
            rows=reason_rows,
            before_rerun=lambda _: _new_grid("reasons"),
        )

with budget_tab:
    st.caption(t("pipeline.settings.budget_help"))
    bdf = pd.DataFrame(
        [{"month": b.month, "amount": fmt_money(b.amount, values.base_currency())} for b in budget],
        columns=["month", "amount"],
    )
    st.dataframe(
        bdf,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "month": st.column_config.DateColumn(t("pipeline.measure.month"), format="YYYY-MM"),
            "amount": t("pipeline.measure.budget"),
        },
    )
    with common.form("budget"):
        halves = st.columns(2)
        month = halves[0].date_input(t("pipeline.measure.month"), value=date.today().replace(day=1))
        amount = halves[1].number_input(t("pipeline.measure.budget"), min_value=0.0, step=5000.0)
        if st.form_submit_button(t("common.save"), icon=":material/save:"):
            common.save(
                stage_admin.set_budget,
                "common.saved",
                data=SalesBudgetCreate(month=month, amount=amount),
                before_rerun=lambda _: common.forms_saved(),
            )
