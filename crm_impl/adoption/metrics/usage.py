"""Usage metrics (issue 11, docs/adoption.md "Definitions"): pure, vectorised numpy/pandas.

Inputs (the frames of `crm_impl.adoption.queries.usage`, or hand-made ones with these columns):
- daily: person_id, day (a date), source, created, updated — use per person, day and source
  (created: records created; updated: every other use — edits, stage moves, activities done,
  defect transitions);
- people: id, name, department, role, licensed_user, active, start (the day the person's user
  account was created; NaT: counted from the start of every range).

Definitions (one meaning everywhere, matching DESIGN.md "Metric definitions"):
- *population*: licensed (`licensed_user`), active people. A person exists from their start day
  (or their first use, when that is earlier); every denominator of a day counts only the people
  who existed on that day, so someone joining mid-month is counted from their start.
- *active* on a day: at least one use (create or update) that day; a sign-in alone is not use.
- *working day*: Monday–Friday that is not a Polish public holiday. DAU means and DAU shares
  are taken over working days only (weekends do not make adoption look low); use on a weekend
  still counts towards WAU and MAU.
- *DAU(d)*: people of the population active on day d. *WAU(d)* / *MAU(d)*: people of the
  population (existing on d) active on at least one of the 7 / 30 calendar days ending on d.
- *mean DAU*: mean of DAU over the working days of the window; *DAU share*: the mean of
  DAU(d) ÷ population(d) over those days.
- *stickiness* = mean DAU ÷ MAU; *adoption rate* = MAU ÷ licensed users (the population on the
  last day); *created (updated) per active user* = records created (updated) in the window by
  the population ÷ MAU.
- *licensed but never active*: people of the population with no use up to the last day.
- The *trend since go-live* takes the same figures per calendar month (MAU of a month: people
  active on at least one of its days; licensed: the population on its last day counted); the
  month in progress is marked partial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from crm_impl.adoption.vocabulary import WEEK_DAYS, WINDOW_DAYS

DAILY_COLUMNS = ["person_id", "day", "source", "created", "updated"]
PEOPLE_COLUMNS = ["id", "name", "department", "role", "licensed_user", "active", "start"]
GROUP_FIGURES = [
    "licensed",
    "mau",
    "wau",
    "dau_mean",
    "dau_share",
    "stickiness",
    "adoption_rate",
    "created_per_active",
    "updated_per_active",
    "never_active",
]


# ---- working days ----------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return date(year, month, day)


@cache
def polish_holidays(year: int) -> frozenset[date]:
    """Poland's statutory public holidays of one year (Ustawa o dniach wolnych od pracy):
    fixed days, Easter Sunday and Monday, Pentecost Sunday, Corpus Christi; Christmas Eve
    from 2025 on."""
    fixed = [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)]
    if year >= 2025:
        fixed.append((12, 24))
    easter = _easter(year)
    moving = [easter, easter + timedelta(days=1), easter + timedelta(days=49), easter + timedelta(days=60)]
    return frozenset([date(year, m, d) for m, d in fixed] + moving)


def working_mask(days: pd.DatetimeIndex) -> np.ndarray:
    """True for Monday–Friday days that are not Polish public holidays."""
    if len(days) == 0:
        return np.zeros(0, dtype=bool)
    holidays = set().union(*(polish_holidays(int(y)) for y in range(days.min().year, days.max().year + 1)))
    off = pd.DatetimeIndex(sorted(holidays))
    return np.asarray((days.dayofweek < 5) & ~days.isin(off))


# ---- the person × day matrix -----------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """The population's use as person × day arrays over [first, last] (calendar days)."""

    people: pd.DataFrame  # the population, one row per matrix row
    days: pd.DatetimeIndex
    working: np.ndarray  # per day
    exists: np.ndarray  # person × day: the person is counted that day
    active: np.ndarray  # person × day: used the CRM that day (and exists)
    created: np.ndarray  # person × day counts
    updated: np.ndarray
    first_use: np.ndarray  # per person: the first day with use (any day, in range or not), NaT
    source: pd.DataFrame | None = None  # the people frame it was built from


def population(people: pd.DataFrame) -> pd.DataFrame:
    """The licensed, active people the adoption figures are measured over."""
    keep = people["licensed_user"].astype(bool) & people["active"].astype(bool)
    return people.loc[keep].reset_index(drop=True)


