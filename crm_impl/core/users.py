"""User accounts: create, roles, passwords, unlock, deactivate (never delete), preferences.

Every write goes through crm_impl.core.writes; create and update take `UserCreate` and
`UserUpdate` (crm_impl.core.models)."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, func, select

from crm_impl.core import audit, validation, writes
from crm_impl.core.auth import check_password_policy, hash_password
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import LANGUAGES
from crm_impl.core.models import LoginThrottle, Project, UserAccount, UserCreate, UserUpdate, utcnow
from crm_impl.core.permissions import APP_ROLES, Actor, require


def _get(session: Session, user_id: int) -> UserAccount:
    return writes.get(session, UserAccount, user_id, "user")


def get_by_username(*, session: Session, username: str) -> UserAccount | None:
    return session.exec(
        select(UserAccount).where(func.lower(UserAccount.username) == username.strip().lower())
    ).first()


def _roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    if not roles:
        raise ValidationError("error.required", field="field.roles")
    for role in roles:
        validation.choice(role, "field.roles", APP_ROLES)
    return sorted(set(roles), key=APP_ROLES.index)


def create_user(*, session: Session, actor: Actor, data: UserCreate) -> UserAccount:
    require(actor, "user.manage")
    name = validation.username(data.username)
    if get_by_username(session=session, username=name):
        raise ValidationError("error.duplicate", field="field.username", value=name)
    check_password_policy(data.password)
    user = UserAccount(
        username=name,
        password_hash=hash_password(data.password),
        roles=_roles(data.roles),
        display_name=validation.text(data.display_name or name, "field.display_name", max_len=120),
        email=validation.email(data.email),
        locale=validation.choice(data.locale, "field.language", LANGUAGES),
        person_id=data.person_id,
        password_changed_at=utcnow(),
    )
    return writes.create(session=session, actor=actor, row=user, entity="user")


def update_user(
    *, session: Session, actor: Actor, user_id: int, expected_version: int | None, data: UserUpdate
) -> UserAccount:
    require(actor, "user.manage")
    user = _get(session, user_id)
    writes.expect_version(user.version, expected_version)
    fields = data.changes()
    changes: dict[str, object] = {}
    if fields.get("roles") is not None:
        new_roles = _roles(fields["roles"])
        if user.id == actor.id and "admin" in user.roles and "admin" not in new_roles:
            raise ValidationError("error.self_demote")
        changes["roles"] = new_roles
    if fields.get("display_name") is not None:
        changes["display_name"] = validation.text(fields["display_name"], "field.display_name", max_len=120)
    if "email" in fields:
        changes["email"] = validation.email(fields["email"])
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=user,
        expected_version=expected_version,
        changes=changes,
        entity="user",
    )


def reset_password(*, session: Session, actor: Actor, user_id: int, new_password: str) -> None:
    if actor.id != user_id:
        require(actor, "user.manage")
    user = _get(session, user_id)
    check_password_policy(new_password)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.add(user)
    writes.flush(session)
    # no before/after: the hash is a secret and the time is in the entry itself
    audit.record(session=session, actor=actor, entity="user", entity_id=user.id, action="reset_password")


def unlock(*, session: Session, actor: Actor, user_id: int) -> None:
    require(actor, "user.manage")
    user = _get(session, user_id)
    throttle = session.get(LoginThrottle, user.username.lower())
    if throttle:
        session.delete(throttle)
        writes.flush(session)
    audit.record(session=session, actor=actor, entity="user", entity_id=user.id, action="unlock")


def set_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> UserAccount:
    """Deactivate or reactivate. Accounts are never deleted: their history stays attributed."""
    require(actor, "user.manage")
    user = _get(session, user_id)
    if not active and user.id == actor.id:
        raise ValidationError("error.self_deactivate")
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=user,
        expected_version=None,
        changes={"is_active": active},
        entity="user",
        action="activate" if active else "deactivate",
    )


def set_preferences(
    *,
    session: Session,
    actor: Actor,
    locale: str | None = None,
    active_project_id: int | None = None,
) -> UserAccount:
    """A user's own language and active project; anybody may change their own."""
    if actor.id is None:
        raise ValidationError("error.no_user")
    user = _get(session, actor.id)
    changes: dict[str, object] = {}
    if locale is not None:
        changes["locale"] = validation.choice(locale, "field.language", LANGUAGES)
    if active_project_id is not None:
        writes.get(session, Project, active_project_id, "project")
        changes["active_project_id"] = active_project_id
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=user,
        expected_version=None,
        changes=changes,
        entity="user",
        action="preferences",
    )


def list_users(*, session: Session, actor: Actor) -> pd.DataFrame:
    require(actor, "user.read")
    now = utcnow()
    locks = {
        t.username: t.locked_until
        for t in session.exec(select(LoginThrottle)).all()
        if t.locked_until and t.locked_until > now
    }
    rows = [
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "email": u.email,
            "roles": list(u.roles),
            "is_active": u.is_active,
            "locale": u.locale,
            "last_login_at": u.last_login_at,
            "locked_until": locks.get(u.username.lower()),
            "version": u.version,
        }
        for u in session.exec(select(UserAccount).order_by(UserAccount.username)).all()
    ]
    columns = [
        "id",
        "username",
        "display_name",
        "email",
        "roles",
        "is_active",
        "locale",
        "last_login_at",
        "locked_until",
        "version",
    ]
    return pd.DataFrame(rows, columns=columns)
