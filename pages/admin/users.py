"""Users: create, assign roles, reset password, unlock, deactivate (accounts are never deleted)."""

import streamlit as st

from crm_impl.core import users
from crm_impl.core.db import read_session
from crm_impl.core.i18n import LANGUAGE_NAMES, LANGUAGES, fmt_datetime, t
from crm_impl.core.models import USER_FIELDS, UserCreate, UserUpdate
from crm_impl.core.permissions import APP_ROLES
from crm_impl.core.ui import common, role_grants

actor = common.page("pages/admin/users.py")
with read_session() as session:
    df = users.list_users(session=session, actor=actor)

view = df.assign(
    roles=df["roles"].map(lambda rs: ", ".join(t(f"role.{r}") for r in rs)),
    last_login_at=df["last_login_at"].map(fmt_datetime),
    locked_until=df["locked_until"].map(lambda v: fmt_datetime(v) if v is not None else ""),
)
st.dataframe(
    view.drop(columns=["id", "version"]),
    placeholder=common.EMPTY,
    hide_index=True,
    width="stretch",
    column_config={
        "username": t("field.username"),
        "display_name": t("field.display_name"),
        "email": t("field.email"),
        "roles": t("field.roles"),
        "is_active": st.column_config.CheckboxColumn(t("field.active")),
        "locale": t("field.language"),
        "last_login_at": t("field.last_login"),
        "locked_until": t("field.locked_until"),
    },
)
common.csv_download(df.drop(columns=["version"]), "users.csv", key="users_csv")

create_tab, edit_tab = st.tabs([t("users.create"), t("users.edit")])
with create_tab, common.form("create_user"):
    c1, c2 = st.columns(2)
    username = c1.text_input(t("field.username"), help=t("users.username_help"))
    display_name = c2.text_input(t("field.display_name"))
    email = c1.text_input(t("field.email"))
    locale = c2.selectbox(
        t("field.language"),
        list(LANGUAGES),
        format_func=lambda v: LANGUAGE_NAMES.get(v, v),
        placeholder=t("common.choose"),
    )
    roles = st.multiselect(
        t("field.roles"), APP_ROLES, format_func=lambda r: t(f"role.{r}"), placeholder=t("common.choose_many")
    )
    password = st.text_input(t("field.password"), type="password", help=t("users.password_help"))
    if st.form_submit_button(t("users.create"), type="primary", icon=":material/person_add:"):
        common.save(
            users.create_user,
            "users.created",
            data=UserCreate(
                username=username,
                password=password,
                roles=roles,
                display_name=display_name,
                email=email,
                locale=locale or "en",
            ),
            before_rerun=lambda _: common.forms_saved(),  # the form starts empty again
        )

with edit_tab:
    options = dict(zip(df["id"], df["username"], strict=True))
    user_id = st.selectbox(
        t("users.pick"),
        list(options),
        format_func=lambda v: str(options.get(v, v)),
        placeholder=t("common.choose"),
    )
    if user_id is not None:
        row = df[df["id"] == user_id].iloc[0]
        shown = common.shown_version(f"user_edit_{user_id}", int(row["version"]))  # as the form showed it
        with st.form(f"edit_{user_id}"):
            new_roles = st.multiselect(
                t("field.roles"),
                APP_ROLES,
                default=list(row["roles"]),
                format_func=lambda r: t(f"role.{r}"),
                placeholder=t("common.choose_many"),
            )
            new_name = st.text_input(t("field.display_name"), value=row["display_name"])
            new_email = st.text_input(t("field.email"), value=row["email"] or "")
            if st.form_submit_button(t("common.save"), icon=":material/save:"):
                typed = {"roles": new_roles, "display_name": new_name, "email": new_email}
                loaded = {
                    "roles": list(row["roles"]),
                    "display_name": row["display_name"],
                    "email": row["email"] or "",
                }
                # only what the admin changed is sent (the editable fields are UserUpdate's)
                common.save(
                    users.update_user,
                    "common.saved",
                    user_id=int(user_id),
                    expected_version=shown,
                    data=UserUpdate(**{f: typed[f] for f in USER_FIELDS if typed[f] != loaded[f]}),
                )
        with st.form(f"pw_{user_id}", clear_on_submit=True):
            new_password = st.text_input(t("users.new_password"), type="password")
            if st.form_submit_button(t("users.reset_password"), icon=":material/password:"):
                common.run(
                    users.reset_password,
                    "users.password_reset",
                    user_id=int(user_id),
                    new_password=new_password,
                )
        c1, c2 = st.columns(2)
        if row["locked_until"] is not None and c1.button(t("users.unlock"), icon=":material/lock_open:"):
            common.save(users.unlock, "users.unlocked", user_id=int(user_id))
        label = t("users.deactivate") if row["is_active"] else t("users.activate")
        if c2.button(label, icon=":material/toggle_on:"):
            common.save(
                users.set_active, "common.saved", user_id=int(user_id), active=not bool(row["is_active"])
            )

role_grants.show(actor)