def _normal(values: pd.Series) -> pd.Series:
    """Days as naive midnights (time of day dropped, a time zone's wall clock kept)."""
    if len(values) == 0:
        return values
    if values.dtype == np.dtype("datetime64[ns]"):  # already days (the queries' frames): as they are
        ns = values.to_numpy().view(np.int64)
        if not (ns % (86_400 * 10**9)).any():
            return values
    return pd.to_datetime(values).dt.tz_localize(None).dt.normalize()


@dataclass
class Use:
    """A daily frame read once into arrays (`prepare`): what every figure is computed from. The
    report computes its figures from one `Use` (the days are normalised and the person × day
    matrices built once, not once per figure); every function here also takes the frame."""

    frame: pd.DataFrame  # the daily frame
    person: np.ndarray  # int64 per row
    day: pd.Series  # normalised day per row (datetime64[ns])
    created: np.ndarray  # int64 per row
    updated: np.ndarray
    first_use: pd.Series  # per person id: the first day with use
    matrices: dict[tuple[int, date, date], Matrix] = field(default_factory=dict)


def prepare(daily: pd.DataFrame | Use) -> Use:
    if isinstance(daily, Use):
        return daily
    day = _normal(daily["day"]) if len(daily) else pd.Series([], dtype="datetime64[ns]")
    day = pd.Series(np.asarray(day, dtype="datetime64[ns]"), index=daily.index)
    person = daily["person_id"].astype("int64").to_numpy() if len(daily) else np.zeros(0, dtype=np.int64)
    first_use = day.groupby(person).min() if len(daily) else pd.Series([], dtype="datetime64[ns]")
    return Use(
        frame=daily,
        person=person,
        day=day,
        created=daily["created"].to_numpy(dtype=np.int64) if len(daily) else np.zeros(0, dtype=np.int64),
        updated=daily["updated"].to_numpy(dtype=np.int64) if len(daily) else np.zeros(0, dtype=np.int64),
        first_use=first_use,
    )


def matrix(daily: pd.DataFrame | Use, people: pd.DataFrame, first: date, last: date) -> Matrix:
    use = prepare(daily)
    key = (id(people), first, last)
    if key in use.matrices and use.matrices[key].source is people:
        return use.matrices[key]
    pop = population(people)
    days = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="D")
    n_people, n_days = len(pop), len(days)
    created = np.zeros((n_people, n_days), dtype=np.int64)
    updated = np.zeros((n_people, n_days), dtype=np.int64)
    start = pd.to_datetime(pop["start"]) if len(pop) else pd.Series([], dtype="datetime64[ns]")
    rows = pd.Index(pop["id"].astype("int64"))
    first_use = pd.Series(pd.NaT, index=rows, dtype="datetime64[ns]")
    if len(use.person) and n_people and n_days:
        r = rows.get_indexer(use.person)
        first_use = use.first_use.reindex(rows)
        # the day's column: whole days since `first` (the days are normalised; NaT is outside)
        offset = (use.day.to_numpy() - np.datetime64(pd.Timestamp(first).to_datetime64(), "ns")).astype(
            "timedelta64[D]"
        )
        c = offset.astype(np.int64)
        inside = (r >= 0) & ~np.isnat(offset) & (c >= 0) & (c < n_days)
        flat = r[inside].astype(np.int64) * n_days + c[inside]
        size = n_people * n_days
        created = np.bincount(flat, weights=use.created[inside], minlength=size).astype(np.int64)
        updated = np.bincount(flat, weights=use.updated[inside], minlength=size).astype(np.int64)
        created, updated = created.reshape(n_people, n_days), updated.reshape(n_people, n_days)
    begins = pd.Series(np.asarray(start, dtype="datetime64[ns]"), index=rows)
    begins = begins.where(begins.notna() & ~(begins > first_use), first_use)  # earliest of the two
    begin = begins.fillna(pd.Timestamp(first)).to_numpy(dtype="datetime64[ns]")
    exists = days.to_numpy()[None, :] >= begin[:, None] if n_people else np.zeros((0, n_days), dtype=bool)
    active = ((created + updated) > 0) & exists
    first_used = first_use.to_numpy(dtype="datetime64[ns]")
    m = Matrix(pop, days, working_mask(days), exists, active, created, updated, first_used, people)
    use.matrices[key] = m
    return m


