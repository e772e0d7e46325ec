"""Merge two duplicate accounts (or contacts), and dismiss a pair as "not a duplicate".

A merge keeps the history and relations of both records: every row of any table with a foreign
key to the merged record (found by introspecting SQLModel.metadata, so a table added later is
handled without a change here) is re-pointed to the kept one, one audit entry per row; the kept
record's empty fields are filled from the merged one (never overwritten); the merged record is
removed, its last state and the kept id stored in `DqMerge` (so its id stays resolvable and old
audit entries still read), and one "merge" entry names both. Both records are version-checked;
`dq.merge` is required; any refusal happens before the first write, and the caller's unit of
work rolls back anything a database error interrupts (all-or-nothing).

A row whose re-pointing would break a unique index (an ERP balance of the same as-of date on
both accounts) is combined instead where a rule says how (`COMBINE`: the amounts are added),
else the merge is refused naming the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Table, UniqueConstraint
from sqlmodel import Session, SQLModel, select

from crm_impl.core import audit, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.permissions import Actor, require
from crm_impl.data_quality import duplicates
from crm_impl.data_quality.models import DqDismissedPair, DqMerge
from crm_impl.pipeline.models import Account, Contact, ErpBalance

KINDS: dict[str, type[SQLModel]] = {"account": Account, "contact": Contact}
TABLES = {"account": "account", "contact": "contact"}
# Fields of the kept record filled from the merged one when empty (never overwritten).
FILLABLE: dict[str, tuple[str, ...]] = {
    "account": ("nip", "sector", "city", "owner_id", "external_ref"),
    "contact": ("account_id", "email", "phone", "position"),
}


@dataclass(frozen=True)
class Reference:
    model: type[SQLModel]
    table: str
    attribute: str
    unique_with: tuple[tuple[str, ...], ...]  # other columns of each unique index it is part of


@dataclass
class MergeResult:
    kept: SQLModel
    merged_id: int
    filled: dict[str, Any] = field(default_factory=dict)
    repointed: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows


def _erp_combine(kept: SQLModel, merged: SQLModel) -> dict[str, Any]:
    return {
        name: Decimal(getattr(kept, name) or 0) + Decimal(getattr(merged, name) or 0)
        for name in ("receivable", "overdue", "balance")
    }


# How to combine two rows that would collide on a unique index once re-pointed.
COMBINE: dict[type[SQLModel], Callable[[SQLModel, SQLModel], dict[str, Any]]] = {ErpBalance: _erp_combine}


def _unique_sets(table: Table) -> list[tuple[str, ...]]:
    sets = [tuple(c.name for c in ix.columns) for ix in table.indexes if ix.unique]
    sets += [
        tuple(c.name for c in con.columns) for con in table.constraints if isinstance(con, UniqueConstraint)
    ]
    sets += [(c.name,) for c in table.columns if c.unique]
    return sets


def references(kind: str) -> list[Reference]:
    """Every (model, attribute) with a foreign key to the `kind` table, in a stable order."""
    target = TABLES[kind]
    found: list[Reference] = []
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        table = mapper.local_table
        if not isinstance(table, Table):
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != target:
                continue
            column = fk.parent.name
            attribute = mapper.get_property_by_column(fk.parent).key
            unique = tuple(tuple(c for c in s if c != column) for s in _unique_sets(table) if column in s)
            found.append(Reference(mapper.class_, table.name, attribute, unique))
    return sorted(found, key=lambda r: (r.table, r.attribute))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _row_id(row: SQLModel) -> str:
    keys = [c.key for c in row.__table__.primary_key.columns]  # type: ignore[attr-defined]
    return ",".join(str(getattr(row, k)) for k in keys)


def _collision(session: Session, ref: Reference, row: SQLModel, keep_id: int) -> SQLModel | None:
    for others in ref.unique_with:
        query = select(ref.model).where(getattr(ref.model, ref.attribute) == keep_id)
        for name in others:
            query = query.where(getattr(ref.model, name) == getattr(row, name))
        hit = session.exec(query).first()
        if hit is not None:
            return hit
    return None


def _merge(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    keep_id: int,
    merge_id: int,
    expected_versions: tuple[int, int],
) -> MergeResult:
    require(actor, "dq.merge")
    model = KINDS[kind]
    if keep_id == merge_id:
        raise ValidationError("dq_duplicates.error.same_record")
    kept = writes.get(session, model, keep_id, kind)
    merged = writes.get(session, model, merge_id, kind)
    writes.expect_version(getattr(kept, "version"), expected_versions[0])  # noqa: B009
    writes.expect_version(getattr(merged, "version"), expected_versions[1])  # noqa: B009

    # Plan everything first: a refusal must come before the first write.
    plan: list[tuple[Reference, SQLModel, SQLModel | None]] = []
    for ref in references(kind):
        rows = session.exec(select(ref.model).where(getattr(ref.model, ref.attribute) == merge_id)).all()
        for row in rows:
            other = _collision(session, ref, row, keep_id) if ref.unique_with else None
            if other is not None and ref.model not in COMBINE:
                raise ValidationError("dq_duplicates.error.collision", value=ref.table)
            plan.append((ref, row, other))

    result = MergeResult(kept=kept, merged_id=merge_id)
    for ref, row, other in plan:
        if other is None:
            before = audit.snapshot(row)
            setattr(row, ref.attribute, keep_id)
            session.add(row)
            writes.flush(session)
            audit.record(
                session=session,
                actor=actor,
                entity=ref.table,
                entity_id=_row_id(row),
                action="merge_repoint",
                before=before,
                after=audit.snapshot(row),
            )
        else:  # combine into the kept account's row, then drop the merged one's
            before = audit.snapshot(other)
            for name, value in COMBINE[ref.model](other, row).items():
                setattr(other, name, value)
            session.add(other)
            writes.flush(session)
            audit.record(
                session=session,
                actor=actor,
                entity=ref.table,
                entity_id=_row_id(other),
                action="merge_combine",
                before=before,
                after=audit.snapshot(other),
            )
            writes.delete(session=session, actor=actor, row=row, entity=ref.table)
        key = f"{ref.table}.{ref.attribute}"
        result.repointed[key] = result.repointed.get(key, 0) + 1

    fill = {
        name: getattr(merged, name)
        for name in FILLABLE[kind]
        if _empty(getattr(kept, name)) and not _empty(getattr(merged, name))
    }
    if kind == "contact" and fill.get("account_id") == keep_id:
        fill.pop("account_id")
    last_state = audit.snapshot(merged) or {}
    writes.create(
        session=session,
        actor=actor,
        row=DqMerge(
            kind=kind,
            merged_id=merge_id,
            kept_id=keep_id,
            merged_by=actor.username,
            snapshot=last_state,
            repointed=dict(result.repointed),
        ),
        entity="dq_merge",
    )
    # The merged record goes first, so a unique value it held (external_ref) can move over.
    writes.delete(session=session, actor=actor, row=merged, entity=kind)
    if fill:
        writes.update_versioned(
            session=session,
            actor=actor,
            row=kept,
            expected_version=expected_versions[0],
            changes=fill,
            entity=kind,
            action="merge_fill",
        )
    result.filled = fill
    name_attr = "name" if kind == "account" else "full_name"
    audit.record(
        session=session,
        actor=actor,
        entity=kind,
        entity_id=keep_id,
        action="merged",
        after={
            "merged_id": merge_id,
            "merged_name": last_state.get(name_attr),
            "kept_id": keep_id,
            "kept_name": getattr(kept, name_attr),
            "repointed": dict(result.repointed),
            "filled": sorted(fill),
        },
    )
    return result


def merge_accounts(
    *, session: Session, actor: Actor, keep_id: int, merge_id: int, expected_versions: tuple[int, int]
) -> MergeResult:
    """Merge account `merge_id` into `keep_id` (versions as the screen showed them: keep, merge)."""
    return _merge(
        session=session,
        actor=actor,
        kind="account",
        keep_id=keep_id,
        merge_id=merge_id,
        expected_versions=expected_versions,
    )


def merge_contacts(
    *, session: Session, actor: Actor, keep_id: int, merge_id: int, expected_versions: tuple[int, int]
) -> MergeResult:
    """Merge contact `merge_id` into `keep_id` (versions as the screen showed them: keep, merge)."""
    return _merge(
        session=session,
        actor=actor,
        kind="contact",
        keep_id=keep_id,
        merge_id=merge_id,
        expected_versions=expected_versions,
    )


def merge(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    keep_id: int,
    merge_id: int,
    expected_versions: tuple[int, int],
) -> MergeResult:
    if kind not in KINDS:
        raise ValidationError("error.choice", field="dq_duplicates.field.kind", value=kind)
    return _merge(
        session=session,
        actor=actor,
        kind=kind,
        keep_id=keep_id,
        merge_id=merge_id,
        expected_versions=expected_versions,
    )


def dismiss_pair(
    *, session: Session, actor: Actor, kind: str, left_id: int, right_id: int
) -> DqDismissedPair:
    """Mark a pair "not a duplicate" so it is no longer flagged (idempotent, audited once)."""
    require(actor, "dq.merge")
    if kind not in KINDS:
        raise ValidationError("error.choice", field="dq_duplicates.field.kind", value=kind)
    lo, hi = sorted((int(left_id), int(right_id)))
    if lo == hi:
        raise ValidationError("dq_duplicates.error.same_record")
    for record_id in (lo, hi):
        writes.get(session, KINDS[kind], record_id, kind)
    existing = session.exec(
        select(DqDismissedPair).where(
            DqDismissedPair.kind == kind, DqDismissedPair.left_id == lo, DqDismissedPair.right_id == hi
        )
    ).first()
    if existing is not None:
        return existing
    row = DqDismissedPair(kind=kind, left_id=lo, right_id=hi, dismissed_by=actor.username)
    return writes.create(session=session, actor=actor, row=row, entity="dq_dismissed_pair", action="dismiss")


def restore_pair(*, session: Session, actor: Actor, pair_id: int) -> None:
    """Withdraw a "not a duplicate" mark: the pair is flagged again if it still matches."""
    require(actor, "dq.merge")
    row = writes.get(session, DqDismissedPair, pair_id, "dq_dismissed_pair")
    writes.delete(session=session, actor=actor, row=row, entity="dq_dismissed_pair")


def resolve(session: Session, kind: str, record_id: int) -> int:
    """The id a (possibly merged) record lives on as: follows merge chains; itself if never merged."""
    seen = {record_id}
    current = record_id
    while True:
        hop = session.exec(
            select(DqMerge.kept_id).where(DqMerge.kind == kind, DqMerge.merged_id == current)
        ).first()
        if hop is None or hop in seen:
            return current
        seen.add(hop)
        current = hop


# ---- reads for the duplicates page and the CLI (no writes) -------------------------------------


def records_for(session: Session, kind: str) -> pd.DataFrame:
    """The records `find_duplicates` takes, read by the data-quality queries (one SQL each)."""
    from crm_impl.data_quality import queries

    if kind == "account":
        frame = queries.read_accounts(session)
        return frame[["id", "name", "nip", "city", "sector"]]
    frame = queries.read_contacts(session).rename(columns={"full_name": "name"})
    return frame[["id", "name", "email", "phone", "account_id"]]


def dismissed(session: Session, kind: str) -> pd.DataFrame:
    rows = session.exec(
        select(DqDismissedPair.id, DqDismissedPair.left_id, DqDismissedPair.right_id).where(
            DqDismissedPair.kind == kind
        )
    ).all()
    return pd.DataFrame(rows, columns=["pair_id", "left_id", "right_id"])


def candidates(session: Session, kind: str, *, threshold: float = 90.0) -> pd.DataFrame:
    """Candidate pairs not dismissed, best first, with both records' shown fields side by side."""
    records = records_for(session, kind)
    found = duplicates.drop_dismissed(
        duplicates.find_duplicates(records, kind=kind, threshold=threshold), dismissed(session, kind)
    )
    return duplicates.side_by_side(found, records, kind=kind)


def versions(session: Session, kind: str, ids: list[int]) -> dict[int, int]:
    model: Any = KINDS[kind]
    rows = session.exec(select(model.id, model.version).where(model.id.in_(ids))).all()
    return {int(i): int(v) for i, v in rows}
