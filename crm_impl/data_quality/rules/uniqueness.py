"""Uniqueness: a record is failing when it is in a candidate duplicate pair
(`crm_impl.data_quality.duplicates.find_duplicates`: normalised names, blocked rapidfuzz); the
message names the other record. Pairs a user dismissed as "not a duplicate" are left out."""

from __future__ import annotations

import pandas as pd

from crm_impl.data_quality.duplicates import drop_dismissed, find_duplicates
from crm_impl.data_quality.rules.base import Context, Finding, rule

COLUMNS = {
    "account": ("id", "name", "nip", "city"),
    "contact": ("id", "name", "email", "phone", "account_id"),
}


def pairs(frame: pd.DataFrame, ctx: Context, kind: str) -> pd.DataFrame:
    records = frame.rename(columns={"full_name": "name"})
    records = records[[c for c in COLUMNS[kind] if c in records.columns]]
    found = find_duplicates(records, kind=kind, threshold=ctx.duplicate_threshold)
    dismissed = ctx.dismissed.get(kind)
    return found if dismissed is None else drop_dismissed(found, dismissed)


def _failing(frame: pd.DataFrame, ctx: Context, kind: str) -> Finding:
    found = pairs(frame, ctx, kind)
    name_col = "name" if kind == "account" else "full_name"
    # each record's best partner: both directions of every pair, best score first
    both = pd.concat(
        [
            found.rename(columns={"left_id": "id", "right_id": "other"}),
            found.rename(columns={"right_id": "id", "left_id": "other"}),
        ],
        ignore_index=True,
    ).sort_values(["id", "score"], ascending=[True, False], kind="stable")
    best = both.drop_duplicates("id").set_index("id")
    names = frame.set_index("id")[name_col]
    ids = frame["id"]
    other = ids.map(best["other"])
    label = other.map(names).astype(object)
    value = (label.fillna("").astype(str) + " (#" + other.astype("Int64").astype(str) + ")").where(
        other.notna(), ""
    )
    return Finding(other.notna(), value, ids.map(best["score"]).round(0))


@rule("account.duplicate", "uniqueness", "warning", "name", ("id", "name"))
def account_duplicate(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _failing(frame, ctx, "account")


@rule("contact.duplicate", "uniqueness", "warning", "full_name", ("id", "full_name"))
def contact_duplicate(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _failing(frame, ctx, "contact")


RULES = [account_duplicate, contact_duplicate]
