"""The root `crm-impl` app: global options -> one `Cli` context object -> the domain modules.

Global options: `--database-url` (else CRM_IMPL_DATABASE_URL, else the default SQLite file),
`--as USER`, which makes every write run with that user's permissions (without it the operator
at the console acts as the built-in `system` administrator), `--lang en|pl` for messages and
`--json` (every command that prints a result also takes its own `--json`).
"""

from __future__ import annotations

import typer

import crm_impl.tables  # noqa: F401  (every table, and the usage rollup's listener, before any write)
from crm_impl.cli import adoption, backup, budget, core, defects, dq, imports, pipeline, rollout, training
from crm_impl.cli.context import Cli
from crm_impl.core.db import get_engine
from crm_impl.core.i18n import set_locale


def _main(
    ctx: typer.Context,
    database_url: str = typer.Option(
        None, "--database-url", envvar="CRM_IMPL_DATABASE_URL", help="SQLAlchemy URL of the database."
    ),
    as_user: str = typer.Option(None, "--as", help="Act with this user's permissions."),
    lang: str = typer.Option("en", "--lang", help="Language of messages: en or pl."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
) -> None:
    set_locale(lang)
    ctx.obj = Cli(
        engine=get_engine(database_url),
        database_url=database_url,
        as_user=as_user,
        language=lang,
        json=as_json,
    )


def build_app() -> typer.Typer:
    """A fresh root app with every domain's commands."""
    app = typer.Typer(help="crm-impl: CRM rollout and live sales pipeline.", no_args_is_help=True)
    app.callback()(_main)
    report = typer.Typer(help="Reports.", no_args_is_help=True)
    core.register(app, report)
    pipeline.register(app, report)
    rollout.register(app, report)
    defects.register(app, report)
    budget.register(app, report)  # report budget, budget snapshot (issue 10)
    training.register(app, report)  # report training (issue 10)
    adoption.register(app, report)  # report adoption (issue 11)
    dq.register(app, report)  # report dq, dq snapshot (issue 11)
    imports.register(app)  # crm-impl import …, crm-impl export …
    backup.register(app)  # crm-impl backup -o FILE, crm-impl restore FILE
    app.add_typer(report, name="report")
    return app
