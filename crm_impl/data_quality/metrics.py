"""Data-quality scores from a scan (pure: frames in, frames out; docs/data_quality.md).

- A dimension's score is the share of the records it checked that pass every rule of that
  dimension, 0–100 (records no rule of the dimension checked do not count). Across entities
  ("all") the records are pooled: passing ÷ checked over accounts, contacts and deals together.
- The overall score is the weighted mean of the dimension scores (`vocabulary.WEIGHTS`),
  renormalised over the dimensions that checked anything.
- A record's score is the same weighted mean over the dimensions that checked it (1 passing,
  0 failing), so a record failing only timeliness scores 90.
- Per owner and per department: the records of that owner (department: of the owners whose
  person is in it) pooled the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_impl.data_quality.rules import Scan
from crm_impl.data_quality.vocabulary import DIMENSIONS, ENTITIES, WEIGHTS

ALL = "all"
OVERALL = "overall"
SCORE_COLUMNS = ["entity", "dimension", "checked", "failing", "score"]
_W = np.array([WEIGHTS[d] for d in DIMENSIONS])


def _pooled(tables: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Per dimension: (checked, passing) counts over the given record tables."""
    checked = np.zeros(len(DIMENSIONS))
    passing = np.zeros(len(DIMENSIONS))
    for t in tables:
        values = t[list(DIMENSIONS)].to_numpy(dtype=float)
        checked += (~np.isnan(values)).sum(axis=0)
        passing += np.nansum(values, axis=0)
    return checked, passing


def _rows(entity: str, checked: np.ndarray, passing: np.ndarray) -> list[dict[str, object]]:
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(checked > 0, 100.0 * passing / np.maximum(checked, 1), np.nan)
    rows: list[dict[str, object]] = [
        {
            "entity": entity,
            "dimension": d,
            "checked": int(checked[i]),
            "failing": int(checked[i] - passing[i]),
            "score": None if np.isnan(score[i]) else float(score[i]),
        }
        for i, d in enumerate(DIMENSIONS)
    ]
    has = checked > 0
    overall = float((score[has] * _W[has]).sum() / _W[has].sum()) if has.any() else None
    records = int(max(checked.max(initial=0), 0))
    rows.append(
        {
            "entity": entity,
            "dimension": OVERALL,
            "checked": records,
            "failing": 0,
            "score": overall,
        }
    )
    return rows


def dimension_scores(scan: Scan) -> pd.DataFrame:
    """entity (account, contact, deal, all) × dimension (six + overall): checked, failing, score.
    The overall row's `checked` is the number of records and its `failing` the records failing
    any dimension."""
    rows: list[dict[str, object]] = []
    tables = [scan.records[e] for e in ENTITIES if e in scan.records]
    for entity in ENTITIES:
        if entity in scan.records:
            rows += _rows(entity, *_pooled([scan.records[entity]]))
    rows += _rows(ALL, *_pooled(tables))
    out = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    n_records = {e: len(scan.records[e]) for e in scan.records}
    n_failing = {e: int(_any_failing(scan.records[e]).sum()) for e in scan.records}
    n_records[ALL], n_failing[ALL] = sum(n_records.values()), sum(n_failing.values())
    overall = out["dimension"] == OVERALL
    out.loc[overall, "checked"] = out.loc[overall, "entity"].map(n_records).astype(int)
    out.loc[overall, "failing"] = out.loc[overall, "entity"].map(n_failing).astype(int)
    return out


def _any_failing(table: pd.DataFrame) -> pd.Series:
    return (table[list(DIMENSIONS)] == 0).any(axis=1)


def record_scores(scan: Scan) -> pd.DataFrame:
    """entity, id, owner_id, score (0–100, weighted over the dimensions that checked it),
    failing (number of dimensions failed)."""
    parts = []
    for entity in ENTITIES:
        table = scan.records.get(entity)
        if table is None:
            continue
        values = table[list(DIMENSIONS)].to_numpy(dtype=float)
        has = ~np.isnan(values)
        weight = (has * _W).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(weight > 0, 100.0 * (np.nan_to_num(values) * _W).sum(axis=1) / weight, np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "entity": entity,
                    "id": table.index.to_numpy(),
                    "owner_id": table["owner_id"].to_numpy(),
                    "score": score,
                    "failing": (values == 0).sum(axis=1),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["entity", "id", "owner_id", "score", "failing"])
    return pd.concat(parts, ignore_index=True)


def group_scores(scan: Scan, groups: pd.Series | None = None) -> pd.DataFrame:
    """Per group (`groups`: owner id → group label, e.g. the owner's department; None: the owner
    id itself) and dimension: checked, failing, score; plus `overall` and `records`. Records
    without an owner (or whose owner has no group) form the group NaN, listed last."""
    tables = [scan.records[e] for e in ENTITIES if e in scan.records]
    if not tables:
        return pd.DataFrame(columns=["group", "dimension", "checked", "failing", "score"])
    stacked = pd.concat(tables, ignore_index=True)
    key = stacked["owner_id"] if groups is None else stacked["owner_id"].map(groups)
    values = stacked[list(DIMENSIONS)]
    checked = values.notna().groupby(key, dropna=False).sum()
    passing = values.fillna(0).groupby(key, dropna=False).sum()
    records = stacked.groupby(key, dropna=False).size()
    failing_records = _any_failing(stacked).groupby(key, dropna=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (100.0 * passing / checked.where(checked > 0)).astype(float)
    weights = checked.gt(0).mul(pd.Series(WEIGHTS))[list(DIMENSIONS)]
    overall = (score.fillna(0) * weights).sum(axis=1) / weights.sum(axis=1).replace(0, np.nan)
    long = (
        score.stack(future_stack=True)
        .rename("score")
        .to_frame()
        .join(checked.stack(future_stack=True).rename("checked"))
        .join((checked - passing).stack(future_stack=True).rename("failing"))
        .reset_index()
    )
    long.columns = ["group", "dimension", "score", "checked", "failing"]
    tail = pd.DataFrame(
        {
            "group": overall.index,
            "dimension": OVERALL,
            "score": overall.to_numpy(),
            "checked": records.reindex(overall.index).to_numpy(),
            "failing": failing_records.reindex(overall.index).to_numpy(),
        }
    )
    out = pd.concat([long, tail], ignore_index=True)
    out["checked"] = out["checked"].astype(int)
    out["failing"] = out["failing"].astype(int)
    return out[["group", "dimension", "checked", "failing", "score"]]


def top_issues(scan: Scan, n: int = 10) -> pd.DataFrame:
    """The rules with the most failing records: rule, entity, dimension, severity, checked,
    failing, share (failing ÷ checked)."""
    rules = scan.rules[scan.rules["failing"] > 0].copy()
    rules["share"] = rules["failing"] / rules["checked"].where(rules["checked"] > 0)
    order = {"error": 0, "warning": 1, "info": 2}
    rules["_sev"] = rules["severity"].map(order)
    rules = rules.sort_values(["failing", "_sev", "rule"], ascending=[False, True, True], kind="stable")
    return rules.drop(columns="_sev").head(n).reset_index(drop=True)


def snapshot_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows a daily snapshot stores: entity, dimension, score, checked, failing."""
    return scores[["entity", "dimension", "score", "checked", "failing"]].copy()


def trend(snapshots: pd.DataFrame, entity: str = ALL) -> pd.DataFrame:
    """Daily snapshots of one entity: day, dimension, score (sorted by day)."""
    mine = snapshots[snapshots["entity"] == entity]
    return mine[["day", "dimension", "score"]].sort_values(["day", "dimension"]).reset_index(drop=True)
