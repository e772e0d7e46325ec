"""`crm-impl report dq [--json] [--today YYYY-MM-DD]`: data-quality scores per entity and
dimension, failing counts per rule, the top issues, per owner and department (docs/data_quality.md).

`crm-impl dq snapshot [--day YYYY-MM-DD] [--json]`: store today's scores (run it daily from cron);
a day that already has its snapshot is left as it is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError, ValidationError

dq_app = typer.Typer(help="Data quality: daily snapshots of the scores.", no_args_is_help=True)


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise ValidationError("error.bad_date", field=field, value=value) from err


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _text(data: dict[str, Any]) -> str:
    lines = [
        f"data quality as of {data['as_of']}: overall {_score(data['overall'])} "
        f"({data['failing_records']} of {data['records']} records with an issue)"
    ]
    for s in data["scores"]:
        if s["dimension"] != "overall":
            lines.append(
                f"  {s['entity']:<8} {s['dimension']:<13} {_score(s['score']):>6}  "
                f"{s['failing']} failing of {s['checked']}"
            )
    lines.append("top issues:")
    lines += [f"  {r['failing']:>6}  {r['rule']} ({r['severity']})" for r in data["top_issues"]]
    lines.append("by department:")
    lines += [f"  {g['group'] or '–':<20} {_score(g['overall'])}" for g in data["by_department"]]
    return "\n".join(lines)


def report_dq(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
    top: int = typer.Option(10, "--top", help="How many top issues to list."),
) -> None:
    """Scores per dimension and entity, failing counts per rule, top issues, per owner/department."""
    from crm_impl.data_quality import queries

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            day = _day(today, "dq.field.day")
            data = queries.report(session=uow.session, actor=run.actor(uow.session), today=day, top=top)
        except DomainError as err:
            fail(err)
    run.emit(data, _text(data))


@dq_app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    day: str = typer.Option(
        None, "--day", help="The day YYYY-MM-DD the scores are stored for (default: today)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Scan the data and store the day's scores (idempotent: once per day)."""
    from crm_impl.data_quality import services

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            result = services.take_snapshot(
                session=uow.session, actor=run.actor(uow.session), day=_day(day, "dq.field.day")
            )
            uow.commit()
        except DomainError as err:
            fail(err)
    data = {
        "day": result.day.isoformat(),
        "taken": result.taken,
        "overall": result.overall,
        "rows": len(result.rows),
    }
    text = (
        f"snapshot {data['day']}: overall {_score(result.overall)} ({len(result.rows)} scores)"
        if result.taken
        else f"snapshot {data['day']} already taken: nothing to do"
    )
    run.emit(data, text)


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report dq` and `dq snapshot`."""
    report.command("dq")(report_dq)
    app.add_typer(dq_app, name="dq")
