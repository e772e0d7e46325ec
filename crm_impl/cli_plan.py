"""`crm-impl report plan [--json]`: phases with schedule variance, scope creep and role-rule
findings of a rollout project (the active demo project by default)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from sqlmodel import Session

from crm_impl.cli_report import report_app
from crm_impl.db import UnitOfWork
from crm_impl.errors import DomainError, NotFound
from crm_impl.i18n import t
from crm_impl.metrics import plan as m
from crm_impl.metrics import role_rules
from crm_impl.permissions import Actor, require
from crm_impl.services import changes, plan, projects, team


def plan_report(
    *, session: Session, actor: Actor, project_id: int | None = None, today: date | None = None
) -> dict[str, Any]:
    require(actor, "plan.read")
    found = projects.list_projects(session=session)
    project = next((p for p in found if project_id in (None, p.id)), None)
    if project is None:
        raise NotFound("error.not_found", entity="project", id=project_id)
    today = today or date.today()
    baselines = plan.list_baselines(session=session, project_id=project.id)
    base = plan.baseline_items(session=session, baseline_id=baselines[-1].id) if baselines else None
    variance = m.schedule_variance(
        plan.phases_frame(session=session, project_id=project.id), base, today=today
    )
    settings = plan.get_settings(session=session, project_id=project.id)
    crs = changes.changes_frame(session=session, project_id=project.id)
    findings = role_rules.check(team.assignments_frame(session=session, project_id=project.id))
    columns = [
        "name",
        "status",
        "percent_complete",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    ]
    phases = [
        {
            **{c: row[c] for c in columns},
            "reference_end": row["reference_end"],
            "variance_days": None if row["variance_days"] is None else int(row["variance_days"]),
            "slipped": bool(row["slipped"]),
        }
        for row in variance.astype(object).where(variance.notna(), None).to_dict("records")
    ]
    return {
        "project": project.name,
        "go_live_date": project.go_live_date,
        "baseline": baselines[-1].name if baselines else None,
        "phases": phases,
        "scope_creep": m.scope_creep(
            crs, project.baseline_effort_days, project.baseline_cost, settings.scope_creep_limit
        ),
        "role_findings": [{**f.as_dict(), "message": t(f.message_key)} for f in findings],
    }


@report_app.command("plan")
def report_plan(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Rollout phases with schedule variance (against the newest baseline), scope creep, role rules."""
    from crm_impl.cli import acting, emit, engine, fail

    with UnitOfWork(engine()) as uow:
        try:
            data = plan_report(
                session=uow.session,
                actor=acting(uow.session),
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
    emit(data, as_json, "\n".join(lines))
