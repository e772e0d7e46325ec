"""The rules engine: every declared rule (one module per dimension), and `scan`, which runs them
over the frames of accounts, contacts and deals. Pure: frames in, frames out.

`scan` returns a `Scan`:
- `issues`: one row per failing (record, rule): entity, record_id, rule, dimension, severity,
  field, value, hint (the message's parameters);
- `rules`: per rule the records it checked and the failing ones (0 failing: the rule still shows);
- `records`: per entity one frame indexed by record id with `owner_id` and, per dimension, 1.0
  (checked and passing every rule of the dimension), 0.0 (failing at least one) or NaN (no rule
  of the dimension checked the record). The scores (`crm_impl.data_quality.metrics`) are read
  from these frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_impl.data_quality.rules import (
    completeness,
    consistency,
    plausibility,
    timeliness,
    uniqueness,
    validity,
)
from crm_impl.data_quality.rules.base import (
    Context,
    Finding,
    Rule,
    ScanSettings,
    empty,
    nan_to_empty,
)
from crm_impl.data_quality.vocabulary import DIMENSIONS, ENTITIES

REGISTRY: tuple[Rule, ...] = tuple(
    [
        *completeness.RULES,
        *validity.RULES,
        *uniqueness.RULES,
        *timeliness.RULES,
        *consistency.RULES,
        *plausibility.RULES,
    ]
)
BY_ID: dict[str, Rule] = {r.id: r for r in REGISTRY}
assert len(BY_ID) == len(REGISTRY), "rule ids are unique"

ISSUE_COLUMNS = ["entity", "record_id", "rule", "dimension", "severity", "field", "value", "hint"]
RULE_COLUMNS = ["rule", "entity", "dimension", "severity", "checked", "failing"]


@dataclass(frozen=True)
class Scan:
    issues: pd.DataFrame
    rules: pd.DataFrame
    records: dict[str, pd.DataFrame] = field(default_factory=dict)


def _empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "record_id" else object) for c in ISSUE_COLUMNS})


def _text(values: pd.Series | None, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series("", index=index, dtype=object)
    cleaned = nan_to_empty(values.reindex(index))
    assert cleaned is not None
    return cleaned.astype(str)


def scan(frames: dict[str, pd.DataFrame], ctx: Context, *, rules: tuple[Rule, ...] = REGISTRY) -> Scan:
    """Run every rule whose entity has a frame and whose columns are in it."""
    ctx = Context(
        today=ctx.today,
        settings=ctx.settings,
        catalogue=ctx.catalogue,
        frames={**frames, **ctx.frames},
        duplicate_threshold=ctx.duplicate_threshold,
        dismissed=ctx.dismissed,
    )
    issues: list[pd.DataFrame] = []
    counts: list[dict[str, object]] = []
    records: dict[str, pd.DataFrame] = {}
    for entity in ENTITIES:
        frame = frames.get(entity)
        if frame is None:
            continue
        frame = frame.reset_index(drop=True)
        checked = {d: np.zeros(len(frame), dtype=bool) for d in DIMENSIONS}
        failed = {d: np.zeros(len(frame), dtype=bool) for d in DIMENSIONS}
        for r in rules:
            if r.entity != entity or not set(r.columns) <= set(frame.columns):
                continue
            mask, finding = r.run(frame, ctx)
            checked[r.dimension] |= mask.to_numpy()
            failed[r.dimension] |= finding.failing.to_numpy()
            n_fail = int(finding.failing.sum())
            counts.append(
                {
                    "rule": r.id,
                    "entity": entity,
                    "dimension": r.dimension,
                    "severity": r.severity,
                    "checked": int(mask.sum()),
                    "failing": n_fail,
                }
            )
            if n_fail:
                bad = finding.failing.to_numpy()
                issues.append(
                    pd.DataFrame(
                        {
                            "entity": entity,
                            "record_id": frame["id"].to_numpy()[bad].astype("int64"),
                            "rule": r.id,
                            "dimension": r.dimension,
                            "severity": r.severity,
                            "field": r.field,
                            "value": _text(finding.value, frame.index).to_numpy()[bad],
                            "hint": _text(finding.hint, frame.index).to_numpy()[bad],
                        }
                    )
                )
        owner = frame["owner_id"] if "owner_id" in frame.columns else pd.Series(pd.NA, index=frame.index)
        table = pd.DataFrame(
            {d: np.where(checked[d], np.where(failed[d], 0.0, 1.0), np.nan) for d in DIMENSIONS},
            index=pd.Index(frame["id"].to_numpy(), name="id"),
        )
        table.insert(0, "owner_id", pd.array(owner.to_numpy(), dtype="Int64"))
        records[entity] = table
    found = pd.concat(issues, ignore_index=True) if issues else _empty_issues()
    return Scan(found, pd.DataFrame(counts, columns=RULE_COLUMNS), records)


__all__ = ["BY_ID", "REGISTRY", "Context", "Finding", "Rule", "Scan", "ScanSettings", "empty", "scan"]
