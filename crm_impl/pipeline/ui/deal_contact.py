"""A deal's contact person (shown on the deal page, picked among the client's contacts or added
inline) and the new-deal form with its client and contact person (pages/pipeline/deal.py stays
a storyboard)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from crm_impl.core.db import read_session
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.pipeline.models import ContactCreate, ContactPublic, DealCreate, DealPublic, DealUpdate
from crm_impl.pipeline.services import deals as pipeline
from crm_impl.pipeline.ui.deal_panels import open_new


def may_edit(actor: Actor, deal: DealPublic) -> bool:
    """The deal service's rule, mirrored to show or hide the controls (the service decides)."""
    return actor.can("deal.write") and (deal.owner_id == actor.id or actor.can("deal.write_any"))


def summary(contact: ContactPublic | None) -> None:
    """The contact person as plain text (user text is data): name, position, e-mail, phone."""
    if contact is None:
        st.caption(t("pipeline.contact.none"))
        return
    parts = [contact.full_name, contact.position, contact.email or "", contact.phone or ""]
    st.text(f"{t('pipeline.contact.title')}: " + " · ".join(p for p in parts if p))


def panel(deal: DealPublic, detail: dict[str, Any], editable: bool) -> None:
    """Pick the deal's contact person among its client's contacts, or add one for that client."""
    contact: ContactPublic | None = detail["contact"]
    if contact is not None:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "full_name": contact.full_name,
                        "position": contact.position,
                        "email": contact.email,
                        "phone": contact.phone,
                    }
                ]
            ),
            hide_index=True,
            placeholder=common.EMPTY,
            column_config={
                "full_name": t("field.full_name"),
                "position": t("pipeline.field.job_title"),
                "email": t("pipeline.contact.email"),
                "phone": t("pipeline.field.phone"),
            },
        )
    else:
        st.caption(t("pipeline.contact.none"))
    if deal.account_id is None:
        st.info(t("pipeline.contact.no_client"), icon=":material/info:")
        return
    contacts = {c.id: c for c in detail["contacts"]}
    if not contacts:
        st.caption(t("pipeline.contact.no_contacts"))
    version = common.shown_version(f"deal_contact_{deal.id}", deal.version)
    if contacts:
        options: list[int | None] = [None, *contacts]
        c = st.columns([3, 1], vertical_alignment="bottom")
        picked = c[0].selectbox(
            t("pipeline.contact.pick"),
            options,
            index=options.index(deal.contact_id) if deal.contact_id in options else 0,
            format_func=lambda i: "–" if i is None else _label(contacts[i]),
            key=f"contact_pick_{deal.id}",
            disabled=not editable,
        )
        if c[1].button(
            t("common.save"),
            icon=":material/save:",
            key=f"contact_save_{deal.id}",
            disabled=not editable or picked == deal.contact_id,
        ):
            common.save(
                pipeline.update_deal,
                "pipeline.contact.set" if picked is not None else "pipeline.contact.removed",
                deal_id=deal.id,
                expected_version=version,
                data=DealUpdate(contact_id=picked),
            )
    if not editable:
        return
    with (
        st.expander(t("pipeline.contact.add"), icon=":material/person_add:"),
        common.form(f"contact_new_{deal.id}"),
    ):
        row = st.columns(2)
        name = row[0].text_input(t("field.full_name"), max_chars=120)
        position = row[1].text_input(t("pipeline.field.job_title"), max_chars=80)
        email = row[0].text_input(t("pipeline.contact.email"), max_chars=254)
        phone = row[1].text_input(t("pipeline.field.phone"), max_chars=40)
        if st.form_submit_button(t("pipeline.contact.add"), icon=":material/person_add:"):
            common.save(
                pipeline.add_deal_contact,
                "pipeline.contact.added",
                deal_id=deal.id,
                expected_version=version,
                data=ContactCreate(
                    account_id=deal.account_id, full_name=name, position=position, email=email, phone=phone
                ),
                before_rerun=lambda _: common.forms_saved(),
            )


def _label(contact: ContactPublic) -> str:
    return f"{contact.full_name} ({contact.position})" if contact.position else contact.full_name


def new_deal(actor: Actor, accounts: dict[int, str], stages: pd.DataFrame, names: dict[int, str]) -> None:
    """The new-deal form: title, stage, client and its contact person, value, expected close.
    The client is picked first (outside the form) so the contact list is that client's."""
    by_key = stages.set_index("key")
    with st.expander(t("pipeline.deal.new"), icon=":material/add:"):
        account_id = st.selectbox(
            t("pipeline.field.account"),
            [None, *accounts],
            format_func=lambda v: "–" if v is None else accounts[v],
            placeholder=t("common.choose"),
            key="new_deal_account",
        )
        with read_session() as session:
            contacts = pipeline.deal_contacts(session=session, actor=actor, account_id=account_id)
        by_id = {c.id: c for c in contacts}
        with common.form("new_deal"):
            c = st.columns(3)
            title = c[0].text_input(t("pipeline.field.title"))
            stage_key = c[1].selectbox(
                t("field.stage"),
                [k for k in by_key.index if by_key.loc[k, "kind"] == "open"],
                format_func=lambda k: names[int(by_key.loc[k, "id"])],
                placeholder=t("common.choose"),
            )
            contact_id = c[2].selectbox(
                t("pipeline.field.contact"),
                [None, *by_id],
                format_func=lambda i: "–" if i is None else _label(by_id[i]),
                placeholder=t("common.choose"),
                disabled=account_id is None,
                help=t("pipeline.contact.no_client") if account_id is None else None,
            )
            value = c[0].number_input(t("pipeline.field.value"), min_value=0.0, step=1000.0)
            expected = c[1].date_input(t("pipeline.field.expected_close"), value=None)
            if st.form_submit_button(t("pipeline.deal.create"), type="primary", icon=":material/add:"):
                common.save(
                    pipeline.create_deal,
                    "pipeline.deal.created",
                    data=DealCreate(
                        title=title,
                        stage_key=stage_key,
                        account_id=account_id,
                        contact_id=contact_id,
                        value=value,
                        expected_close=expected,
                    ),
                    before_rerun=open_new,  # show the new deal; the form starts empty
                )
