"""`crm-impl init`, `crm-impl demo` and `crm-impl user add|list|set-password|unlock`."""

from __future__ import annotations

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.db import upgrade
from crm_impl.core.errors import DomainError


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest version and add default stages."""
    from crm_impl.pipeline.services.stages import ensure_default_stages

    run = cli(ctx)
    upgrade(run.database_url)
    with run.unit_of_work() as uow:
        ensure_default_stages(session=uow.session)
    typer.echo("database ready")


def demo(
    ctx: typer.Context,
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same company."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when data exists."),
    force: bool = typer.Option(
        False, "--force", help="Go on although the database has users the demo did not create."
    ),
    accounts: int = typer.Option(300, help="Number of accounts."),
    deals: int = typer.Option(1500, help="Number of deals."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load the demo company (a Polish building-materials distributor) into an empty database.

    Refused (exit 1) when the database has active users the demo did not create, unless
    `--force`: `make run` runs this before starting the app with one-click demo sign-in on.
    The first administrator is created by `--as USER` (who may manage users), else `system`."""
    from crm_impl import demo as demo_data
    from crm_impl.core.auth import real_user_count
    from crm_impl.core.i18n import tn

    run = cli(ctx).with_json(as_json)
    upgrade(run.database_url)
    with run.unit_of_work() as uow:
        actor = run.actor(uow.session)
        if not demo_data.is_empty(uow.session):
            real = real_user_count(session=uow.session)
            if real and not force:
                typer.echo(f"error: {tn('login.demo_refused', real)}", err=True)
                raise typer.Exit(1)
            if if_empty:
                run.emit({"loaded": False}, "database not empty: demo not loaded")
                return
            typer.echo("error: the database is not empty", err=True)
            raise typer.Exit(1)
        try:
            summary = demo_data.load(
                session=uow.session, seed=seed, accounts=accounts, deals=deals, actor=actor
            )
        except DomainError as err:
            fail(err)
    run.emit(
        {"loaded": True, **summary.__dict__},
        f"demo loaded: {summary.__dict__}; password for every demo user: {demo_data.DEMO_PASSWORD}",
    )


user_app = typer.Typer(help="User accounts.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: str,
    role: list[str] = typer.Option(..., "--role", help="App role; repeat for several."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    name: str = typer.Option("", help="Full name."),
    email: str = typer.Option(None, help="E-mail (used for single sign-on)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a user account."""
    from crm_impl.core import users
    from crm_impl.core.models import UserCreate

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            user = users.create_user(
                session=uow.session,
                actor=run.actor(uow.session),
                data=UserCreate(
                    username=username, password=password, roles=role, display_name=name, email=email
                ),
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    run.emit({"id": user.id, "username": user.username, "roles": user.roles}, f"created {user.username}")


@user_app.command("list")
def user_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List user accounts."""
    from crm_impl.core import users

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            df = users.list_users(session=uow.session, actor=run.actor(uow.session))
        except DomainError as err:
            fail(err)
    records = df.drop(columns=["version"]).to_dict(orient="records")
    run.emit(
        records,
        df[["username", "display_name", "roles", "is_active"]].to_string(index=False)
        if len(df)
        else "no users",
    )


@user_app.command("set-password")
def user_set_password(
    ctx: typer.Context,
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password."""
    from crm_impl.core import users

    run = cli(ctx)
    with run.unit_of_work() as uow:
        try:
            users.reset_password(
                session=uow.session,
                actor=run.actor(uow.session),
                user_id=run.user_id(uow.session, username),
                new_password=password,
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    typer.echo(f"password set for {username}")


@user_app.command("unlock")
def user_unlock(ctx: typer.Context, username: str) -> None:
    """Lift a sign-in lockout."""
    from crm_impl.core import users

    run = cli(ctx)
    with run.unit_of_work() as uow:
        try:
            users.unlock(
                session=uow.session, actor=run.actor(uow.session), user_id=run.user_id(uow.session, username)
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    typer.echo(f"unlocked {username}")


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add the core commands to the root app (core has no reports)."""
    app.command("init")(init)
    app.command("demo")(demo)
    app.add_typer(user_app, name="user")
