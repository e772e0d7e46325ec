"""`crm-impl report defects [--json] [--project ID] [--today YYYY-MM-DD]`: every defect metric of
a project (docs/defects.md) — the same numbers as the defects dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError, NotFound


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} d"


def _text(data: dict[str, Any]) -> str:
    totals, reopen = data["totals"], data["reopen"]
    fix, verify = data["time_to_fix_days"], data["time_to_verify_days"]
    rate = "–" if reopen["rate"] is None else f"{reopen['rate']:.1%}"
    share = data["real_data"]["share"]
    lines = [
        f"{data['project']} · defects {totals['defects']} · open {totals['open']}",
        f"reopen rate {rate} ({reopen['reopened']} of {reopen['fixed']} fixed; {reopen['reopens']} reopens)",
        f"time to fix: median {_days(fix['median'])}, p90 {_days(fix['p90'])} ({fix['censored']} still open)",
        f"time to verify: median {_days(verify['median'])}, p90 {_days(verify['p90'])} "
        f"({verify['censored']} waiting)",
        f"found on real data by the client tester: {'–' if share is None else f'{share:.1%}'}",
    ]
    lines += [
        f"  release {r['name']:<12} pass rate "
        f"{'–' if r['pass_rate'] is None else format(r['pass_rate'], '.1%')} ({r['cases']} cases)"
        for r in data["pass_rate"]
    ]
    lines += [
        f"  {p['name']:<24} assigned {p['assigned']:>4} fixed {p['fixed']:>4} reopened {p['reopened']:>4}"
        for p in data["per_programmer"]
    ]
    return "\n".join(lines)


def report_defects(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: now)."),
) -> None:
    """Open defects by severity and status, weekly arrival/closure and backlog, reopen rate, time
    to fix and to verify, by module and release, real-data share, pass rates, per programmer."""
    from crm_impl.core import projects
    from crm_impl.core.permissions import require
    from crm_impl.defects.queries import report

    run = cli(ctx).with_json(as_json)
    now = datetime.combine(date.fromisoformat(today), time(23, 59, 59), UTC) if today else None
    with run.unit_of_work() as uow:
        try:
            require(run.actor(uow.session), "defect.read")
            found = projects.list_projects(session=uow.session)
            chosen = next(
                (p for p in sorted(found, key=lambda p: p.id or 0) if project in (None, p.id)), None
            )
            if chosen is None or chosen.id is None:
                raise NotFound("error.not_found", entity="project", id=project)
            data = {"project": chosen.name, **report(uow.session, int(chosen.id), now=now)}
        except DomainError as err:
            fail(err)
    run.emit(data, _text(data))


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report defects`."""
    report.command("defects")(report_defects)
