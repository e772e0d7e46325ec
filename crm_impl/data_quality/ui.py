"""Widgets of the data-quality pages: the cached scan (keyed by the data version), translated
labels, the links to the page that fixes a record, and the small fix form for a contact or an
account (the pipeline's own services write it, with their permission and version checks)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_number, get_locale, t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.core.ui import session as ui_session
from crm_impl.data_quality import metrics, queries
from crm_impl.data_quality.rules import Scan
from crm_impl.data_quality.vocabulary import DIMENSIONS, ENTITIES
from crm_impl.pipeline.models import Account, Contact, ContactUpdate
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.ui import account_panel

PAGE_OF = {"deal": "pipeline_deal", "account": "pipeline_client", "contact": "pipeline_client"}


def _key() -> tuple[int, str]:
    return ui_session.data_key()


@st.cache_data(show_spinner=False, max_entries=4)
def _scan(version: int, url: str, today: str) -> tuple[Scan, queries.DqData]:
    with read_session() as session:
        data = queries.load(session)
    return queries.run(data), data


def scan() -> tuple[Scan, queries.DqData]:
    from crm_impl.core.clock import now

    return _scan(*_key(), now().date().isoformat())


@st.cache_data(show_spinner=False, max_entries=4)
def _snapshots(version: int, url: str) -> pd.DataFrame:
    with read_session() as session:
        return queries.snapshots(session)


def snapshots() -> pd.DataFrame:
    return _snapshots(*_key())


@st.cache_data(show_spinner=False, max_entries=8)
def _record_issues(version: int, url: str, today: str, locale: str) -> pd.DataFrame:
    found, data = _scan(version, url, today)
    return queries.record_issues(found, data)


def record_issues() -> pd.DataFrame:
    from crm_impl.core.clock import now

    return _record_issues(*_key(), now().date().isoformat(), get_locale())


def chart_labels() -> dict[str, str]:
    return {
        **{d: t(f"dq.dimension.{d}") for d in (*DIMENSIONS, metrics.OVERALL)},
        "dimension": t("dq.ui.dimension"),
        "score": t("dq.ui.score"),
        "day": t("dq.ui.day"),
        "checked": t("dq.ui.checked"),
        "failing": t("dq.ui.failing"),
    }


def score_table(
    scores: pd.DataFrame, key: str, header: str, names: dict[Any, str] | None = None
) -> pd.DataFrame:
    """Column `header` (the entity or group, named by `names`) + one column per dimension and
    overall, translated headers."""
    wide = scores.pivot_table(index=key, columns="dimension", values="score", dropna=False, sort=False)
    wide = wide.reindex(columns=[metrics.OVERALL, *DIMENSIONS])
    groups = [names.get(i, str(i)) if names is not None else i for i in wide.index]
    wide.columns = [t(f"dq.dimension.{c}") for c in wide.columns]
    out = wide.round(1).reset_index(drop=True)
    out.insert(0, header, groups)
    return out


def show_scores(table: pd.DataFrame) -> None:
    """A `score_table` with every score to one decimal (as the headline shows it)."""
    st.dataframe(
        table,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="%.1f") for c in table.columns[1:]},
    )


def entity_name(entity: str) -> str:
    return t(f"dq.entity.{entity}")


def link(entity: pd.Series, record_id: pd.Series, account_id: pd.Series) -> pd.Series:
    """The address of the page that fixes each record: a deal's page, a contact's or an
    account's client page."""
    deal = "/pipeline_deal?deal=" + record_id.astype(str)
    client = "/pipeline_client?account=" + account_id.astype("Int64").astype(str)
    out = deal.where(entity == "deal", client)
    return out.where((entity == "deal") | account_id.notna(), None)


def _record_score(scores: pd.DataFrame, entity: str, record_id: int) -> float:
    row = scores[(scores["entity"] == entity) & (scores["id"] == record_id)]
    return float(row["score"].iloc[0]) if len(row) and pd.notna(row["score"].iloc[0]) else 100.0


def score_moved(scores: pd.DataFrame) -> None:
    """The record last shown in the fix form: when its score has changed since (the user's
    save, or anyone's), say so once, before and after — the feedback of a fix."""
    watched = st.session_state.pop("dq_fix_watch", None)
    if watched is None:
        return
    entity, record_id, label, before = watched
    after = _record_score(scores, entity, record_id)
    if round(after, 1) != round(before, 1):
        st.success(
            t(
                "dq.ui.score_moved",
                record=common.plain(label),
                before=fmt_number(before, 1),
                after=fmt_number(after, 1),
            ),
            icon=":material/trending_up:" if after > before else ":material/trending_down:",
        )


def fix_form(actor: Actor, issues: pd.DataFrame, scores: pd.DataFrame) -> None:
    """Pick a flagged contact or account and correct its fields here; saved through the
    pipeline's services (owner or manager only, version-checked, audited). `scores`: every
    record's score (`metrics.record_scores`), for the before/after of a fix (`score_moved`)."""
    fixable = issues[issues["entity"].isin(["contact", "account"])]
    if fixable.empty or not actor.can("deal.write"):
        return
    st.subheader(t("dq.ui.fix_here"))
    options = list(zip(fixable["entity"], fixable["id"], strict=True))
    shown = dict(zip(options, (fixable["label"].astype(str) + " — " + fixable["what"]).tolist(), strict=True))
    picked = st.selectbox(
        t("dq.ui.pick_record"),
        options,
        format_func=lambda o: f"{entity_name(o[0])}: {shown.get(o, '')}",
        key="dq_fix_pick",
    )
    if picked is None:
        return
    entity, record_id = picked
    st.session_state["dq_fix_watch"] = (
        entity,
        int(record_id),
        str(fixable["label"].iloc[options.index(picked)]),
        _record_score(scores, entity, int(record_id)),
    )
    with read_session() as session:
        row: Contact | Account | None = (
            session.get(Contact, int(record_id))
            if entity == "contact"
            else session.get(Account, int(record_id))
        )
    if row is None:
        return
    if isinstance(row, Account):  # the client page's own form: registry numbers and address too
        account_panel.edit_form(actor, row, key="dq_fix_account", success_key="dq.ui.saved")
        return
    version = common.shown_version(f"dq_fix_{entity}_{record_id}", int(row.version))
    with common.form(f"dq_fix_{entity}_{record_id}"):
        name = st.text_input(t("dq.field.full_name"), row.full_name)
        email = st.text_input(t("dq.field.email"), row.email or "")
        phone = st.text_input(t("dq.field.phone"), row.phone or "")
        if st.form_submit_button(t("common.save"), type="primary"):
            common.save(
                pipeline.update_contact,
                "dq.ui.saved",
                contact_id=int(record_id),
                expected_version=version,
                data=ContactUpdate(full_name=name, email=email, phone=phone),
            )


__all__ = ["ENTITIES"]
