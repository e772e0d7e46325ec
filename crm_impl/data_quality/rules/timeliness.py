"""Timeliness: open deals touched (a stage change or an activity) within N days (a setting), and
open deals whose expected close has passed without the date being moved."""

from __future__ import annotations

import pandas as pd

from crm_impl.data_quality.rules.base import Context, Finding, as_utc, open_deals, rule


@rule("deal.untouched", "timeliness", "warning", "stage", ("stage_kind", "last_touch_at"), open_deals)
def untouched(frame: pd.DataFrame, ctx: Context) -> Finding:
    touched = as_utc(frame["last_touch_at"])
    if "stage_entered_at" in frame.columns:
        entered = as_utc(frame["stage_entered_at"])
        touched = touched.where(touched.notna() & ~(entered > touched), entered)
    days = (ctx.now - touched).dt.days - 1
    return Finding(days > ctx.settings.stale_days, days.astype("Int64"))


@rule(
    "deal.close_overdue", "timeliness", "info", "expected_close", ("stage_kind", "expected_close"), open_deals
)
def close_overdue(frame: pd.DataFrame, ctx: Context) -> Finding:
    close = pd.to_datetime(frame["expected_close"], errors="coerce")
    today = pd.Timestamp(ctx.today)
    return Finding(close < today, close.dt.date)


RULES = [untouched, close_overdue]
