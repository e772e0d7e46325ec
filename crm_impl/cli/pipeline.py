"""`crm-impl report pipeline|forecast [--json]`: the pipeline numbers at the command line."""

from __future__ import annotations

from datetime import date

import typer

from crm_impl.cli.context import cli, fail
from crm_impl.core.errors import DomainError


def _today(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def report_pipeline(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Open/won/lost deals, win rate, values, sales cycle, velocity, stale deals, stage shares."""
    from crm_impl.pipeline.queries.report import pipeline_report

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            data = pipeline_report(session=uow.session, actor=run.actor(uow.session), today=_today(today))
        except DomainError as err:
            fail(err)
    lines = [f"{k}: {v}" for k, v in data.items() if k not in {"stages", "on_time_fulfilment", "flow"}]
    lines += [
        f"  {f['key']:<16} entered {f['entered']:>7} reached {f['reached']:>7} conversion "
        f"{'–' if f['conversion'] is None else format(f['conversion'], '.1%')} median days (KM) "
        f"{'–' if f['median_days_km'] is None else f['median_days_km']}"
        for f in data["flow"]
    ]
    lines += [
        f"  {s['key']:<16} {s['open_deals']:>7} deals {s['open_accounts']:>6} accounts "
        f"{s['value']:>16,.2f} value {s['share']:.1%}"
        for s in data["stages"]
    ]
    run.emit(data, "\n".join(lines))


def report_forecast(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    horizon: int = typer.Option(6, help="Months to forecast."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Weighted value by expected-close month, won-value forecast and its backtest errors."""
    from crm_impl.pipeline.queries.report import forecast_report

    run = cli(ctx).with_json(as_json)
    with run.unit_of_work() as uow:
        try:
            data = forecast_report(
                session=uow.session, actor=run.actor(uow.session), today=_today(today), horizon=horizon
            )
        except DomainError as err:
            fail(err)
    bt = data["backtest"]
    text = "\n".join(
        [f"{r['month']}: model {r['model']:,.0f} baseline {r['baseline']:,.0f}" for r in data["forecast"]]
        + [
            f"backtest ({bt['months']} months vs {bt['baseline']}): "
            f"MAE model {bt['mae_model']} baseline {bt['mae_baseline']}"
        ]
    )
    run.emit(data, text)


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report pipeline` and `report forecast` (imports and exports: crm_impl.cli.imports)."""
    report.command("pipeline")(report_pipeline)
    report.command("forecast")(report_forecast)
