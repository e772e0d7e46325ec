"""`crm-impl` command line: init, demo, users (more commands join as capabilities land).

Global options: `--database-url` (else CRM_IMPL_DATABASE_URL, else the default SQLite file) and
`--as USER`, which makes every write run with that user's permissions. Without `--as` the
operator at the console acts as the built-in `system` administrator.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer

from crm_impl.cli import rollout as _rollout  # noqa: F401  (adds `report plan` to the report group)
from crm_impl.cli.imports import register as register_imports
from crm_impl.cli.pipeline import report_app
from crm_impl.core.db import UnitOfWork, get_engine, upgrade
from crm_impl.core.errors import DomainError
from crm_impl.core.i18n import set_locale
from crm_impl.core.permissions import SYSTEM, Actor

app = typer.Typer(help="crm-impl: CRM rollout and live sales pipeline.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(report_app, name="report")
register_imports(app)  # crm-impl import …, crm-impl export …

_state: dict[str, Any] = {"url": None, "as": None}


@app.callback()
def main(
    database_url: str = typer.Option(
        None, "--database-url", envvar="CRM_IMPL_DATABASE_URL", help="SQLAlchemy URL of the database."
    ),
    as_user: str = typer.Option(None, "--as", help="Act with this user's permissions."),
    lang: str = typer.Option("en", "--lang", help="Language of messages: en or pl."),
) -> None:
    if database_url:
        os.environ["CRM_IMPL_DATABASE_URL"] = database_url
    _state["url"], _state["as"] = database_url, as_user
    set_locale(lang)


def engine():  # type: ignore[no-untyped-def]
    return get_engine(_state["url"])


def acting(session) -> Actor:  # type: ignore[no-untyped-def]
    from crm_impl.core.auth import actor_for
    from crm_impl.core.users import get_by_username

    if not _state["as"]:
        return SYSTEM
    user = get_by_username(session=session, username=_state["as"])
    if user is None or not user.is_active:
        fail(DomainError("auth.invalid"))
    return actor_for(user)  # type: ignore[arg-type]


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(text if text is not None else data)


def fail(err: DomainError, code: int = 1) -> None:
    typer.echo(f"error: {err.message()}", err=True)
    raise typer.Exit(code)


@app.command()
def init() -> None:
    """Create or upgrade the database schema to the newest version and add default stages."""
    from crm_impl.pipeline.services.stages import ensure_default_stages

    upgrade(_state["url"])
    with UnitOfWork(engine()) as uow:
        ensure_default_stages(session=uow.session)
    typer.echo("database ready")


@app.command()
def demo(
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same company."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when data exists."),
    accounts: int = typer.Option(300, help="Number of accounts."),
    deals: int = typer.Option(1500, help="Number of deals."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load the demo company (a Polish building-materials distributor) into an empty database."""
    from crm_impl import demo as demo_data

    upgrade(_state["url"])
    with UnitOfWork(engine()) as uow:
        if not demo_data.is_empty(uow.session):
            if if_empty:
                emit({"loaded": False}, as_json, "database not empty: demo not loaded")
                return
            typer.echo("error: the database is not empty", err=True)
            raise typer.Exit(1)
        summary = demo_data.load(session=uow.session, seed=seed, accounts=accounts, deals=deals)
    emit(
        {"loaded": True, **summary.__dict__},
        as_json,
        f"demo loaded: {summary.__dict__}; password for every demo user: {demo_data.DEMO_PASSWORD}",
    )


@user_app.command("add")
def user_add(
    username: str,
    role: list[str] = typer.Option(..., "--role", help="App role; repeat for several."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    name: str = typer.Option("", help="Full name."),
    email: str = typer.Option(None, help="E-mail (used for single sign-on)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a user account."""
    from crm_impl.core import users

    with UnitOfWork(engine()) as uow:
        try:
            user = users.create_user(
                session=uow.session,
                actor=acting(uow.session),
                username=username,
                password=password,
                roles=role,
                display_name=name,
                email=email,
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    emit({"id": user.id, "username": user.username, "roles": user.roles}, as_json, f"created {user.username}")


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List user accounts."""
    from crm_impl.core import users

    with UnitOfWork(engine()) as uow:
        actor = acting(uow.session)
        try:
            df = users.list_users(session=uow.session, actor=actor)
        except DomainError as err:
            fail(err)
    records = df.drop(columns=["version"]).to_dict(orient="records")
    emit(
        records,
        as_json,
        df[["username", "display_name", "roles", "is_active"]].to_string(index=False)
        if len(df)
        else "no users",
    )


def _user_id(session, username: str) -> int:  # type: ignore[no-untyped-def]
    from crm_impl.core.errors import NotFound
    from crm_impl.core.users import get_by_username

    user = get_by_username(session=session, username=username)
    if user is None:
        fail(NotFound("error.not_found", entity="user", id=username))
    return int(user.id)  # type: ignore[union-attr]


@user_app.command("set-password")
def user_set_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password."""
    from crm_impl.core import users

    with UnitOfWork(engine()) as uow:
        try:
            users.reset_password(
                session=uow.session,
                actor=acting(uow.session),
                user_id=_user_id(uow.session, username),
                new_password=password,
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    typer.echo(f"password set for {username}")


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """Lift a sign-in lockout."""
    from crm_impl.core import users

    with UnitOfWork(engine()) as uow:
        try:
            users.unlock(
                session=uow.session, actor=acting(uow.session), user_id=_user_id(uow.session, username)
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    typer.echo(f"unlocked {username}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
