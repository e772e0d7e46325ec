"""The list of privileged role grants (separation of duties, issue 8): shown to management on the
audit log and to administrators on the users page, for anyone who may read the audit log."""

from __future__ import annotations

import streamlit as st

from crm_impl.core import users
from crm_impl.core.db import read_session
from crm_impl.core.i18n import fmt_datetime, t
from crm_impl.core.permissions import Actor
from crm_impl.core.ui import common


def _roles(roles: list[str]) -> str:
    return ", ".join(t(f"role.{r}") for r in roles) or common.EMPTY


def show(actor: Actor) -> None:
    """Nothing for someone who may not read the audit log."""
    if not actor.can("audit.read"):
        return
    st.subheader(t("users.role_grants"))
    st.caption(t("users.role_grants_hint"))
    with read_session() as session:
        grants = users.role_grants(session=session, actor=actor)
    if grants.empty:
        st.caption(t("users.no_role_grants"))
        return
    view = grants.assign(
        at=grants["at"].map(fmt_datetime),
        granted=grants["granted"].map(_roles),
        roles_before=grants["roles_before"].map(_roles),
        roles_after=grants["roles_after"].map(_roles),
    )
    st.dataframe(
        view,
        placeholder=common.EMPTY,
        hide_index=True,
        width="stretch",
        column_config={
            "at": t("field.when"),
            "granted_by": t("users.granted_by"),
            "user": t("field.user"),
            "granted": t("users.granted"),
            "roles_before": t("users.roles_before"),
            "roles_after": t("users.roles_after"),
        },
    )
