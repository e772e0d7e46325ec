"""`crm-impl backup -o FILE [--format auto|portable|sqlite|pg_dump]` and `crm-impl restore FILE`.

Both are for administrators (`--as USER` must be an active admin; without it the console
operator acts as `system`) and both leave an audit entry: the backup in the database backed up,
the restore in the restored database. Restore goes into the database of `--database-url`, which
must be empty, and prints every table's row count and checksum next to the backup's; it exits
non-zero when any differ (a logical restore then writes nothing). See crm_impl/core/backup.py.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from crm_impl.cli.context import Cli, cli, fail
from crm_impl.core.errors import DomainError


class Kind(StrEnum):
    auto = "auto"
    portable = "portable"
    sqlite = "sqlite"
    pg_dump = "pg_dump"


def _url(run: Cli) -> str:
    return run.engine.url.render_as_string(hide_password=False)


def _table_lines(tables: list[Any], against: dict[str, tuple[int, str]] | None = None) -> list[str]:
    from crm_impl.core.i18n import t

    lines = []
    for info in tables:
        mark = ""
        if against is not None:
            ok = against.get(info.name) == (info.rows, info.checksum)
            mark = "  " + (t("backup.same") if ok else t("backup.differs"))
        lines.append(f"  {info.name:<24} {info.rows:>9}  {info.checksum[:16]}{mark}")
    return lines


def backup_command(
    ctx: typer.Context,
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="Backup file to write (.zip)."),
    kind: Kind = typer.Option(
        Kind.auto,
        "--format",
        "-f",
        help="auto: SQLite's online backup / pg_dump (portable when pg_dump is missing); "
        "portable: JSON lines of every table, restorable into SQLite or PostgreSQL.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Back up the whole database into one file while the app runs (administrators)."""
    from sqlmodel import SQLModel

    import crm_impl.tables  # noqa: F401  (registers every domain's tables)
    from crm_impl.core import audit
    from crm_impl.core import backup as backups
    from crm_impl.core.i18n import t

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            actor = run.actor(uow.session)
            backups.require_admin(actor)
        except DomainError as err:
            fail(err)
    try:
        result = backups.backup(url=_url(run), out=output, metadata=SQLModel.metadata, kind=kind.value)
    except DomainError as err:
        fail(err)
    manifest = result.manifest
    total = sum(info.rows for info in manifest.tables)
    with run.unit_of_work() as uow:
        audit.record(
            session=uow.session,
            actor=actor,
            entity="backup",
            entity_id=output.name,
            action="backup",
            after={"file": str(output), "kind": manifest.kind, "tables": len(manifest.tables), "rows": total},
        )
        uow.commit()
    if run.json:
        run.emit({"file": str(output), "note": result.note, **_manifest_dict(manifest)})
        return
    lines = [
        t("backup.written", file=str(output), kind=manifest.kind, tables=len(manifest.tables), rows=total)
    ]
    if result.note:
        lines.append(t(result.note))
    typer.echo("\n".join(lines + _table_lines(manifest.tables)))


def _manifest_dict(manifest: Any) -> dict[str, Any]:
    return {
        "kind": manifest.kind,
        "dialect": manifest.dialect,
        "revisions": manifest.revisions,
        "created_at": manifest.created_at,
        "tables": {info.name: {"rows": info.rows, "checksum": info.checksum} for info in manifest.tables},
    }


def restore_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Backup file."),
    as_json: bool = typer.Option(False, "--json", help="Print the verification as JSON."),
) -> None:
    """Restore a backup into an EMPTY database (--database-url) and verify every table (administrators)."""
    from sqlalchemy.engine import Connection
    from sqlmodel import Session, SQLModel, select

    import crm_impl.tables  # noqa: F401  (registers every domain's tables)
    from crm_impl.core import audit
    from crm_impl.core import backup as backups
    from crm_impl.core.auth import actor_for
    from crm_impl.core.errors import AuthError, PermissionDenied
    from crm_impl.core.i18n import t
    from crm_impl.core.models import UserAccount
    from crm_impl.core.permissions import SYSTEM

    run = cli(ctx).with_json(as_json)
    try:
        manifest = backups.read_manifest(file)
        if run.as_user and run.as_user not in manifest.admins:  # the target is empty: ask the backup
            raise PermissionDenied("error.permission", action="backup.restore")
    except DomainError as err:
        fail(err)

    def record(conn: Connection) -> None:
        with Session(bind=conn) as session:
            actor = SYSTEM
            if run.as_user:
                user = session.exec(select(UserAccount).where(UserAccount.username == run.as_user)).first()
                if user is None:
                    raise AuthError()
                actor = actor_for(user)
            backups.require_admin(actor, "backup.restore")
            audit.record(
                session=session,
                actor=actor,
                entity="backup",
                entity_id=file.name,
                action="restore",
                after={"file": str(file), "kind": manifest.kind, "created_at": manifest.created_at},
            )
            session.flush()

    try:
        result = backups.restore(url=_url(run), path=file, metadata=SQLModel.metadata, before_commit=record)
    except DomainError as err:
        fail(err)
    found = {info.name: (info.rows, info.checksum) for info in result.found}
    if run.json:
        run.emit(
            {
                "file": str(file),
                "verified": True,
                "backup": _manifest_dict(manifest)["tables"],
                "restored": {name: {"rows": r, "checksum": c} for name, (r, c) in found.items()},
            }
        )
        return
    total = sum(info.rows for info in result.found)
    lines = [t("backup.restored", file=str(file), tables=len(result.found), rows=total)]
    typer.echo("\n".join(lines + _table_lines(result.found, manifest.sums())))


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
