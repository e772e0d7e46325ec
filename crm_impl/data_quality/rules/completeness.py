"""Completeness: the required fields (a setting per entity) are filled; "N/A", "TBD", "null",
"-", "brak"… count as empty (`base.empty`)."""

from __future__ import annotations

import pandas as pd

from crm_impl.data_quality.rules.base import Context, Finding, Rule, empty, rule


def _required(entity: str) -> Rule:
    def check(frame: pd.DataFrame, ctx: Context) -> Finding:
        fields = [f for f in ctx.settings.required.get(entity, ()) if f in frame.columns]
        missing = pd.Series("", index=frame.index, dtype=object)
        for name in fields:
            gap = empty(frame[name])
            missing = missing.mask(gap, missing + ", " + name)
        missing = missing.str.removeprefix(", ")
        return Finding(missing != "", missing)

    return rule(f"{entity}.required", "completeness", "warning", "required", ("id",))(check)


RULES = [_required("account"), _required("contact"), _required("deal")]
