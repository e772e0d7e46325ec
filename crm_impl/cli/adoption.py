"""`crm-impl report adoption [--json] [--project ID] [--today YYYY-MM-DD]`: the adoption of a
project (docs/adoption.md) — the same numbers as the adoption pages:

- "usage": DAU/WAU/MAU, stickiness, adoption rate, records per active user, per department,
  role and source, the monthly trend, the licensed users never active
  (`crm_impl.adoption.queries.usage.report`);
- "adkar", "legacy_tools", "benefits": the registers (`crm_impl.adoption.queries.registers.report`).

`crm-impl adoption rebuild-usage [--json]`: recompute the usage rollup (`usage_day`) from the
audit log and the imported events, after rows were written behind the app's back (a bulk load
in raw SQL); the administrator only, audited; prints the rollup's rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError, NotFound

adoption_app = typer.Typer(help="Adoption: the usage rollup.", no_args_is_help=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _text(data: dict[str, Any]) -> str:
    u = data["usage"]
    s = u["summary"]
    lines = [
        f"{data['project']} · go-live {u['go_live_date'] or '–'} · {s['first_day']} – {s['last_day']} "
        f"({s['working_days']} working days)",
        f"licensed users {s['licensed']}: MAU {s['mau']} (adoption rate {_pct(s['adoption_rate'])}), "
        f"WAU {s['wau']}, mean DAU {_num(s['dau_mean'])} (DAU share {_pct(s['dau_share'])}), "
        f"stickiness {_pct(s['stickiness'])}",
        f"per active user: {_num(s['created_per_active'])} created, {_num(s['updated_per_active'])} updated",
        "per department:",
        *(
            f"  {d['department'] or '–':<20} {d['mau']:>3} of {d['licensed']:>3} "
            f"({_pct(d['adoption_rate'])}), stickiness {_pct(d['stickiness'])}"
            for d in u["by_department"]
        ),
        "per source (people active): "
        + (", ".join(f"{r['source']} {r['people']}" for r in u["by_source"]) or "–"),
        f"licensed but never active: {len(u['never_active'])}",
        *(f"  {p['name']} ({p['department'] or '–'})" for p in u["never_active"]),
    ]
    return "\n".join(lines)


def report_adoption(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Usage (DAU/WAU/MAU, stickiness, adoption rate per department and role, never active),
    ADKAR readiness, legacy tools and benefits of a project."""
    from crm_impl.adoption.queries import registers, usage
    from crm_impl.core import projects
    from crm_impl.core.permissions import require

    run = cli(ctx).with_json(as_json)
    try:
        day = date.fromisoformat(today) if today else date.today()
    except ValueError:
        raise typer.BadParameter("--today: YYYY-MM-DD") from None
    with run.unit_of_work() as uow:
        try:
            require(run.actor(uow.session), "adoption.read")
            found = projects.list_projects(session=uow.session)
            chosen = next(
                (p for p in sorted(found, key=lambda p: p.id or 0) if project in (None, p.id)), None
            )
            if chosen is None or chosen.id is None:
                raise NotFound("error.not_found", entity="project", id=project)
            pid = int(chosen.id)
            data = {
                "project": chosen.name,
                "project_id": pid,
                "usage": usage.report(uow.session, pid, today=day),
                **registers.report(uow.session, pid, today=day),  # "adkar", "legacy_tools", "benefits"
            }
        except DomainError as err:
            fail(err)
    run.emit(data, _text(data))


@adoption_app.command("rebuild-usage")
def rebuild_usage(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute the usage rollup from the audit log and the imported usage logs (administrators)."""
    from crm_impl.adoption.services import usage

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            rows = usage.rebuild_usage(session=uow.session, actor=run.actor(uow.session))
            uow.commit()
        except DomainError as err:
            fail(err)
    run.emit({"rows": rows}, f"usage rollup rebuilt: {rows} rows")


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report adoption` and `adoption rebuild-usage`."""
    report.command("adoption")(report_adoption)
    app.add_typer(adoption_app, name="adoption")
