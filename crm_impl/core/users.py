"""User accounts: create, roles, passwords, unlock, deactivate (never delete), preferences.

Every write goes through crm_impl.core.writes; create and update take `UserCreate` and
`UserUpdate` (crm_impl.core.models).

Separation of duties: nobody changes their own roles, and every grant of a privileged role
(`PRIVILEGED_ROLES`: administrator, management, either project manager) leaves its own
`grant_role` audit entry with the roles before and after, which management reads in the audit
log (`role_grants`). A password change or reset and a deactivation end the user's sessions."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlmodel import Session, col, func, select

from crm_impl.core import audit, sessions, validation, writes
from crm_impl.core.auth import check_password_policy, hash_password
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import LANGUAGES
from crm_impl.core.models import (
    AuditEntry,
    LoginThrottle,
    Project,
    UserAccount,
    UserCreate,
    UserUpdate,
    utcnow,
)
from crm_impl.core.permissions import APP_ROLES, Actor, require

# Roles whose grant management must be able to review: they decide, or run the project.
PRIVILEGED_ROLES: tuple[str, ...] = ("admin", "management", "pm_vendor", "pm_client")
GRANT_ACTION = "grant_role"


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


def _record_grant(
    session: Session, actor: Actor, user: UserAccount, before: list[str], after: list[str]
) -> None:
    """A `grant_role` entry when `after` adds a privileged role that `before` did not have."""
    if not (set(after) - set(before)) & set(PRIVILEGED_ROLES):
        return
    audit.record(
        session=session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action=GRANT_ACTION,
        before={"roles": list(before)},
        after={"roles": list(after)},
    )


def create_user(*, session: Session, actor: Actor, data: UserCreate, is_demo: bool = False) -> UserAccount:
    """A new account; `is_demo` only for the accounts `crm_impl.demo` creates (they alone get
    the one-click demo sign-in)."""
    require(actor, "user.manage")
    name = validation.username(data.username)
    if get_by_username(session=session, username=name):
        raise ValidationError("error.duplicate", field="field.username", value=name)
    check_password_policy(data.password, name)
    user = UserAccount(
        username=name,
        password_hash=hash_password(data.password),
        roles=_roles(data.roles),
        display_name=validation.text(data.display_name or name, "field.display_name", max_len=120),
        email=validation.email(data.email),
        locale=validation.choice(data.locale, "field.language", LANGUAGES),
        person_id=data.person_id,
        password_changed_at=utcnow(),
        is_demo=is_demo,
    )
    created = writes.create(session=session, actor=actor, row=user, entity="user")
    _record_grant(session, actor, created, [], list(created.roles))
    return created


def update_user(
    *, session: Session, actor: Actor, user_id: int, expected_version: int | None, data: UserUpdate
) -> UserAccount:
    require(actor, "user.manage")
    user = _get(session, user_id)
    writes.expect_version(user.version, expected_version)
    fields = data.changes()
    changes: dict[str, object] = {}
    old_roles = list(user.roles)
    if fields.get("roles") is not None:
        new_roles = _roles(fields["roles"])
        if user.id == actor.id and set(new_roles) != set(old_roles):
            raise ValidationError("error.self_roles")  # separation of duties
        changes["roles"] = new_roles
    if fields.get("display_name") is not None:
        changes["display_name"] = validation.text(fields["display_name"], "field.display_name", max_len=120)
    if "email" in fields:
        changes["email"] = validation.email(fields["email"])
    updated = writes.update_versioned(
        session=session,
        actor=actor,
        row=user,
        expected_version=expected_version,
        changes=changes,
        entity="user",
    )
    if "roles" in changes:
        _record_grant(session, actor, updated, old_roles, list(updated.roles))
    return updated


def _when(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def reset_password(*, session: Session, actor: Actor, user_id: int, new_password: str) -> None:
    """A user's own password change, or an administrator's reset. Ends the user's sessions
    (every browser signs in again with the new password). The audit keeps when the password
    changed before and after, never the hash."""
    own = actor.id == user_id
    if not own:
        require(actor, "user.manage")
    user = _get(session, user_id)
    check_password_policy(new_password, user.username)
    before = {"password_changed_at": _when(user.password_changed_at)}
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.add(user)
    writes.flush(session)
    sessions.revoke_user(
        session=session, user_id=user_id, reason="password_change" if own else "password_reset"
    )
    audit.record(
        session=session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action="reset_password",
        before=before,
        after={"password_changed_at": _when(user.password_changed_at)},
    )


def unlock(*, session: Session, actor: Actor, user_id: int) -> None:
    """Lift a sign-in lockout; the audit keeps the lock and the failure count it lifted."""
    require(actor, "user.manage")
    user = _get(session, user_id)
    throttle = session.get(LoginThrottle, user.username.lower())
    before = {
        "locked_until": _when(throttle.locked_until) if throttle else None,
        "failed_count": throttle.failed_count if throttle else 0,
    }
    if throttle:
        session.delete(throttle)
        writes.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="user",
        entity_id=user.id,
        action="unlock",
        before=before,
        after={"locked_until": None, "failed_count": 0},
    )


def set_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> UserAccount:
    """Deactivate or reactivate. Accounts are never deleted: their history stays attributed."""
    require(actor, "user.manage")
    user = _get(session, user_id)
    if not active and user.id == actor.id:
        raise ValidationError("error.self_deactivate")
    if not active:
        sessions.revoke_user(session=session, user_id=user_id, reason="deactivated")
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


def role_grants(*, session: Session, actor: Actor, limit: int = 500) -> pd.DataFrame:
    """Grants of privileged roles, newest first: when, who granted, to whom, the roles before
    and after. Management reads it (audit.read) to see who gave whom decision rights."""
    require(actor, "audit.read")
    entries = session.exec(
        select(AuditEntry)
        .where(AuditEntry.entity == "user", AuditEntry.action == GRANT_ACTION)
        .order_by(col(AuditEntry.id).desc())
        .limit(limit)
    ).all()
    ids = {int(e.entity_id) for e in entries if e.entity_id.isdigit()}
    names = {
        u.id: u.username
        for u in (session.exec(select(UserAccount).where(col(UserAccount.id).in_(ids))).all() if ids else [])
    }
    rows = []
    for e in entries:
        before = list((e.before or {}).get("roles") or [])
        after = list((e.after or {}).get("roles") or [])
        rows.append(
            {
                "at": e.at,
                "granted_by": e.username,
                "user": names.get(int(e.entity_id), e.entity_id) if e.entity_id.isdigit() else e.entity_id,
                "granted": [r for r in after if r not in before and r in PRIVILEGED_ROLES],
                "roles_before": before,
                "roles_after": after,
            }
        )
    columns = ["at", "granted_by", "user", "granted", "roles_before", "roles_after"]
    return pd.DataFrame(rows, columns=columns)
