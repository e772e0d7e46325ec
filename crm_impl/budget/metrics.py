"""Budget metrics (issue 10, docs/budget.md): pure, vectorised pandas — frames in, frames or
numbers out; no database, no Streamlit.

Inputs are the frames of `crm_impl.budget.queries.load` (or hand-made ones with these columns):
- lines: id, name, category, phase_id (nullable), planned, committed, forecast (nullable),
  status — money as floats
- postings: id, line_id, posted_on (date), amount
- phases: id, name, kind, planned_start, planned_end (dates), percent_complete (0–100)

Earned value (one meaning everywhere):
- BAC (budget at completion) = Σ planned of every line.
- A line linked to a phase follows that phase: its PV at date d is planned × the share of the
  phase's planned days (start and end inclusive) elapsed by d; its EV is planned × the phase's
  % complete. A line without a phase (licences, consulting …) follows the project as a whole:
  PV spread linearly from the earliest planned start to the latest planned end of the phases,
  EV = planned × the project's % complete (the phases' % complete weighted by their budget;
  by their planned days when no line is linked to a phase). No phase at all: PV = EV = 0.
- AC = Σ postings dated on or before d.
- CV = EV − AC, SV = EV − PV, CPI = EV ÷ AC, SPI = EV ÷ PV (None when the divisor is 0),
  EAC = BAC ÷ CPI (BAC while CPI is unknown), ETC = EAC − AC, VAC = BAC − EAC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from crm_impl.budget.vocabulary import CATEGORIES, SEED_STAGES

LINE_COLUMNS = ("id", "name", "category", "phase_id", "planned", "committed", "forecast", "status")
POSTING_COLUMNS = ("id", "line_id", "posted_on", "amount")
PHASE_COLUMNS = ("id", "name", "kind", "planned_start", "planned_end", "percent_complete")


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The last day of the month that `month` lies in."""
    first_next = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def last_closed_month(today: date) -> date:
    """The first day of the newest month that has ended before `today`."""
    return month_start(month_start(today) - timedelta(days=1))


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").fillna(0.0).astype(float)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce")


# ---- per line ----------------------------------------------------------------------------------


def actual_per_line(lines: pd.DataFrame, postings: pd.DataFrame, as_of: date | None = None) -> pd.Series:
    """Σ postings per line id (as of a date when given), 0 for a line without postings."""
    p = postings
    if as_of is not None and not p.empty:
        p = p[_dates(p["posted_on"]) <= pd.Timestamp(as_of)]
    sums = _num(p["amount"]).groupby(p["line_id"]).sum() if not p.empty else pd.Series(dtype=float)
    return lines["id"].map(sums).fillna(0.0).astype(float)


