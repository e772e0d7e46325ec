"""`crm-impl report budget [--json] [--project ID] [--today YYYY-MM-DD]`: per category planned,
committed, actual and forecast, earned value now and per month, the training share and the
findings (docs/budget.md) — the same numbers as the budget pages.

`crm-impl budget snapshot [--project ID] [--month YYYY-MM]`: freeze the earned value of a closed
month (default: the newest closed month, skipped when already frozen). Run it on the first day
of every month (cron) so the history keeps each month's % complete as it was then.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError, NotFound, ValidationError

if TYPE_CHECKING:
    from crm_impl.budget.models import EvSnapshot

budget_app = typer.Typer(help="Budget: earned-value snapshots.", no_args_is_help=True)


def _project(session: Any, project: int | None) -> int:
    from crm_impl.core import projects

    found = sorted(projects.list_projects(session=session), key=lambda p: p.id or 0)
    chosen = next((p for p in found if project in (None, p.id)), None)
    if chosen is None or chosen.id is None:
        raise NotFound("error.not_found", entity="project", id=project)
    return int(chosen.id)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _text(data: dict[str, Any]) -> str:
    ev, totals = data["earned_value"], data["totals"]
    share = data["training_share"]
    lines = [
        f"{data['project']} · {data['currency']} · as of {data['today']}",
        f"planned {_money(totals['planned'])} · committed {_money(totals['committed'])} · "
        f"actual {_money(totals['actual'])} · forecast {_money(totals['forecast'])}",
    ]
    lines += [
        f"  {c['category']:<14} planned {_money(c['planned']):>14} actual {_money(c['actual']):>14} "
        f"forecast {_money(c['forecast']):>14}"
        for c in data["by_category"]
    ]
    lines.append(
        f"EV: BAC {_money(ev['bac'])} PV {_money(ev['pv'])} EV {_money(ev['ev'])} AC {_money(ev['ac'])} "
        f"CPI {_ratio(ev['cpi'])} SPI {_ratio(ev['spi'])} EAC {_money(ev['eac'])} VAC {_money(ev['vac'])}"
    )
    band = data["band"]
    lines.append(
        f"training share {'–' if share is None else f'{share:.1%}'} "
        f"(band {band['low']:.0%}–{band['high']:.0%}; source: {band['source']})"
    )
    lines += [
        f"  [{f['severity']}] {f['kind']} {f.get('category', '')} {f.get('line', '')}"
        for f in data["findings"]
    ]
    return "\n".join(lines)


def report_budget(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Budget per category (planned, committed, actual, forecast), earned value, findings."""
    from crm_impl.budget import queries

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            pid = _project(uow.session, project)
            data = queries.as_json(
                queries.budget_report(
                    session=uow.session,
                    actor=run.actor(uow.session),
                    project_id=pid,
                    today=date.fromisoformat(today) if today else None,
                )
            )
        except DomainError as err:
            fail(err)
    run.emit(data, _text(data))


@budget_app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    month: str = typer.Option(None, "--month", help="Month YYYY-MM (default: the newest closed month)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Freeze a closed month's earned value (PV, EV, AC, BAC); a frozen month is never retaken."""
    from crm_impl.budget import services

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            pid = _project(uow.session, project)
            actor = run.actor(uow.session)
            row: EvSnapshot | None
            if month:
                try:
                    first = date.fromisoformat(f"{month}-01")
                except ValueError as err:
                    raise ValidationError("error.bad_date", field="budget.field.month", value=month) from err
                row = services.take_snapshot(session=uow.session, actor=actor, project_id=pid, month=first)
            else:
                row = services.freeze_last_month(session=uow.session, actor=actor, project_id=pid)
            uow.commit()
        except DomainError as err:
            fail(err)
    if row is None:
        run.emit({"taken": False}, "already frozen: nothing to do")
        return
    data = {
        "taken": True,
        "month": row.month.isoformat()[:7],
        "bac": float(row.bac),
        "pv": float(row.pv),
        "ev": float(row.ev),
        "ac": float(row.ac),
    }
    run.emit(data, f"frozen {data['month']}: PV {data['pv']:,.2f} EV {data['ev']:,.2f} AC {data['ac']:,.2f}")


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report budget` and `budget snapshot`."""
    report.command("budget")(report_budget)
    app.add_typer(budget_app, name="budget")
