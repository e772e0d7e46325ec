"""The adoption part of the demo company (issue 11), written through the import engine and the
adoption services.

In-app use needs nothing here: every demo write of the pipeline, defects and training already
leaves its audit entry, which is where in-app use is read from. What this adds is the second
source: the usage log of the CRM's mobile app (source "crm-mobile"), which the sales team uses
on the road. The administrator imports it twice — an export of the last four months five weeks
ago, and an overlapping export of the last two months five days ago — so the second import shows
the duplicates of the first one skipped. The log is made up from a seeded random generator:
per person a habit (some reps on the road every other day, some hardly ever), a few events per
day in office hours, with sign-ins and views among them (counted, not stored: not use).

`events(...)` returns dated steps; `crm_impl.demo` runs them in time order with the others.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlmodel import Session

from crm_impl.adoption import importing
from crm_impl.adoption.metrics.usage import working_mask
from crm_impl.core.permissions import Actor

Event = tuple[datetime, Callable[[], None]]
SOURCE = "crm-mobile"
# login -> share of working days with use of the mobile app (the rest of the sales team: none)
HABITS = {
    "sales_rep": 0.55,
    "sales_manager": 0.35,
    "rep1": 0.6,
    "rep2": 0.45,
    "rep3": 0.25,
    "rep4": 0.1,
    "rep5": 0.5,
    "pm_client": 0.05,
}
ACTIONS = ("update", "update", "create", "view", "view", "login")
ENTITIES = ("deal", "activity", "contact", "account")
EXPORTS = ((-35, 120), (-5, 60))  # (import day from today, days the export covers before it)


def usage_log(*, today: date, first: date, last: date, seed: int = 7) -> str:
    """The CSV export of the mobile app's usage log for the working days first..last: user,
    timestamp (local time, no offset), action, entity. The same seed and day give the same lines,
    so overlapping exports repeat them exactly."""
    days = [d.date() for d in _days(first, last)]
    out = io.StringIO()
    out.write("user,timestamp,action,entity\n")
    for login, habit in HABITS.items():
        for day in days:
            rng = random.Random(f"{seed}-{login}-{day.isoformat()}")  # one stream per person and day
            if rng.random() >= habit:
                continue
            for _ in range(rng.randint(1, 4)):
                at = datetime.combine(
                    day, time(7 + rng.randint(0, 9), rng.randint(0, 59), rng.randint(0, 59))
                )
                out.write(f"{login},{at:%Y-%m-%d %H:%M:%S},{rng.choice(ACTIONS)},{rng.choice(ENTITIES)}\n")
    return out.getvalue()


def _days(first: date, last: date) -> pd.DatetimeIndex:
    span = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    return span[working_mask(span)]


def events(
    *, session: Session, actors: dict[str, Actor], today: date, project: str, seed: int = 7
) -> list[Event]:
    """The two imports of the mobile app's log as dated steps (run by the administrator)."""
    steps: list[Event] = []
    for offset, covered in EXPORTS:
        day = today + timedelta(days=offset)
        log = usage_log(
            today=today, first=day - timedelta(days=covered), last=day - timedelta(days=1), seed=seed
        )

        def run(log: str = log, day: date = day) -> None:
            report = importing.import_log(
                session=session,
                actor=actors["admin"],
                data=log.encode("utf-8"),
                source=SOURCE,
                project=project,
                dry_run=False,
                strict=True,
                filename=f"crm-mobile-usage-{day.isoformat()}.csv",
            )
            if report.error_count:  # the demo's own log: a rejected line is a bug here
                raise RuntimeError(f"demo usage log rejected: {[e.message() for e in report.errors[:3]]}")

        steps.append((datetime.combine(day, time(17, 30), UTC), run))
    return steps
