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
    horizon: int = typer.Option(6, min=1, max=36, help="Months to forecast (1–36)."),
    today: str = typer.Option(None, "--today", help="Reference date YYYY-MM-DD (default: today)."),
) -> None:
    """Weighted value by expected-close month; won-value forecast by the best backtested method,
    with 80/95 % intervals; every method's backtest error."""
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
    lines = [
        f"status: {data['status']} · method: {data['method']} · lowest error: {data['best']} · "
        f"baseline won: {data['baseline_won']} · baseline tied with a model: {data['baseline_tied']}"
    ]
    lines += [
        f"{r['month']}: {r['value']:,.0f} (80 % {r['lo80']:,.0f}–{r['hi80']:,.0f}, "
        f"95 % {r['lo95']:,.0f}–{r['hi95']:,.0f})"
        for r in data["forecast"]
    ]
    lines.append(f"backtest: {bt['months']} origins, up to {bt['horizon']} months ahead")
    lines += [
        f"  {m['key']:<15} {m['status']:<12} MAE {m['mae'] if m['mae'] is not None else '–'}"
        + ("  <- used" if m["chosen"] else "")
        for m in bt["methods"]
    ]
    text = "\n".join(lines)
    run.emit(data, text)


def register(app: typer.Typer, report: typer.Typer) -> None:
    """Add `report pipeline` and `report forecast` (imports and exports: crm_impl.cli.imports)."""
    report.command("pipeline")(report_pipeline)
    report.command("forecast")(report_forecast)
