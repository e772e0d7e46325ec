"""`crm-impl import ENTITY FILE --mapping M [--dry-run] [--strict] [--json]` and
`crm-impl export deals|pipeline --format csv|xlsx -o FILE`.

Exit codes: 0 all rows fine, 1 an error stopped the run (nothing written), 2 rows were rejected
(with --strict nothing was written; without it the valid rows were).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError
from crm_impl.core.i18n import t, tn

EXIT_REJECTED = 2


class Entity(StrEnum):
    accounts = "accounts"
    contacts = "contacts"
    products = "products"
    users = "users"
    deals = "deals"
    settlements = "settlements"
    stock = "stock"
    defects = "defects"
    cost_postings = "cost_postings"
    usage = "usage"


class ExportWhat(StrEnum):
    deals = "deals"
    pipeline = "pipeline"


class Fmt(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def import_command(
    ctx: typer.Context,
    entity: Entity = typer.Argument(..., help="What the file holds."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or XLSX file."),
    mapping: Path = typer.Option(
        None, "--mapping", "-m", exists=True, dir_okay=False, help="Mapping (TOML)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, write nothing."),
    strict: bool = typer.Option(False, "--strict", help="Write nothing if any row is bad."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import accounts, contacts, products, users (sales teams), deals, ERP settlements, ERP stock
    levels, defects, cost postings or usage logs."""
    from crm_impl.adoption import importing as _adoption  # noqa: F401  (registers "usage")
    from crm_impl.budget import importing as _budget  # noqa: F401  (registers "cost_postings")
    from crm_impl.defects import importing as _defects  # noqa: F401  (registers "defects")
    from crm_impl.importers import mapping as mapping_mod
    from crm_impl.pipeline import importing as imports

    run = cli(ctx).with_json(as_json)

    def progress(done: int, total: int) -> None:
        if not run.json and sys.stderr.isatty():
            typer.echo(f"\r{done:,}/{total:,}", nl=False, err=True)

    with run.unit_of_work() as uow:
        try:
            loaded = mapping_mod.load(mapping) if mapping else None
            report = imports.run_import(
                session=uow.session,
                actor=run.actor(uow.session),
                entity=entity.value,
                data=file,
                mapping=loaded,
                dry_run=dry_run,
                strict=strict,
                progress=progress,
                filename=str(file),
            )
            if report.written:
                uow.commit()
        except DomainError as err:
            fail(err)
    if run.json:
        run.emit(report.to_dict())
    else:
        typer.echo(_summary(report))
        for row_error in report.errors[:50]:
            typer.echo(f"  line {row_error.line} {row_error.column}: {row_error.message()}")
        if len(report.errors) > 50 or report.errors_left_out:
            typer.echo("  " + tn("imports.errors_left_out", report.error_count - 50))
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _summary(report) -> str:  # type: ignore[no-untyped-def]
    detected = report.file_format
    if report.encoding:
        detected += f", {report.encoding}, delimiter {report.delimiter!r}"
    parts = [
        f"{report.entity} ({detected}): {report.total_rows} rows, {report.valid_rows} valid, "
        f"{report.rejected} rejected; {report.created} new, {report.updated} updated, "
        f"{report.skipped} unchanged/existing"
    ]
    parts += [f"{k}: {v}" for k, v in report.extra.items()]
    if report.dry_run:
        parts.append(t("imports.dry_run_done"))
    elif report.strict and not report.written:
        parts.append(t("imports.strict_refused", rejected=report.rejected))
    return "\n".join(parts)


def export_command(
    ctx: typer.Context,
    what: ExportWhat = typer.Argument(..., help="deals or pipeline (the pipeline report)."),
    fmt: Fmt = typer.Option(Fmt.csv, "--format", "-f", help="csv or xlsx."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="File to write."),
) -> None:
    """Export deals or the pipeline report to CSV or XLSX."""
    from crm_impl.core.exporting import export_bytes
    from crm_impl.pipeline.queries import export as exports

    run = cli(ctx)
    with run.unit_of_work() as uow:
        try:
            actor = run.actor(uow.session)
            if what is ExportWhat.deals:
                sheets = {"deals": exports.deals_frame(session=uow.session, actor=actor)}
            else:
                sheets = exports.pipeline_report_frames(session=uow.session, actor=actor)
        except DomainError as err:
            fail(err)
    output.write_bytes(export_bytes(sheets, fmt.value))
    rows = sum(len(df) for df in sheets.values())
    typer.echo(f"wrote {output} ({rows} rows)")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)
