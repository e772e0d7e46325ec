"""`crm-impl report plan [--json]`: phases with schedule variance, scope creep and role-rule
findings of a rollout project (the active demo project by default)."""

from __future__ import annotations

from datetime import date

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError


def report_plan(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Rollout phases with schedule variance (against the newest baseline), scope creep, role rules."""
    from crm_impl.rollout.queries import plan_report

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            data = plan_report(
                session=uow.session,
                actor=run.actor(uow.session),
                project_id=project,
                today=date.fromisoformat(today) if today else None,
            )
        except DomainError as err:
            fail(err)
    creep = data["scope_creep"]
    lines = [f"{data['project']} · go-live {data['go_live_date']} · baseline {data['baseline']}"]
    lines += [f"  {p['name']:<32} {p['status']:<12} {p['variance_days']!s:>5} d" for p in data["phases"]]
    ratio = "–" if creep["effort_ratio"] is None else f"{creep['effort_ratio']:.1%}"
    lines.append(f"scope creep (effort): {ratio} (limit {creep['limit']:.0%})")
    lines += [
        f"  [{'ok' if f['ok'] else 'VIOLATION'}] slide {f['slide']}: {f['message']}"
        for f in data["role_findings"]
    ]
    run.emit(data, "\n".join(lines))


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report plan`."""
    report.command("plan")(report_plan)
