"""Consistency: the stage against the fields (Contract needs a value and a close date, Completed
a delivery, Lost a reason), references that point at nothing (a deal or a contact without an
account, a product name missing from the catalogue), and a sector outside the known list with
the nearest known one as "did you mean" (the importer's `suggest`, rapidfuzz)."""

from __future__ import annotations

import pandas as pd
from rapidfuzz import fuzz, process, utils

from crm_impl.data_quality.rules.base import Context, Finding, empty, filled, per_value, rule, text


def _stage(key: str):  # type: ignore[no-untyped-def]
    return lambda frame, _ctx: frame["stage_key"] == key


@rule("deal.contract_incomplete", "consistency", "error", "value", ("stage_key", "value"), _stage("contract"))
def contract_incomplete(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = pd.to_numeric(frame["value"], errors="coerce")
    no_value = value.isna() | (value <= 0)
    no_close = (
        empty(frame["expected_close"]) if "expected_close" in frame.columns else pd.Series(True, frame.index)
    )
    what = pd.Series("", index=frame.index, dtype=object)
    what = what.mask(no_value, "value").mask(no_close, "expected_close").mask(no_value & no_close, "both")
    return Finding(no_value | no_close, what)


@rule(
    "deal.completed_undelivered",
    "consistency",
    "error",
    "actual_delivery",
    ("stage_key", "actual_delivery"),
    _stage("completed"),
)
def completed_undelivered(frame: pd.DataFrame, _ctx: Context) -> pd.Series:
    return empty(frame["actual_delivery"])


@rule(
    "deal.lost_without_reason",
    "consistency",
    "warning",
    "lost_reason",
    ("stage_kind", "lost_reason"),
    lambda f, _c: f["stage_kind"] == "lost",
)
def lost_without_reason(frame: pd.DataFrame, _ctx: Context) -> pd.Series:
    return empty(frame["lost_reason"])


def _dangling(frame: pd.DataFrame, ctx: Context, column: str, target: str) -> Finding:
    """No reference, or one to a record that is not there."""
    ref = pd.to_numeric(frame[column], errors="coerce")
    known = ctx.frames.get(target)
    missing = ref.isna()
    if known is not None and "id" in known.columns:
        missing |= ref.notna() & ~ref.isin(known["id"])
    return Finding(missing, ref.astype("Int64"))


@rule(
    "deal.no_account",
    "consistency",
    "warning",
    "account_id",
    ("account_id", "stage_kind"),
    lambda f, _c: f["stage_kind"] != "lost",
)
def deal_no_account(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _dangling(frame, ctx, "account_id", "account")


@rule("contact.no_account", "consistency", "warning", "account_id", ("account_id",))
def contact_no_account(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _dangling(frame, ctx, "account_id", "account")


def suggest(value: str, choices: list[str], cutoff: float = 60) -> str | None:
    """The closest known value ("technolgy" -> "technology"): the importer's suggestion
    (`importers.cleaning.suggest`, same scorer and cutoff; not imported: it pulls in the database)."""
    if not value or not choices:
        return None
    best = process.extractOne(
        value, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=cutoff
    )
    return best[0] if best else None


def _unknown(values: pd.Series, known: tuple[str, ...]) -> Finding:
    """Filled values not in `known` (case and spaces ignored), with the nearest known one."""
    value = text(values)
    known_lower = {k.strip().lower() for k in known}
    unknown = filled(values.to_frame("v"), "v") & ~value.str.lower().isin(known_lower)
    hints = per_value(value[unknown], lambda x: suggest(str(x), list(known)) or "")
    return Finding(unknown, value, hints.reindex(values.index).fillna(""))


@rule("deal.product_unknown", "consistency", "error", "product", ("product",))
def product_unknown(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _unknown(frame["product"], ctx.catalogue)


@rule("account.sector_unknown", "consistency", "warning", "sector", ("sector",))
def sector_unknown(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _unknown(frame["sector"], ctx.settings.sectors)


RULES = [
    contract_incomplete,
    completed_undelivered,
    lost_without_reason,
    deal_no_account,
    contact_no_account,
    product_unknown,
    sector_unknown,
]