def line_table(lines: pd.DataFrame, postings: pd.DataFrame) -> pd.DataFrame:
    """Every line with actual (Σ postings), forecast at completion (the line's own, else the
    largest of planned, committed and actual), variance = forecast − planned (positive: an
    overrun) and variance % of planned; the largest overruns first."""
    out = lines.loc[:, list(LINE_COLUMNS)].copy()
    for name in ("planned", "committed"):
        out[name] = _num(out[name])
    out["actual"] = actual_per_line(lines, postings).to_numpy()
    own = pd.to_numeric(out["forecast"], errors="coerce")
    fallback = out[["planned", "committed", "actual"]].max(axis=1)
    out["forecast_given"] = own.notna()
    out["forecast"] = own.fillna(fallback).astype(float)
    out["variance"] = out["forecast"] - out["planned"]
    out["variance_pct"] = (out["variance"] / out["planned"].where(out["planned"] != 0)).astype(float)
    return out.sort_values(["variance", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def by_category(table: pd.DataFrame) -> pd.DataFrame:
    """Planned, committed, actual, forecast per category (every category, in the fixed order)."""
    sums = table.groupby("category")[["planned", "committed", "actual", "forecast"]].sum()
    out = sums.reindex(list(CATEGORIES), fill_value=0.0).rename_axis("category").reset_index()
    out["variance"] = out["forecast"] - out["planned"]
    return out


def by_phase(table: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """The same sums per rollout phase (in the plan's order), plus one row (`phase_id` -1) for
    the lines that belong to no phase."""
    sums = (
        table.assign(phase_id=pd.to_numeric(table["phase_id"], errors="coerce").fillna(-1).astype(int))
        .groupby("phase_id")[["planned", "committed", "actual", "forecast"]]
        .sum()
    )
    ids = [int(i) for i in phases["id"]] + [-1]
    names = dict(zip(phases["id"].astype(int), phases["name"], strict=True))
    out = sums.reindex(ids, fill_value=0.0).rename_axis("phase_id").reset_index()
    out["phase"] = out["phase_id"].map(names).fillna("")
    out = out[(out["phase_id"] != -1) | (out[["planned", "actual", "forecast"]].sum(axis=1) > 0)]
    return out.reset_index(drop=True)


# ---- earned value ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarnedValue:
    """The earned-value figures as of one date (money as floats; None: not defined)."""

    as_of: date
    bac: float
    pv: float
    ev: float
    ac: float
    cv: float
    sv: float
    cpi: float | None
    spi: float | None
    eac: float
    etc: float
    vac: float

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "as_of": self.as_of.isoformat()}


def figures(as_of: date, bac: float, pv: float, ev: float, ac: float) -> EarnedValue:
    """CV, SV, CPI, SPI, EAC, ETC and VAC from the four measured values."""
    cpi = ev / ac if ac else None
    spi = ev / pv if pv else None
    eac = bac / cpi if cpi else bac
    return EarnedValue(
        as_of=as_of,
        bac=bac,
        pv=pv,
        ev=ev,
        ac=ac,
        cv=ev - ac,
        sv=ev - pv,
        cpi=cpi,
        spi=spi,
        eac=eac,
        etc=eac - ac,
        vac=bac - eac,
    )


def _elapsed(start: np.ndarray, end: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Share of each span's days (start and end inclusive) elapsed by the end of each day in
    `when`: a (days × spans) matrix. Dates as datetime64[D]; a missing date elapses nothing."""
    days = np.maximum((end - start).astype("timedelta64[D]").astype(float) + 1, 1.0)
    gone = (when[:, None] - start[None, :]).astype("timedelta64[D]").astype(float) + 1
    return np.clip(np.nan_to_num(gone / days[None, :], nan=0.0), 0.0, 1.0)


def _day64(values: Any) -> np.ndarray:
    return np.asarray(pd.to_datetime(pd.Series(values), errors="coerce").to_numpy(), dtype="datetime64[D]")


@dataclass(frozen=True)
class _Plan:
    """What PV and EV need, read once: per phase its budget, % complete and planned span, and the
    lines of no phase (which follow the project as a whole)."""

    bac: float
    budget: np.ndarray
    pct: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rest: float
    project_pct: float

    def pv(self, when: np.ndarray) -> np.ndarray:
        """PV as of the end of each day in `when` (datetime64[D])."""
        if not len(self.budget):
            return np.zeros(len(when))
        pv = _elapsed(self.start, self.end, when) @ self.budget
        if self.rest:
            span = _elapsed(self.start.min(keepdims=True), self.end.max(keepdims=True), when)[:, 0]
            pv = pv + self.rest * span
        return np.asarray(pv, dtype=float)

    @property
    def ev(self) -> float:
        return (
            float((self.budget * self.pct).sum()) + self.rest * self.project_pct if len(self.budget) else 0.0
        )


def _plan(lines: pd.DataFrame, phases: pd.DataFrame) -> _Plan:
    planned = _num(lines["planned"]) if not lines.empty else pd.Series(dtype=float)
    phase_of = (
        pd.to_numeric(lines["phase_id"], errors="coerce") if not lines.empty else pd.Series(dtype=float)
    )
    known = phases["id"].astype(int).tolist() if not phases.empty else []
    linked = phase_of.isin(known)
    phase_budget = planned[linked].groupby(phase_of[linked].astype(int)).sum()
    ids = phases["id"].astype(int) if not phases.empty else pd.Series(dtype=int)
    budget = ids.map(phase_budget).fillna(0.0).to_numpy(dtype=float)
    pct = (_num(phases["percent_complete"]).clip(0, 100) / 100.0).to_numpy() if not phases.empty else budget
    start = _day64(phases["planned_start"]) if not phases.empty else np.array([], dtype="datetime64[D]")
    end = _day64(phases["planned_end"]) if not phases.empty else np.array([], dtype="datetime64[D]")
    days = np.maximum((end - start).astype("timedelta64[D]").astype(float) + 1, 1.0)
    weights = budget if budget.sum() > 0 else np.nan_to_num(days)
    project_pct = float((weights * pct).sum() / weights.sum()) if weights.sum() > 0 else 0.0
    return _Plan(
        bac=float(planned.sum()),
        budget=budget,
        pct=pct,
        start=start,
        end=end,
        rest=float(planned[~linked].sum()),
        project_pct=project_pct,
    )


def _ac(lines: pd.DataFrame, postings: pd.DataFrame, when: np.ndarray) -> np.ndarray:
    """AC as of the end of each day in `when`: Σ postings of the lines dated on or before it."""
    if postings.empty or lines.empty:
        return np.zeros(len(when))
    own = postings[postings["line_id"].isin(lines["id"])]
    order = _day64(own["posted_on"])
    amounts = _num(own["amount"]).to_numpy(dtype=float)
    sort = np.argsort(order, kind="stable")
    total = np.concatenate([[0.0], np.cumsum(amounts[sort])])
    return np.asarray(total[np.searchsorted(order[sort], when, side="right")], dtype=float)


def earned_value(
    lines: pd.DataFrame, postings: pd.DataFrame, phases: pd.DataFrame, as_of: date
) -> EarnedValue:
    """PV, EV, AC (and what follows from them) as of the end of `as_of` (module docstring)."""
    plan = _plan(lines, phases)
    when = np.array([as_of], dtype="datetime64[D]")
    pv, ac = float(plan.pv(when)[0]), float(_ac(lines, postings, when)[0])
    return figures(as_of, plan.bac, round(pv, 2), round(plan.ev, 2), round(ac, 2))


def history(snapshots: pd.DataFrame, live: EarnedValue | None) -> pd.DataFrame:
    """One row per month: the frozen snapshots (`partial` False) and, when given, the month in
    progress computed live (`partial` True). Columns: month, bac, pv, ev, ac, cv, sv, cpi, spi,
    eac, etc, vac, partial."""
    rows = [
        {
            **figures(
                month_end(pd.Timestamp(r.month).date()),
                float(r.bac),
                float(r.pv),
                float(r.ev),
                float(r.ac),
            ).as_dict(),
            "month": pd.Timestamp(r.month).date(),
            "partial": False,
        }
        for r in snapshots.itertuples(index=False)
    ]
    if live is not None:
        month = month_start(live.as_of)
        rows = [r for r in rows if r["month"] != month]
        rows.append({**live.as_dict(), "month": month, "partial": True})
    columns = ["month", "bac", "pv", "ev", "ac", "cv", "sv", "cpi", "spi", "eac", "etc", "vac", "partial"]
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=columns)
    return out.sort_values("month").reset_index(drop=True)[columns]


# ---- cumulative actual vs the planned curve ----------------------------------------------------


def cumulative(
    lines: pd.DataFrame, postings: pd.DataFrame, phases: pd.DataFrame, today: date
) -> pd.DataFrame:
    """Per month from the first planned start (or first posting) to the later of today and the
    last planned end: `planned` = PV as of the month's end (the planned curve), `actual` = AC as
    of the month's end (today for the month in progress; none after it), `partial` for the month
    in progress. Long format: month, series (planned | actual), amount, partial."""
    firsts = [
        d for d in (_dates(phases["planned_start"]).min() if not phases.empty else pd.NaT,) if pd.notna(d)
    ]
    if not postings.empty and pd.notna(_dates(postings["posted_on"]).min()):
        firsts.append(_dates(postings["posted_on"]).min())
    if not firsts:
        return pd.DataFrame(columns=["month", "series", "amount", "partial"])
    lasts = [pd.Timestamp(today)]
    if not phases.empty and pd.notna(_dates(phases["planned_end"]).max()):
        lasts.append(_dates(phases["planned_end"]).max())
    months = pd.date_range(month_start(min(firsts).date()), month_start(max(lasts).date()), freq="MS")
    firsts_of = [m.date() for m in months]
    ends = np.array([month_end(m) for m in firsts_of], dtype="datetime64[D]")
    current = month_start(today)
    pv = _plan(lines, phases).pv(ends)
    shown = np.array([m <= current for m in firsts_of])
    ac_days = np.minimum(ends, np.datetime64(today, "D"))
    ac = _ac(lines, postings, ac_days)
    partial = [m == current for m in firsts_of]
    planned = pd.DataFrame(
        {"month": firsts_of, "series": "planned", "amount": np.round(pv, 2), "partial": partial}
    )
    actual = pd.DataFrame(
        {"month": firsts_of, "series": "actual", "amount": np.round(ac, 2), "partial": partial}
    )
    out = pd.concat([planned, actual[shown]], ignore_index=True)
    return out.sort_values(["month", "series"], ascending=[True, False], kind="stable").reset_index(drop=True)


# ---- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something the budget page and the report point out. `kind`: missing_stage (a seed stage
    with no budget: `category`), training_low / training_high / training_ok (the training share
    against the band), overrun (a line whose forecast exceeds its plan: `line`, `amount`)."""

    kind: str
    category: str = ""
    line: str = ""
    amount: float | None = None
    share: float | None = None
    low: float | None = None
    high: float | None = None
    source: str = ""

    @property
    def severity(self) -> str:
        return "ok" if self.kind == "training_ok" else "warning"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)} | {"severity": self.severity}


def training_share(table: pd.DataFrame) -> float | None:
    """Planned training ÷ planned total (None when nothing is planned)."""
    total = float(table["planned"].sum()) if not table.empty else 0.0
    if not total:
        return None
    return float(table.loc[table["category"] == "training", "planned"].sum()) / total


def findings(table: pd.DataFrame, *, low: float, high: float, source: str) -> list[Finding]:
    """Slide 10: every seed stage has a budget (a line with planned > 0 in its category); the
    training share inside the project's band [low, high]; every line forecast above its plan."""
    planned = table.groupby("category")["planned"].sum() if not table.empty else pd.Series(dtype=float)
    out = [Finding("missing_stage", category=c) for c in SEED_STAGES if float(planned.get(c, 0.0)) <= 0]
    share = training_share(table)
    if share is not None:
        kind = "training_low" if share < low else "training_high" if share > high else "training_ok"
        out.append(Finding(kind, share=share, low=low, high=high, source=source))
    over = table[table["variance"] > 0.005]
    out += [
        Finding("overrun", category=str(r.category), line=str(r.name), amount=float(r.variance))
        for r in over.itertuples(index=False)
    ]
    return out
