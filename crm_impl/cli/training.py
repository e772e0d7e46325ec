"""`crm-impl report training [--json] [--project ID] [--today YYYY-MM-DD]`: training coverage,
the untrained list, scores, sessions held vs planned, the effect on use, and the meeting figures
of a project (docs/training.md) — the same numbers as the training pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError, NotFound


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _text(data: dict[str, Any]) -> str:
    cov, s, sc = data["coverage"], data["sessions"], data["scores"]
    eff, first, meet = data["effect"], data["first_use"], data["meetings"]
    lines = [
        f"{data['project']} · go-live {data['go_live_date'] or '–'}",
        f"sessions {s['sessions']}: held {s['held']}, planned {s['planned']}, cancelled {s['cancelled']}, "
        f"overdue {s['overdue']}",
        f"trained before go-live: {cov['trained']} of {cov['licensed']} licensed users "
        f"({_pct(cov['share'])})",
    ]
    lines += [
        f"  {d['department'] or '–':<20} {d['trained']:>3} of {d['licensed']:>3} ({_pct(d['share'])})"
        for d in data["coverage_by_department"]
    ]
    lines += [
        f"untrained: {len(data['untrained'])}",
        *(f"  {p['name']} ({p['department'] or '–'})" for p in data["untrained"]),
        f"average score {_num(sc['mean'])} ({sc['scored']} scored, pass {_pct(sc['pass_share'])})",
        f"active in the last {eff['window_days']} days: trained {eff['trained']['active']} of "
        f"{eff['trained']['users']} ({_num(eff['trained']['actions_per_user'])} actions/user), untrained "
        f"{eff['untrained']['active']} of {eff['untrained']['users']} "
        f"({_num(eff['untrained']['actions_per_user'])} actions/user)",
        f"days from training to first use: median {_num(first['median_days'])} "
        f"({first['not_used_since']} not used since)",
        f"steering meetings held {meet['steering']['held']}, "
        f"with management {_pct(meet['steering']['share'])}",
        f"benefit demonstrations after go-live: {meet['benefit_demos']['held_after_go_live']} held, "
        f"{meet['benefit_demos']['planned']} planned",
    ]
    return "\n".join(lines)


def report_training(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project: int = typer.Option(None, "--project", help="Project id (default: the first project)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Training coverage before go-live per department, untrained users, scores, sessions held
    vs planned, use by trained vs untrained users, days to first use, meetings."""
    from crm_impl.core import projects
    from crm_impl.core.permissions import require
    from crm_impl.training.queries import report

    run = cli(ctx).with_json(as_json)
    day = date.fromisoformat(today) if today else None
    with run.unit_of_work() as uow:
        try:
            require(run.actor(uow.session), "training.read")
            found = projects.list_projects(session=uow.session)
            chosen = next(
                (p for p in sorted(found, key=lambda p: p.id or 0) if project in (None, p.id)), None
            )
            if chosen is None or chosen.id is None:
                raise NotFound("error.not_found", entity="project", id=project)
            data = {"project": chosen.name, **report(uow.session, int(chosen.id), today=day)}
        except DomainError as err:
            fail(err)
    run.emit(data, _text(data))


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report training`."""
    report.command("training")(report_training)
