"""The plan report: phases with schedule variance, scope creep and role-rule findings of a rollout
project. Used by `crm-impl report plan` and the Overview page."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from crm_impl.core import projects as core_projects
from crm_impl.core.errors import NotFound
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout import metrics as m
from crm_impl.rollout.metrics import role_rules
from crm_impl.rollout.services import changes, plan, team


def plan_report(
    *, session: Session, actor: Actor, project_id: int | None = None, today: date | None = None
) -> dict[str, Any]:
    require(actor, "plan.read")
    found = core_projects.list_projects(session=session)
    project = next((p for p in found if project_id in (None, p.id)), None)
    if project is None:
        raise NotFound("error.not_found", entity="project", id=project_id)
    today = today or date.today()
    pid = int(project.id or 0)
    baselines = plan.list_baselines(session=session, project_id=pid)
    base = plan.baseline_items(session=session, baseline_id=int(baselines[-1].id or 0)) if baselines else None
    variance = m.schedule_variance(plan.phases_frame(session=session, project_id=pid), base, today=today)
    settings = plan.get_settings(session=session, project_id=pid)
    crs = changes.changes_frame(session=session, project_id=pid)
    findings = role_rules.check(team.assignments_frame(session=session, project_id=pid))
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
            crs, float(project.baseline_effort_days), float(project.baseline_cost), settings.scope_creep_limit
        ),
        "role_findings": [{**f.as_dict(), "message": t(f.message_key)} for f in findings],
    }
