"""What every command gets from the global options: the database, who acts, the language and
whether to print JSON. The root app builds one `Cli` per run and hands it down as `ctx.obj`;
no command reads module-level state."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import DomainError, NotFound
from crm_impl.core.permissions import SYSTEM, Actor


@dataclass(frozen=True)
class Cli:
    """The context object of one `crm-impl` run."""

    engine: Engine
    database_url: str | None = None  # as given (None: CRM_IMPL_DATABASE_URL or the default)
    as_user: str | None = None  # --as USER; None: the built-in `system` administrator
    language: str = "en"
    json: bool = False

    def with_json(self, as_json: bool) -> Cli:
        """This context with the command's own `--json` added to the global one."""
        return replace(self, json=self.json or as_json)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    def actor(self, session: Session) -> Actor:
        """The acting user: `--as USER` (who must exist and be active), else `system`."""
        from crm_impl.core.auth import actor_for
        from crm_impl.core.users import get_by_username

        if not self.as_user:
            return SYSTEM
        user = get_by_username(session=session, username=self.as_user)
        if user is None or not user.is_active:
            fail(DomainError("auth.invalid"))
        return actor_for(user)

    def user_id(self, session: Session, username: str) -> int:
        from crm_impl.core.users import get_by_username

        user = get_by_username(session=session, username=username)
        if user is None or user.id is None:
            fail(NotFound("error.not_found", entity="user", id=username))
        return int(user.id)

    def emit(self, data: Any, text: str | None = None) -> None:
        """Print `data` as JSON with --json, else `text` (or `data` itself)."""
        if self.json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            typer.echo(text if text is not None else data)


def cli(ctx: typer.Context) -> Cli:
    """The run's context object (set by the root callback; sub-commands inherit it)."""
    obj = ctx.obj
    if not isinstance(obj, Cli):  # pragma: no cover - only if a command runs without the root app
        raise RuntimeError("crm-impl commands run under the root app (crm_impl.cli.app)")
    return obj


def fail(err: DomainError, code: int = 1) -> NoReturn:
    """The translated message on stderr and a non-zero exit; nothing has been committed."""
    typer.echo(f"error: {err.message()}", err=True)
    raise typer.Exit(code)