def _rolling_any(active: np.ndarray, width: int) -> np.ndarray:
    """person × day: active on at least one of the `width` days ending on each day."""
    csum = np.cumsum(active, axis=1, dtype=np.int32)
    shifted = np.zeros_like(csum)
    if width < csum.shape[1]:
        shifted[:, width:] = csum[:, :-width]
    return (csum - shifted) > 0


def _share(part: Any, whole: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(part, dtype=float) / np.asarray(whole, dtype=float)
    return np.where(np.asarray(whole) > 0, out, np.nan)


def _one_hot(keys: pd.Series) -> tuple[list[Any], np.ndarray]:
    codes, names = pd.factorize(keys, sort=True)
    hot = np.zeros((len(names), len(keys)), dtype=np.int64)
    if len(keys):
        hot[codes, np.arange(len(keys))] = 1
    return list(names), hot


def _window_figures(m: Matrix, cols: np.ndarray, hot: np.ndarray) -> dict[str, np.ndarray]:
    """Every figure of GROUP_FIGURES per group (rows of `hot`) over the day columns `cols`
    (a boolean mask of the matrix's days; the last one is "the day")."""
    idx = np.flatnonzero(cols)
    if len(idx) == 0:
        return {name: np.full(hot.shape[0], np.nan) for name in GROUP_FIGURES}
    last = idx[-1]
    exists_last = m.exists[:, last].astype(np.int64)
    active_any = m.active[:, idx].any(axis=1).astype(np.int64) * exists_last
    week = idx[idx > last - WEEK_DAYS]
    wau_any = m.active[:, week].any(axis=1).astype(np.int64) * exists_last
    ever = m.first_use <= m.days[last].to_datetime64()  # NaT (never used) compares False
    wd = idx[m.working[idx]]
    dau = hot @ m.active[:, wd].astype(np.int64)  # group × working day
    pop = hot @ m.exists[:, wd].astype(np.int64)
    licensed = hot @ exists_last
    mau = hot @ active_any
    created = hot @ (m.created[:, idx].sum(axis=1) * exists_last)
    updated = hot @ (m.updated[:, idx].sum(axis=1) * exists_last)
    dau_mean = dau.mean(axis=1) if len(wd) else np.full(hot.shape[0], np.nan)
    dau_share = (
        np.nanmean(_share(dau, pop), axis=1) if len(wd) and pop.any() else np.full(hot.shape[0], np.nan)
    )
    return {
        "licensed": licensed,
        "mau": mau,
        "wau": hot @ wau_any,
        "dau_mean": dau_mean,
        "dau_share": dau_share,
        "stickiness": _share(dau_mean, mau),
        "adoption_rate": _share(mau, licensed),
        "created_per_active": _share(created, mau),
        "updated_per_active": _share(updated, mau),
        "never_active": hot @ ((~ever).astype(np.int64) * exists_last),
    }


def _clean(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if np.isnan(value) else float(value)
    return value


# ---- the figures ------------------------------------------------------------------------------


def _range(daily: pd.DataFrame, today: date, go_live: date | None, window: int) -> tuple[date, date]:
    """From `window` days before the earliest day any figure needs, to today."""
    starts = [today - timedelta(days=window - 1)]
    if go_live is not None and go_live <= today:
        starts.append(go_live)
    return min(starts) - timedelta(days=WINDOW_DAYS), today


def summary(
    daily: pd.DataFrame | Use, people: pd.DataFrame, today: date, *, window: int = WINDOW_DAYS
) -> dict[str, Any]:
    """The headline figures over the `window` days ending `today` (see the module docstring),
    plus the window's working days."""
    first, last = today - timedelta(days=window - 1), today
    m = matrix(daily, people, first, last)
    cols = np.ones(len(m.days), dtype=bool)
    hot = np.ones((1, len(m.people)), dtype=np.int64)
    figures = {k: _clean(v[0]) for k, v in _window_figures(m, cols, hot).items()}
    return {
        **figures,
        "window_days": window,
        "working_days": int(m.working.sum()),
        "first_day": first,
        "last_day": last,
    }


def by_group(
    daily: pd.DataFrame | Use, people: pd.DataFrame, today: date, column: str, *, window: int = WINDOW_DAYS
) -> pd.DataFrame:
    """The headline figures per value of `column` of people ("department", "role"); one row per
    group present in the population, sorted by the group's name. An empty group name is ''."""
    first = today - timedelta(days=window - 1)
    m = matrix(daily, people, first, today)
    names, hot = _one_hot(m.people[column].fillna("").astype(str))
    figures = _window_figures(m, np.ones(len(m.days), dtype=bool), hot)
    out = pd.DataFrame({column: names, **figures}, columns=[column, *GROUP_FIGURES])
    return out.astype({"licensed": "int64", "mau": "int64", "wau": "int64", "never_active": "int64"})


def series(daily: pd.DataFrame | Use, people: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Per calendar day from `first` to `last`: working (bool), licensed (population that day),
    dau (<NA> on days that are not working days), wau, mau, adoption_rate (MAU ÷ licensed)."""
    m = matrix(daily, people, first - timedelta(days=WINDOW_DAYS), last)
    keep = m.days >= pd.Timestamp(first)
    wau = (_rolling_any(m.active, WEEK_DAYS) & m.exists).sum(axis=0)
    mau = (_rolling_any(m.active, WINDOW_DAYS) & m.exists).sum(axis=0)
    licensed = m.exists.sum(axis=0)
    dau = pd.array(m.active.sum(axis=0), dtype="Int64")
    dau[~m.working] = pd.NA
    out = pd.DataFrame(
        {
            "day": m.days,
            "working": m.working,
            "licensed": licensed,
            "dau": dau,
            "wau": wau,
            "mau": mau,
            "adoption_rate": _share(mau, licensed),
        }
    )
    return out.loc[keep].reset_index(drop=True)


def trend_start(daily: pd.DataFrame | Use, go_live: date | None, today: date) -> date:
    """Where the trend begins: go-live once it is past; before it (a pilot, or a pipeline in use
    ahead of the rollout) the first month with use, at most a year back."""
    if go_live is not None and go_live <= today:
        return go_live
    floor = (pd.Timestamp(today) - pd.DateOffset(months=11)).replace(day=1).date()
    use = prepare(daily)
    if len(use.person) == 0:
        return today.replace(day=1)
    first_use = use.day.min().date()
    return max(floor, min(first_use, today).replace(day=1))


def monthly(
    daily: pd.DataFrame | Use, people: pd.DataFrame, go_live: date | None, today: date
) -> pd.DataFrame:
    """The trend: per calendar month from `trend_start` to today's month, the figures of
    GROUP_FIGURES over its days (from go-live) up to today; `partial` for the month in progress."""
    use = prepare(daily)
    first = trend_start(use, go_live, today)
    m = matrix(use, people, first, today)
    months = m.days.to_period("M")
    hot = np.ones((1, len(m.people)), dtype=np.int64)
    rows = []
    for month in months.unique():  # one pass per month (a handful), each vectorised over people
        cols = np.asarray(months == month)
        figures = _window_figures(m, cols, hot)
        rows.append(
            {
                "month": month.to_timestamp(),
                "partial": bool(month == pd.Period(today, "M") and today != month.end_time.date()),
                "working_days": int(m.working[cols].sum()),
                **{k: _clean(v[0]) for k, v in figures.items()},
            }
        )
    return pd.DataFrame(rows, columns=["month", "partial", "working_days", *GROUP_FIGURES])


def never_active(daily: pd.DataFrame | Use, people: pd.DataFrame, today: date) -> pd.DataFrame:
    """Licensed, active people with no use up to `today`: id, name, department, role, start."""
    pop = population(people)
    use = prepare(daily)
    used = use.person[(use.day <= pd.Timestamp(today)).to_numpy()]
    out = pop.loc[~pop["id"].astype("int64").isin(used), ["id", "name", "department", "role", "start"]]
    return out.sort_values(["department", "name"]).reset_index(drop=True)


def by_source(
    daily: pd.DataFrame | Use, people: pd.DataFrame, today: date, *, window: int = WINDOW_DAYS
) -> pd.DataFrame:
    """Per source of use (this app, each imported log) over the window ending today: people of
    the population active through it, records created and updated."""
    pop_ids = population(people)["id"].astype("int64")
    first = pd.Timestamp(today - timedelta(days=window - 1))
    use = prepare(daily)
    day = use.day.to_numpy()
    inside = (day >= first.to_datetime64()) & (day <= pd.Timestamp(today).to_datetime64())
    rows = use.frame.loc[inside & np.isin(use.person, pop_ids.to_numpy())]
    out = rows.groupby("source").agg(
        people=("person_id", "nunique"), created=("created", "sum"), updated=("updated", "sum")
    )
    return out.reset_index().astype({"people": "int64", "created": "int64", "updated": "int64"})
