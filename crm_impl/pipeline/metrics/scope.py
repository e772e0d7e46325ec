"""Which deals a dashboard looks at: a period and the owners (picked by name or by team).

Pure and vectorised: the frames are masked once (`restrict`) and the unchanged metric
functions then run on what is left. The period means, per figure (DESIGN.md, "Metric
definitions"):

- won, lost, win rate, won value, sales cycle, velocity: deals *decided* in the period (a win by
  its close, a loss by the day it was lost, as `enrich` dates them);
- every other figure (open deals and their value, share per stage, funnel, conversion, time in
  stage, stage cost, stale, fulfilment, at risk): the deals *in play* during the period, i.e.
  created before it ended and not decided before it began (an undated imported deal counts as
  created long ago);
- the monthly trends and stage cost against the budget: the months of the period only, and in
  them the deals created, decided and stages entered in the period (to the day).

A team is the owner's department (the person behind the user account, `core.models.Person`);
an owner without one is in no team, `NO_TEAM`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from crm_impl.pipeline.metrics.base import _in_period, _month, enrich

PERIODS = (
    "all",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_12",
    "custom",
)
NO_TEAM = ""


@dataclass(frozen=True)
class Scope:
    """The filter: `since` inclusive, `until` exclusive (UTC midnights, None: open-ended); owners
    and teams empty mean everyone. Hashable, so it keys a cache."""

    period: str = "all"
    since: datetime | None = None
    until: datetime | None = None
    owner_ids: tuple[int, ...] = ()
    teams: tuple[str, ...] = ()

    @property
    def narrowed(self) -> bool:
        """Whether anything is left out (by period or by owner)."""
        return self.since is not None or self.until is not None or bool(self.owner_ids or self.teams)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def period_bounds(
    period: str, today: date, start: date | None = None, end: date | None = None
) -> tuple[datetime | None, datetime | None]:
    """[since, until) of a named period around `today`; "custom" is `start`..`end`, both days
    included (either may be missing: open-ended). "last_12": the 12 complete months before this one."""
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    spans: dict[str, tuple[date, date]] = {
        "this_month": (month, _add_months(month, 1)),
        "last_month": (_add_months(month, -1), month),
        "this_quarter": (quarter, _add_months(quarter, 3)),
        "last_quarter": (_add_months(quarter, -3), quarter),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_12": (_add_months(month, -12), month),
    }
    if period in spans:
        lo, hi = spans[period]
        return _midnight(lo), _midnight(hi)
    if period == "custom":
        if start is not None and end is not None and end < start:
            start, end = end, start
        return (
            _midnight(start) if start else None,
            _midnight(end + timedelta(days=1)) if end else None,
        )
    return None, None


def scope_for(
    period: str,
    today: date,
    *,
    start: date | None = None,
    end: date | None = None,
    owner_ids: tuple[int, ...] = (),
    teams: tuple[str, ...] = (),
) -> Scope:
    period = period if period in PERIODS else "all"
    since, until = period_bounds(period, today, start, end)
    return Scope(period, since, until, tuple(sorted(owner_ids)), tuple(sorted(teams)))


def owner_ids(owners: pd.DataFrame, scope: Scope) -> list[int] | None:
    """The owners whose deals are shown (None: everyone's). `owners` has id and team; picking
    owners and teams shows the owners picked *and* the members of the teams picked."""
    if not scope.owner_ids and not scope.teams:
        return None
    picked = set(scope.owner_ids)
    picked |= set(owners.loc[owners["team"].isin(scope.teams), "id"].astype(int))
    return sorted(picked)


def in_play(deals: pd.DataFrame, stages: pd.DataFrame, scope: Scope) -> pd.Series:
    """Boolean per deal: created before the period ended and not decided before it began."""
    d = enrich(deals, stages)
    mask = pd.Series(True, index=d.index)
    if scope.until is not None:
        mask &= ~(d["created_at"] >= pd.Timestamp(scope.until))  # NaT (undated): long ago
    if scope.since is not None:
        mask &= ~(d["closed_at"] < pd.Timestamp(scope.since))  # NaT (open): still in play
    return mask


def restrict(
    deals: pd.DataFrame, changes: pd.DataFrame, stages: pd.DataFrame, owners: pd.DataFrame, scope: Scope
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deals (enriched) and their stage changes the dashboard computes its figures from."""
    d = enrich(deals, stages)
    mask = in_play(d, stages, scope)
    ids = owner_ids(owners, scope)
    if ids is not None:
        mask &= d["owner_id"].isin(ids).fillna(False).astype(bool)
    if bool(mask.all()):
        return d, changes
    kept = d[mask]
    return kept, changes[changes["deal_id"].isin(kept["id"])]


def months(by_month: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The rows of a per-month frame (`month`: first day, naive) whose month overlaps the period."""
    month = pd.to_datetime(by_month["month"])
    keep = pd.Series(True, index=by_month.index)
    if scope.since is not None:
        keep &= month >= _month(pd.Series([pd.Timestamp(scope.since)])).iloc[0]
    if scope.until is not None:
        keep &= month < pd.Timestamp(scope.until).tz_convert(None)
    return by_month[keep].reset_index(drop=True)


def events_in(deals: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Enriched deals with their creation and decision left only where they fall in the period
    (NaT elsewhere): the monthly trends then count the new, won and lost deals of the period,
    to the day, the same ones as the headline numbers."""
    return deals.assign(
        created_at=deals["created_at"].where(_in_period(deals["created_at"], scope.since, scope.until)),
        closed_at=deals["closed_at"].where(_in_period(deals["closed_at"], scope.since, scope.until)),
    )


def entries_in(pairs: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The (deal, stage) first entries of `metrics.entered`, dated only inside the period: the
    stage cost per month counts what was spent in it (a budget month is whole)."""
    return pairs.assign(at=pairs["at"].where(_in_period(pairs["at"], scope.since, scope.until)))


def delivered_in(deals: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Deals whose actual delivery falls in the period (what on-time fulfilment is measured on)."""
    day = pd.to_datetime(deals["actual_delivery"]).dt.tz_localize("UTC")
    return deals[_in_period(day, scope.since, scope.until) | deals["actual_delivery"].isna()]
