"""Merging duplicates: every relation of both kept, empty fields filled, audited, version- and
permission-checked, all-or-nothing; dismissing a pair. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

import crm_impl.tables  # noqa: F401  (every table in SQLModel.metadata)
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry
from crm_impl.data_quality.models import DqDismissedPair, DqMerge
from crm_impl.data_quality.services import merge as svc
from crm_impl.pipeline.models import (
    Account,
    Activity,
    Contact,
    Deal,
    ErpBalance,
    StageChange,
    StageDefinition,
)

# Every foreign key to the account and contact tables in the whole schema. A new one fails this
# test on purpose: add a row of it to `_company` below so the merge test proves it is re-pointed.
KNOWN_REFERENCES = {
    "account": {
        ("activity", "account_id"),
        ("contact", "account_id"),
        ("deal", "account_id"),
        ("erp_balance", "account_id"),
    },
    "contact": {("deal", "contact_id")},
}


def _fks_to(table: str) -> set[tuple[str, str]]:
    return {
        (t.name, fk.parent.name)
        for t in SQLModel.metadata.tables.values()
        for fk in t.foreign_keys
        if fk.column.table.name == table
    }


def test_every_foreign_key_to_account_and_contact_is_known_and_handled() -> None:
    for kind, known in KNOWN_REFERENCES.items():
        assert _fks_to(kind) == known
        assert {(r.table, r.attribute) for r in svc.references(kind)} == known


def _company(session: Session) -> dict[str, int]:
    """Two duplicate accounts, each with a contact, a deal with stage history, an activity and
    ERP balances (one on the same as-of date as the other's)."""
    stages = session.exec(select(StageDefinition).order_by(StageDefinition.position)).all()
    keep = Account(name="Żwirex Sp. z o.o.", nip=None, city="Poznań", sector="")
    gone = Account(name="ZWIREX", nip="5260250274", city="", sector="construction", external_ref="ERP-9")
    session.add_all([keep, gone])
    session.flush()
    ids: dict[str, int] = {"keep": keep.id, "gone": gone.id}  # type: ignore[dict-item]
    for tag, acc in (("keep", keep), ("gone", gone)):
        contact = Contact(account_id=acc.id, full_name=f"Jan {tag}", email=f"{tag}@zwirex.pl")
        session.add(contact)
        session.flush()
        deal = Deal(title=f"Deal {tag}", account_id=acc.id, contact_id=contact.id, stage_id=stages[1].id)
        session.add(deal)
        session.flush()
        session.add(StageChange(deal_id=deal.id, from_stage_id=stages[0].id, to_stage_id=stages[1].id))  # type: ignore[arg-type]
        session.add(Activity(subject=f"Call {tag}", deal_id=deal.id, account_id=acc.id))
        session.add(
            ErpBalance(
                account_id=acc.id,
                as_of=date(2026, 11, 30),
                receivable=Decimal("100"),
                overdue=Decimal("10"),
                balance=Decimal("100"),
            )
        )  # type: ignore[arg-type]
        ids[f"contact_{tag}"], ids[f"deal_{tag}"] = contact.id, deal.id  # type: ignore[assignment]
    session.add(
        ErpBalance(
            account_id=gone.id, as_of=date(2026, 10, 31), receivable=Decimal("5"), balance=Decimal("5")
        )
    )  # type: ignore[arg-type]
    session.commit()
    return ids


def _counts(session: Session) -> dict[str, int]:
    return {
        m.__tablename__: session.exec(select(func.count()).select_from(m)).one()  # type: ignore[attr-defined]
        for m in (
            Account,
            Contact,
            Deal,
            StageChange,
            Activity,
            ErpBalance,
            AuditEntry,
            DqMerge,
            DqDismissedPair,
        )
    }


def test_merge_accounts_keeps_every_relation_fills_and_audits(engine, make_user) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        ids = _company(s)
    with UnitOfWork(engine) as uow:
        result = svc.merge_accounts(
            session=uow.session,
            actor=actor,
            keep_id=ids["keep"],
            merge_id=ids["gone"],
            expected_versions=(1, 1),
        )
        uow.commit()
    assert result.repointed == {
        "activity.account_id": 1,
        "contact.account_id": 1,
        "deal.account_id": 1,
        "erp_balance.account_id": 2,
    }
    with Session(engine) as s:
        assert s.get(Account, ids["gone"]) is None
        kept = s.get(Account, ids["keep"])
        assert kept is not None
        # filled from the merged one where empty, never overwritten
        assert (kept.name, kept.city, kept.nip, kept.sector, kept.external_ref) == (
            "Żwirex Sp. z o.o.",
            "Poznań",
            "5260250274",
            "construction",
            "ERP-9",
        )
        deals = s.exec(select(Deal).where(Deal.account_id == ids["keep"])).all()
        assert {d.id for d in deals} == {ids["deal_keep"], ids["deal_gone"]}
        assert len(s.exec(select(Contact).where(Contact.account_id == ids["keep"])).all()) == 2
        assert len(s.exec(select(Activity).where(Activity.account_id == ids["keep"])).all()) == 2
        assert (
            len(
                s.exec(
                    select(StageChange).where(StageChange.deal_id.in_([ids["deal_keep"], ids["deal_gone"]]))
                ).all()
            )
            == 2
        )  # type: ignore[attr-defined]
        balances = {
            b.as_of: b for b in s.exec(select(ErpBalance).where(ErpBalance.account_id == ids["keep"])).all()
        }
        assert set(balances) == {date(2026, 11, 30), date(2026, 10, 31)}
        assert balances[date(2026, 11, 30)].receivable == Decimal("200")  # same as-of date: added
        assert balances[date(2026, 11, 30)].overdue == Decimal("20")
        assert s.exec(select(func.count()).select_from(ErpBalance)).one() == 2
        record = s.exec(select(DqMerge)).one()
        assert (record.kind, record.merged_id, record.kept_id) == ("account", ids["gone"], ids["keep"])
        assert record.snapshot["name"] == "ZWIREX"
        assert svc.resolve(s, "account", ids["gone"]) == ids["keep"]
        assert svc.resolve(s, "account", ids["keep"]) == ids["keep"]
        entries = s.exec(select(AuditEntry).where(AuditEntry.username == "sm")).all()
        actions = [(e.entity, e.action) for e in entries]
        assert actions.count(("activity", "merge_repoint")) == 1
        assert actions.count(("contact", "merge_repoint")) == 1
        assert actions.count(("deal", "merge_repoint")) == 1
        assert actions.count(("erp_balance", "merge_repoint")) == 1
        assert actions.count(("erp_balance", "merge_combine")) == 1
        assert actions.count(("erp_balance", "delete")) == 1
        assert ("account", "delete") in actions and ("account", "merge_fill") in actions
        merged = [e for e in entries if e.action == "merged"]
        assert len(merged) == 1 and merged[0].entity_id == str(ids["keep"])
        after = merged[0].after or {}
        assert (after["merged_id"], after["merged_name"], after["kept_id"]) == (
            ids["gone"],
            "ZWIREX",
            ids["keep"],
        )
        assert after["filled"] == ["external_ref", "nip", "sector"]


def test_merge_contacts_repoints_deals(engine, make_user) -> None:
    actor = make_user("pm", "pm_client")
    with Session(engine) as s:
        ids = _company(s)
        s.get(Contact, ids["contact_keep"]).phone = None  # type: ignore[union-attr]
        s.get(Contact, ids["contact_gone"]).phone = "600 100 200"  # type: ignore[union-attr]
        s.commit()
        versions = (s.get(Contact, ids["contact_keep"]).version, s.get(Contact, ids["contact_gone"]).version)  # type: ignore[union-attr]
    with UnitOfWork(engine) as uow:
        svc.merge_contacts(
            session=uow.session,
            actor=actor,
            keep_id=ids["contact_keep"],
            merge_id=ids["contact_gone"],
            expected_versions=versions,
        )
        uow.commit()
    with Session(engine) as s:
        assert s.get(Contact, ids["contact_gone"]) is None
        kept = s.get(Contact, ids["contact_keep"])
        assert kept.phone == "600 100 200" and kept.email == "keep@zwirex.pl"  # type: ignore[union-attr]
        assert s.get(Deal, ids["deal_gone"]).contact_id == ids["contact_keep"]  # type: ignore[union-attr]
        assert s.get(Deal, ids["deal_gone"]).account_id == ids["gone"]  # type: ignore[union-attr]  (untouched)


@pytest.mark.parametrize(
    ("versions", "error"),
    [((2, 1), ConflictError), ((1, 3), ConflictError)],
)
def test_stale_version_of_either_record_is_refused_and_nothing_written(
    engine, make_user, versions, error
) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        ids = _company(s)
        before = _counts(s)
    with pytest.raises(error), UnitOfWork(engine) as uow:
        svc.merge_accounts(
            session=uow.session,
            actor=actor,
            keep_id=ids["keep"],
            merge_id=ids["gone"],
            expected_versions=versions,
        )
        uow.commit()
    with Session(engine) as s:
        assert _counts(s) == before


@pytest.mark.parametrize("role", ["sales_rep", "management", "pm_vendor", "tester"])
def test_permission_refused(engine, make_user, role) -> None:
    actor = make_user("u", role)
    with Session(engine) as s:
        ids = _company(s)
        before = _counts(s)
    with pytest.raises(PermissionDenied), UnitOfWork(engine) as uow:
        svc.merge_accounts(
            session=uow.session,
            actor=actor,
            keep_id=ids["keep"],
            merge_id=ids["gone"],
            expected_versions=(1, 1),
        )
    with pytest.raises(PermissionDenied), UnitOfWork(engine) as uow:
        svc.dismiss_pair(
            session=uow.session, actor=actor, kind="account", left_id=ids["keep"], right_id=ids["gone"]
        )
    with Session(engine) as s:
        assert _counts(s) == before


def test_bad_input_refused(engine, make_user) -> None:
    actor = make_user("adm", "admin")
    with Session(engine) as s:
        ids = _company(s)
        before = _counts(s)
    for keep, gone, err in ((ids["keep"], ids["keep"], ValidationError), (ids["keep"], 99999, NotFound)):
        with pytest.raises(err), UnitOfWork(engine) as uow:
            svc.merge_accounts(
                session=uow.session, actor=actor, keep_id=keep, merge_id=gone, expected_versions=(1, 1)
            )
    with pytest.raises(ValidationError), UnitOfWork(engine) as uow:
        svc.merge(
            session=uow.session, actor=actor, kind="deal", keep_id=1, merge_id=2, expected_versions=(1, 1)
        )
    with Session(engine) as s:
        assert _counts(s) == before


def test_a_failure_midway_leaves_nothing_half_written(engine, make_user, monkeypatch) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        ids = _company(s)
        before = _counts(s)
    real = svc.writes.delete

    def failing_delete(**kw):  # the merged record's removal fails after every re-point
        if kw.get("entity") == "account":
            raise RuntimeError("disk full")
        return real(**kw)

    monkeypatch.setattr(svc.writes, "delete", failing_delete)
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        svc.merge_accounts(
            session=uow.session,
            actor=actor,
            keep_id=ids["keep"],
            merge_id=ids["gone"],
            expected_versions=(1, 1),
        )
        uow.commit()
    with Session(engine) as s:
        assert _counts(s) == before
        assert s.get(Deal, ids["deal_gone"]).account_id == ids["gone"]  # type: ignore[union-attr]


def test_a_collision_without_a_combine_rule_is_refused(engine, make_user, monkeypatch) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        ids = _company(s)
        before = _counts(s)
    monkeypatch.setattr(svc, "COMBINE", {})
    with pytest.raises(ValidationError) as caught, UnitOfWork(engine) as uow:
        svc.merge_accounts(
            session=uow.session,
            actor=actor,
            keep_id=ids["keep"],
            merge_id=ids["gone"],
            expected_versions=(1, 1),
        )
    assert caught.value.params["value"] == "erp_balance"
    with Session(engine) as s:
        assert _counts(s) == before


def test_dismiss_pair_is_idempotent_audited_and_restorable(engine, make_user) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        ids = _company(s)
    for _ in range(2):
        with UnitOfWork(engine) as uow:
            row = svc.dismiss_pair(
                session=uow.session, actor=actor, kind="account", left_id=ids["gone"], right_id=ids["keep"]
            )
            uow.commit()
    with Session(engine) as s:
        pair = s.exec(select(DqDismissedPair)).one()
        assert (pair.left_id, pair.right_id, pair.dismissed_by) == (
            min(ids["keep"], ids["gone"]),
            max(ids["keep"], ids["gone"]),
            "sm",
        )
        assert (
            s.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dismiss")).one()
            == 1
        )
    with UnitOfWork(engine) as uow:
        svc.restore_pair(session=uow.session, actor=actor, pair_id=row.id)  # type: ignore[arg-type]
        uow.commit()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(DqDismissedPair)).one() == 0
    with pytest.raises(NotFound), UnitOfWork(engine) as uow:
        svc.dismiss_pair(
            session=uow.session, actor=actor, kind="account", left_id=ids["keep"], right_id=424242
        )


def test_merge_chain_resolves(engine, make_user) -> None:
    actor = make_user("sm", "sales_manager")
    with Session(engine) as s:
        a, b, c = Account(name="A1"), Account(name="A2"), Account(name="A3")
        s.add_all([a, b, c])
        s.commit()
        ids = (a.id, b.id, c.id)
    with UnitOfWork(engine) as uow:
        svc.merge_accounts(
            session=uow.session, actor=actor, keep_id=ids[1], merge_id=ids[0], expected_versions=(1, 1)
        )
        svc.merge_accounts(
            session=uow.session, actor=actor, keep_id=ids[2], merge_id=ids[1], expected_versions=(1, 1)
        )
        uow.commit()
    with Session(engine) as s:
        assert svc.resolve(s, "account", ids[0]) == ids[2]
