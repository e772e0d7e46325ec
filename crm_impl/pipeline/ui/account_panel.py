"""A client's details (registry numbers and address) on one line, and the form that edits them
(the client page; the data-quality fix form). The form sends only the fields the user changed,
so a REGON or bank account imported with a wrong checksum (data quality flags it) never blocks
an edit of another field; a changed one is checked by the account service."""

from __future__ import annotations

import streamlit as st

from crm_impl.core import registry_ids
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common
from crm_impl.pipeline.models import Account, AccountPublic, AccountUpdate
from crm_impl.pipeline.services import deals as pipeline

# the editable details, in the form's order, with their labels
FIELDS: dict[str, str] = {
    "name": "field.name",
    "nip": "field.nip",
    "regon": "field.regon",
    "iban": "field.iban",
    "street": "pipeline.field.street",
    "postal_code": "pipeline.field.postal_code",
    "city": "pipeline.field.city",
    "sector": "pipeline.field.sector",
}


def _shown(field: str, value: object) -> str:
    if field == "iban":
        return registry_ids.iban_display(value)
    return "" if value is None else str(value)


def address(account: Account | AccountPublic) -> str:
    """ "ul. Prosta 20, 00-950 Warszawa" (the parts that are filled)."""
    town = " ".join(x for x in (account.postal_code, account.city) if x)
    return ", ".join(x for x in (account.street, town) if x)


def details_line(account: Account | AccountPublic, owner: str = "") -> str:
    """NIP · REGON · IBAN · address · sector · owner, as plain text for a caption."""
    parts = [
        account.nip and f"{t('field.nip')} {account.nip}",
        account.regon and f"{t('field.regon')} {account.regon}",
        account.iban and f"{t('field.iban')} {_shown('iban', account.iban)}",
        address(account),
        account.sector,
        owner,
    ]
    return " · ".join(common.plain(x) for x in parts if x)


def edit_form(actor: Actor, account: Account | AccountPublic, *, key: str, success_key: str) -> None:
    """The details form; shown only to who may edit the account (its owner or a manager)."""
    if account.id is None or not pipeline.may_edit_account(actor, account.owner_id):
        return
    name = f"{key}_{account.id}"
    version = common.shown_version(name, int(account.version))
    current = {f: _shown(f, getattr(account, f)) for f in FIELDS}
    with common.form(name):
        cols = st.columns(2)
        typed = {
            f: cols[n % 2].text_input(t(label), current[f]) for n, (f, label) in enumerate(FIELDS.items())
        }
        if st.form_submit_button(t("common.save"), type="primary", icon=":material/save:"):
            changed = {f: v for f, v in typed.items() if v.strip() != current[f].strip()}
            if not changed:
                st.info(t("pipeline.client.unchanged"), icon=":material/info:")
                return
            common.save(
                pipeline.update_account,
                success_key,
                account_id=int(account.id),
                expected_version=version,
                data=AccountUpdate.model_validate(changed),
            )
