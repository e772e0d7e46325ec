"""ADKAR readiness (issue 11, Prosci): pure, vectorised pandas.

Inputs (the frames of `crm_impl.adoption.queries.registers`, or hand-made ones with these columns):
- rounds: id, title, survey_date
- responses: id, round_id, department, person_id (<NA>: an anonymous department row), awareness,
  desire, knowledge, ability, reinforcement (whole scores 1–5)

Definitions (docs/adoption.md):
- a department's *scores* in a round: the mean of each element over that round's responses of
  the department (named and anonymous rows alike, one response one vote); *mean*: the mean of
  the five element means.
- the *barrier point*: the first element, in the order Awareness, Desire, Knowledge, Ability,
  Reinforcement, whose mean is at or below 3 (BARRIER_SCORE) — even when a later element is
  lower, because a change stalls at its first weak element; none when all five are above 3.
- the *latest* scores of a department: those of the latest round (by survey date, then id) in
  which the department answered.
- beside them, the department's *adoption rate* (MAU ÷ licensed users, the usage metrics') and
  *training coverage* (trained before go-live ÷ licensed, the training metrics').
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_impl.adoption.registers_vocabulary import ADKAR_ELEMENTS, BARRIER_SCORE

ELEMENTS = list(ADKAR_ELEMENTS)
SCORE_COLUMNS = ["department", "round_id", "title", "survey_date", "responses", "anonymous", *ELEMENTS]


def barrier(scores: pd.DataFrame, threshold: float = BARRIER_SCORE) -> pd.Series:
    """Per row: the key of the first element (A→R) at or below `threshold`, else None."""
    low = scores[ELEMENTS].to_numpy(dtype=float) <= threshold
    first = low.argmax(axis=1)
    keys = np.array(ELEMENTS, dtype=object)[first]
    return pd.Series(np.where(low.any(axis=1), keys, None), index=scores.index, dtype=object)


def scores_by_round(rounds: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """department, round_id, title, survey_date, responses, anonymous, the five element means,
    mean and barrier — one row per department and round it answered, oldest round first."""
    if responses.empty:
        return pd.DataFrame(columns=[*SCORE_COLUMNS, "mean", "barrier"])
    rows = responses.assign(
        anonymous=responses["person_id"].isna(), department=responses["department"].fillna("")
    )
    grouped = rows.groupby(["department", "round_id"], sort=False)
    out = grouped[ELEMENTS].mean().astype(float)
    out["responses"] = grouped.size()
    out["anonymous"] = grouped["anonymous"].sum().astype(int)
    out = out.reset_index().merge(
        rounds[["id", "title", "survey_date"]].rename(columns={"id": "round_id"}), on="round_id", how="left"
    )
    out["survey_date"] = pd.to_datetime(out["survey_date"])
    out["mean"] = out[ELEMENTS].mean(axis=1)
    out["barrier"] = barrier(out)
    out = out.sort_values(["department", "survey_date", "round_id"]).reset_index(drop=True)
    return out[[*SCORE_COLUMNS, "mean", "barrier"]]


def latest_by_department(rounds: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Per department its latest round's scores (see `scores_by_round`), by department."""
    per = scores_by_round(rounds, responses)
    latest = per.groupby("department", sort=True).tail(1)
    return latest.sort_values("department").reset_index(drop=True)


def trend(rounds: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """The scores per department over the rounds, plus `change`: the mean's change since the
    department's previous round (NaN in its first)."""
    per = scores_by_round(rounds, responses)
    return per.assign(change=per.groupby("department")["mean"].diff())


def trend_long(trend_frame: pd.DataFrame) -> pd.DataFrame:
    """department, survey_date, title, element, score — one row per element (for the trend chart)."""
    return trend_frame.melt(
        id_vars=["department", "survey_date", "title"],
        value_vars=ELEMENTS,
        var_name="element",
        value_name="score",
    )


def readiness_view(latest: pd.DataFrame, usage: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """The one view: per department its latest ADKAR scores and barrier point, its usage and its
    training coverage. `usage`: the usage metrics per department (department, licensed, mau,
    adoption_rate — crm_impl.adoption.metrics.usage.by_group), shown as users, active (MAU) and
    adoption_rate; `coverage`: crm_impl.training.metrics.coverage (department, licensed, trained,
    share), shown as licensed, trained and coverage. Every department that has any of the three,
    by name; missing figures are NaN."""
    cov = coverage.rename(columns={"share": "coverage"})[["department", "licensed", "trained", "coverage"]]
    use = usage.rename(columns={"licensed": "users", "mau": "active"})[
        ["department", "users", "active", "adoption_rate"]
    ]
    view = latest.merge(use, on="department", how="outer").merge(cov, on="department", how="outer")
    for name in ("responses", "anonymous", "users", "active", "licensed", "trained"):
        view[name] = view[name].astype("Int64")
    view["barrier"] = view["barrier"].astype(object).where(view["barrier"].notna(), None)
    return view.sort_values("department").reset_index(drop=True)


def barrier_counts(view: pd.DataFrame) -> dict[str, Any]:
    """How many surveyed departments stall at each element, and how many have no barrier."""
    surveyed = view.loc[view["responses"].fillna(0).astype(int) > 0]
    counts = surveyed["barrier"].value_counts()
    return {
        "surveyed_departments": len(surveyed),
        **{e: int(counts.get(e, 0)) for e in ELEMENTS},
        "none": int(surveyed["barrier"].isna().sum()),
    }
