"""Working deals: create, edit, move through stages, lose, repeat business; products on deals;
activities; accounts and contacts. Also the read models of the board, the deal and the client.

A sales rep works only their own deals, and only their own accounts with those accounts' contacts
and activities (an activity on their own deal is fine whoever owns its account); only managers
(`deal.write_any`) work anybody's and give an account or a deal to another owner. Every write goes
through crm_impl.core.writes (create / update_versioned / flush) and takes the entity's typed
models from crm_impl.pipeline.models (`DealCreate`, `DealUpdate`, ...).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, false, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from crm_impl.core import audit, validation, writes
from crm_impl.core.errors import DomainError, NotFound, PermissionDenied, RowError, ValidationError
from crm_impl.core.models import UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.models import (
    ACCOUNT_FIELDS,
    ACTIVITY_KINDS,
    CONTACT_FIELDS,
    DEAL_FIELDS,
    Account,
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    Activity,
    ActivityCreate,
    ActivityPublic,
    ActivityUpdate,
    Contact,
    ContactCreate,
    ContactPublic,
    ContactUpdate,
    Deal,
    DealBulkChange,
    DealCreate,
    DealProduct,
    DealProductLine,
    DealPublic,
    DealUpdate,
    LostReason,
    Product,
    StageChange,
    StageDefinition,
)
from crm_impl.pipeline.queries import values

ACCOUNT_FROM = "needs_analysis"  # an account is required from this stage on
REPEAT_STAGE = "needs_analysis"  # repeat business restarts here (slide 2)


def _deal(session: Session, deal_id: int) -> Deal:
    return writes.get(session, Deal, deal_id, "deal")


DATE_FIELDS = {
    "expected_close": "pipeline.field.expected_close",
    "promised_delivery": "pipeline.field.promised_delivery",
    "actual_delivery": "pipeline.field.actual_delivery",
}
_MAX_ID = 2**31 - 1  # an INTEGER key on both databases; a larger id matches no row


def _may_work(actor: Actor, owner_id: int | None, refusal: str = "pipeline.error.not_own_deal") -> None:
    require(actor, "deal.write")
    if owner_id != actor.id and not actor.can("deal.write_any"):
        raise PermissionDenied(refusal)


def _may_work_account(actor: Actor, account: Account) -> None:
    """An account, its contacts and its account-level activities: its owner, or a manager."""
    _may_work(actor, account.owner_id, "pipeline.error.not_own_account")


def may_edit_account(actor: Actor, owner_id: int | None) -> bool:
    """Whether `actor` may edit an account of this owner (for a page to offer the form; the
    services check it again on save)."""
    try:
        _may_work(actor, owner_id)
    except PermissionDenied:
        return False
    return True


def _may_give_to(actor: Actor, owner_id: int | None) -> None:
    """Only a manager gives a row to another owner (or to nobody)."""
    if owner_id != actor.id and not actor.can("deal.write_any"):
        raise PermissionDenied("pipeline.error.reassign")


def _user_id(session: Session, value: Any, field: str) -> int | None:
    """An owner id that names an existing user, else a translated error naming the field (never
    the database's foreign-key error)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 < value <= _MAX_ID
        or session.get(UserAccount, value) is None
    ):
        raise ValidationError("pipeline.error.unknown_user", field=field, value=value)
    return value


def _row_id(value: Any) -> int | None:
    """An id that can exist (a larger one would overflow PostgreSQL's INTEGER), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID else None


def _stage_by_key(session: Session, key: str) -> StageDefinition:
    stage = session.exec(select(StageDefinition).where(StageDefinition.key == key)).first()
    if stage is None or not stage.active:
        raise ValidationError("error.choice", field="field.stage", value=key)
    return stage


def _unknown(fields: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))


def _needs_account(session: Session, stage: StageDefinition) -> bool:
    if stage.kind == "lost":
        return False
    threshold = session.exec(
        select(StageDefinition.position).where(StageDefinition.key == ACCOUNT_FROM)
    ).first()
    return threshold is not None and stage.position >= threshold


def _check_account(session: Session, stage: StageDefinition, account_id: int | None) -> None:
    from crm_impl.pipeline.rules import account_required  # the rule the importer applies too

    if account_id is None:
        if account_required(stage, session.exec(select(StageDefinition)).all()):
            raise ValidationError(
                "pipeline.error.account_required", stage={"en": stage.name_en, "pl": stage.name_pl}
            )
        return
    if _row_id(account_id) is None or session.get(Account, account_id) is None:
        raise NotFound("error.not_found", entity="account", id=account_id)


def _check_contact(session: Session, contact_id: int | None, account_id: int | None) -> None:
    """A deal's contact person is one of its client's contacts (never another client's, nor one
    on a deal without a client)."""
    if contact_id is None:
        return
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("error.not_found", entity="contact", id=contact_id)
    if account_id is None or contact.account_id != account_id:
        raise ValidationError(
            "pipeline.error.contact_other_client", field="pipeline.field.contact", value=contact.full_name
        )


def _probability(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValidationError("error.number", field="pipeline.field.probability", value=value) from err
    if not 0 <= number <= 1:
        raise ValidationError("pipeline.error.probability", field="pipeline.field.probability")
    return number


def _clean(session: Session, actor: Actor, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert the deal fields a caller gave (the names of `DealUpdate`)."""
    _unknown(fields, DEAL_FIELDS)
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            out[name] = validation.text(value, "pipeline.field.title", max_len=200)
        elif name == "value":
            out[name] = validation.amount(value, "pipeline.field.value")
        elif name == "currency":
            out[name] = validation.text(value, "field.currency", max_len=3).upper()
        elif name == "probability":
            out[name] = _probability(value)
        elif name == "owner_id":
            if value != actor.id and not actor.can("deal.write_any"):
                raise PermissionDenied("pipeline.error.not_own_deal")
            out[name] = _user_id(session, value, "pipeline.field.owner")
        elif name in DATE_FIELDS:
            out[name] = validation.day(value, DATE_FIELDS[name])
        elif name == "contact_id":
            if value is not None and (_row_id(value) is None or session.get(Contact, value) is None):
                raise NotFound("error.not_found", entity="contact", id=value)
            out[name] = value
        else:
            out[name] = value
    return out


def _delivery_order(values: dict[str, Any]) -> None:
    validation.date_order(
        values.get("promised_delivery"), values.get("actual_delivery"), "pipeline.field.actual_delivery"
    )


def _record_move(
    session: Session,
    actor: Actor,
    deal: Deal,
    stage: StageDefinition,
    at: datetime,
    *,
    from_stage_id: int | None = -1,
) -> None:
    """The stage history row (from the deal's current stage unless `from_stage_id` is given)."""
    session.add(
        StageChange(
            deal_id=int(deal.id or 0),
            from_stage_id=deal.stage_id if from_stage_id == -1 else from_stage_id,
            to_stage_id=int(stage.id or 0),
            at=at,
            by_user_id=actor.id,
        )
    )


def create_deal(
    *, session: Session, actor: Actor, data: DealCreate, parent_deal_id: int | None = None
) -> Deal:
    require(actor, "deal.write")
    stage = _stage_by_key(session, data.stage_key)
    if stage.kind == "lost":
        raise ValidationError("pipeline.error.create_lost")
    fields = data.model_dump(exclude={"stage_key"})
    fields["owner_id"] = data.owner_id or actor.id
    values = _clean(session, actor, fields)
    _delivery_order(values)
    _check_account(session, stage, values.get("account_id"))
    _check_contact(session, values.get("contact_id"), values.get("account_id"))
    now = utcnow()
    deal = Deal(
        **values,
        stage_id=int(stage.id or 0),
        parent_deal_id=parent_deal_id,
        created_at=now,
        stage_entered_at=now,
        last_touch_at=now,
        closed_at=now if stage.kind != "open" else None,
    )
    writes.create(session=session, actor=actor, row=deal, entity="deal")
    _record_move(session, actor, deal, stage, now, from_stage_id=None)
    writes.flush(session)
    return deal


def update_deal(
    *, session: Session, actor: Actor, deal_id: int, expected_version: int | None, data: DealUpdate
) -> Deal:
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    writes.expect_version(deal.version, expected_version)
    changes = _clean(session, actor, data.changes())
    if "account_id" in changes:
        stage = writes.get(session, StageDefinition, deal.stage_id, "stage")
        _check_account(session, stage, changes["account_id"])
        old_contact = session.get(Contact, deal.contact_id) if deal.contact_id is not None else None
        if "contact_id" not in changes and old_contact is not None:
            # another client: the old client's contact person goes with it (the audit shows it)
            if old_contact.account_id != changes["account_id"]:
                changes["contact_id"] = None
    if "contact_id" in changes or "account_id" in changes:
        _check_contact(
            session, changes.get("contact_id", deal.contact_id), changes.get("account_id", deal.account_id)
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=deal,
        expected_version=expected_version,
        changes=changes,
        entity="deal",
        check=_delivery_order,
    )


def move_deal(
    *,
    session: Session,
    actor: Actor,
    deal_id: int,
    expected_version: int | None,
    to_stage_key: str,
    lost_reason: str | None = None,
) -> Deal:
    """Move a deal to any stage (skips and moves back are recorded, not refused). Lost needs a
    reason from the configured list; a move resets the rot timer."""
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    writes.expect_version(deal.version, expected_version)
    stage = _stage_by_key(session, to_stage_key)
    if stage.id == deal.stage_id:
        raise ValidationError("pipeline.error.same_stage")
    if stage.kind == "lost":
        keys = session.exec(select(LostReason.key).where(col(LostReason.active))).all()
        if not lost_reason:
            raise ValidationError("error.required", field="pipeline.field.lost_reason")
        validation.choice(lost_reason, "pipeline.field.lost_reason", list(keys))
    _check_account(session, stage, deal.account_id)
    now = utcnow()
    # reopened: a later win or loss closes it anew; a won deal lost later keeps its first close
    closed_at = None if stage.kind == "open" else deal.closed_at or now
    _record_move(session, actor, deal, stage, now)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=deal,
        expected_version=expected_version,
        changes={
            "stage_id": stage.id,
            "stage_entered_at": now,
            "last_touch_at": now,
            "lost_reason": lost_reason if stage.kind == "lost" else None,
            "closed_at": closed_at,
        },
        entity="deal",
        action="move",
    )


class DealRefused(RowError):
    """A bulk change refused because of one deal: "Deal #12 (Cement): <its problem> Nothing was
    changed." (`RowError` with the deal's id and title in place of a grid row)."""

    key = "pipeline.deals.bulk_refused"


BULK_MAX = 1000  # deals per bulk change: a screenful of selections, not the whole database


def bulk_update(
    *,
    session: Session,
    actor: Actor,
    deal_ids: list[int],
    expected_versions: list[int | None],
    change: DealBulkChange,
) -> list[Deal]:
    """Give the selected deals to another owner, move them to a stage and / or set their expected
    close, for managers (`deal.write_any`), all or nothing: each deal goes through `update_deal`
    and `move_deal` (their rules: Lost needs a reason, an account from Needs analysis on, Contract
    and Completed close the deal as won; one audit entry per write), and the first refusal (a
    stale version, a rule) names the deal and rolls every deal back (the caller's unit of work).
    A deal already in the target stage is not moved again."""
    require(actor, "deal.write_any")
    if not deal_ids:
        raise ValidationError("pipeline.deals.error.none_selected")
    if len(deal_ids) != len(expected_versions) or len(set(deal_ids)) != len(deal_ids):
        raise ValidationError("pipeline.deals.error.selection")
    if len(deal_ids) > BULK_MAX:
        raise ValidationError("pipeline.deals.error.too_many", max=BULK_MAX)
    given = change.changes()
    fields = {k: v for k, v in given.items() if k in ("owner_id", "expected_close")}
    stage = _stage_by_key(session, str(given["stage_key"])) if given.get("stage_key") else None
    if not fields and stage is None:
        raise ValidationError("pipeline.deals.error.nothing_to_change")
    updated: list[Deal] = []
    for deal_id, version in zip(deal_ids, expected_versions, strict=True):
        deal = session.get(Deal, deal_id) if _row_id(deal_id) is not None else None
        if deal is None:
            raise NotFound("error.not_found", entity="deal", id=deal_id)
        try:
            if fields:
                deal = update_deal(
                    session=session,
                    actor=actor,
                    deal_id=deal_id,
                    expected_version=version,
                    data=DealUpdate(**fields),
                )
            else:
                writes.expect_version(deal.version, version)
            if stage is not None and stage.id != deal.stage_id:
                deal = move_deal(
                    session=session,
                    actor=actor,
                    deal_id=deal_id,
                    expected_version=deal.version,
                    to_stage_key=stage.key,
                    lost_reason=given.get("lost_reason"),
                )
        except DomainError as err:
            raise DealRefused(deal_id, err, name=deal.title) from err
        updated.append(deal)
    return updated


def add_deal_contact(
    *, session: Session, actor: Actor, deal_id: int, expected_version: int | None, data: ContactCreate
) -> Deal:
    """A new contact person of the deal's client, made the deal's contact, in one transaction
    (the contact through `create_contact`: the account's owner or a manager; the deal through
    `update_deal`: its owner or a manager)."""
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    writes.expect_version(deal.version, expected_version)
    if deal.account_id is None or data.account_id != deal.account_id:
        raise ValidationError(
            "pipeline.error.contact_other_client", field="pipeline.field.contact", value=data.full_name
        )
    contact = create_contact(session=session, actor=actor, data=data)
    return update_deal(
        session=session,
        actor=actor,
        deal_id=deal_id,
        expected_version=expected_version,
        data=DealUpdate(contact_id=contact.id),
    )


def deal_contacts(*, session: Session, actor: Actor, account_id: int | None) -> list[ContactPublic]:
    """The contacts a deal of this client may have, by name."""
    require(actor, "pipeline.read")
    if account_id is None:
        return []
    rows = session.exec(
        select(Contact).where(Contact.account_id == account_id).order_by(col(Contact.full_name))
    ).all()
    return [ContactPublic.model_validate(c) for c in rows]


def repeat_business(*, session: Session, actor: Actor, deal_id: int, title: str | None = None) -> Deal:
    """A follow-up deal for the same client at Needs analysis, linked to the won parent."""
    parent = _deal(session, deal_id)
    _may_work(actor, parent.owner_id)
    parent_stage = session.get(StageDefinition, parent.stage_id)
    if parent_stage is None or parent_stage.kind != "won":
        raise ValidationError("pipeline.error.repeat_needs_won")
    return create_deal(
        session=session,
        actor=actor,
        data=DealCreate(
            title=title or parent.title,
            stage_key=REPEAT_STAGE,
            owner_id=parent.owner_id,
            account_id=parent.account_id,
            contact_id=parent.contact_id,
            currency=parent.currency,
        ),
        parent_deal_id=parent.id,
    )


def set_deal_products(
    *,
    session: Session,
    actor: Actor,
    deal_id: int,
    expected_version: int | None,
    items: list[DealProductLine],
    update_value: bool = False,
) -> list[DealProduct]:
    """Replace the deal's products with `items` (optionally the deal's value becomes their sum):
    one versioned write of the deal, checked against the version the form was loaded at.

    Every line is validated first. Then the deal's row is updated (version + 1, `WHERE version =
    the one read`) *before* any product row is touched, so concurrent saves queue on that row
    (PostgreSQL's row lock, SQLite's write lock): the first one replaces the lines, every later
    one finds the version moved on and gets ConflictError with nothing written — no duplicate
    key, no deadlock, no mixture of two saves."""
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    writes.expect_version(deal.version, expected_version)
    rows: dict[int, DealProduct] = {}
    for item in items:
        product = writes.get(session, Product, item.product_id, "product")
        if item.product_id in rows:
            raise ValidationError("error.duplicate", field="pipeline.field.product", value=product.name)
        quantity = validation.amount(item.quantity, "pipeline.field.quantity")
        if quantity <= 0:
            raise ValidationError("error.negative", field="pipeline.field.quantity")
        unit_price = (
            product.price
            if item.unit_price is None
            else validation.amount(item.unit_price, "pipeline.field.unit_price")
        )
        rows[item.product_id] = DealProduct(
            deal_id=int(deal_id), product_id=item.product_id, quantity=quantity, unit_price=unit_price
        )
    total = sum((r.quantity * r.unit_price for r in rows.values()), Decimal("0")).quantize(Decimal("0.01"))
    if update_value and total > validation.MAX_AMOUNT:
        raise ValidationError("error.too_large", field="pipeline.field.value")
    deal_before = audit.snapshot(deal, ["value", "version"])
    if update_value:
        deal.value = total
    flag_modified(deal, "value")  # the deal's UPDATE (and version + 1) even when the value stays
    session.add(deal)
    writes.flush(session)  # a save that lost the race stops here: ConflictError, nothing written
    old_rows = session.exec(select(DealProduct).where(DealProduct.deal_id == deal_id)).all()
    before = [audit.snapshot(p) for p in old_rows]
    for old in old_rows:
        session.delete(old)
    writes.flush(session)
    for row in rows.values():
        session.add(row)
    writes.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="deal_products",
        entity_id=deal_id,
        action="update",
        before={"products": before, "version": deal_before and deal_before["version"]},
        after={"products": [audit.snapshot(r) for r in rows.values()], "version": deal.version},
    )
    if update_value:
        audit.record(
            session=session,
            actor=actor,
            entity="deal",
            entity_id=deal_id,
            action="update",
            before=deal_before,
            after=audit.snapshot(deal, ["value", "version"]),
        )
    return list(rows.values())


def _activity_values(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "kind" in fields:
        out["kind"] = validation.choice(fields["kind"], "pipeline.field.kind", ACTIVITY_KINDS)
    if "subject" in fields:
        out["subject"] = validation.text(fields["subject"], "pipeline.field.subject", max_len=200)
    if "notes" in fields:
        out["notes"] = validation.text(fields["notes"], "pipeline.field.notes", max_len=4000, required=False)
    if "due_at" in fields:
        out["due_at"] = fields["due_at"]
    return out


def _touch(session: Session, deal: Deal | None, at: datetime) -> None:
    """A done activity resets its deal's rot timer (part of the activity's write)."""
    if deal is not None:
        deal.last_touch_at = at
        session.add(deal)


def _account(session: Session, account_id: Any) -> Account:
    account = session.get(Account, account_id) if _row_id(account_id) is not None else None
    if account is None:
        raise NotFound("error.not_found", entity="account", id=account_id)
    return account


def create_activity(*, session: Session, actor: Actor, data: ActivityCreate) -> Activity:
    """An activity on a deal the actor works, or on an account they own (a manager: any)."""
    require(actor, "deal.write")
    deal = _deal(session, data.deal_id) if data.deal_id is not None else None
    account_id = data.account_id
    if deal is not None:
        _may_work(actor, deal.owner_id)
    if account_id is not None and (deal is None or account_id != deal.account_id):
        _may_work_account(actor, _account(session, account_id))  # someone else's client: refused
    if deal is not None:
        account_id = account_id or deal.account_id
    if deal is None and account_id is None:
        raise ValidationError("pipeline.error.activity_target")
    values = _activity_values(data.model_dump(include={"kind", "subject", "notes", "due_at"}))
    now = utcnow()
    activity = Activity(
        **values,
        deal_id=data.deal_id,
        account_id=account_id,
        owner_id=actor.id,
        done_at=now if data.done else None,
    )
    if data.done:
        _touch(session, deal, now)
    return writes.create(session=session, actor=actor, row=activity, entity="activity")


def _activity_deal(session: Session, actor: Actor, activity: Activity) -> Deal | None:
    deal = _deal(session, activity.deal_id) if activity.deal_id is not None else None
    _may_work(actor, deal.owner_id if deal is not None else activity.owner_id)
    return deal


def update_activity(
    *, session: Session, actor: Actor, activity_id: int, expected_version: int | None, data: ActivityUpdate
) -> Activity:
    activity = writes.get(session, Activity, activity_id, "activity")
    _activity_deal(session, actor, activity)
    writes.expect_version(activity.version, expected_version)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=activity,
        expected_version=expected_version,
        changes=_activity_values(data.changes()),
        entity="activity",
    )


def complete_activity(
    *, session: Session, actor: Actor, activity_id: int, expected_version: int | None
) -> Activity:
    """Mark done; a done activity resets its deal's rot timer."""
    activity = writes.get(session, Activity, activity_id, "activity")
    deal = _activity_deal(session, actor, activity)
    writes.expect_version(activity.version, expected_version)
    if activity.done_at is not None:
        raise ValidationError("pipeline.error.already_done")
    now = utcnow()
    _touch(session, deal, now)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=activity,
        expected_version=expected_version,
        changes={"done_at": now},
        entity="activity",
        action="complete",
    )


def _account_values(
    session: Session, fields: dict[str, Any], current_id: int | None = None
) -> dict[str, Any]:
    _unknown(fields, ACCOUNT_FIELDS)
    out: dict[str, Any] = {}
    if "name" in fields:
        out["name"] = validation.text(fields["name"], "field.name", max_len=200)
    if "nip" in fields:
        out["nip"] = validation.nip(fields["nip"])
        if out["nip"]:
            clash = session.exec(
                select(Account.id).where(Account.nip == out["nip"], Account.id != current_id)
            ).first()
            if clash is not None:
                raise ValidationError("error.duplicate", field="field.nip", value=out["nip"])
    for name, key in (("sector", "pipeline.field.sector"), ("city", "pipeline.field.city")):
        if name in fields:
            out[name] = validation.text(fields[name], key, max_len=80, required=False)
    # typed in a form: a wrong checksum or form is refused here (an import keeps it for data
    # quality to flag); stored normalised (digits, the IBAN with its country code, NN-NNN)
    if "regon" in fields:
        out["regon"] = validation.regon(fields["regon"])
    if "iban" in fields:
        out["iban"] = validation.iban(fields["iban"])
    if "postal_code" in fields:
        out["postal_code"] = validation.postal_code(fields["postal_code"], "pipeline.field.postal_code")
    if "street" in fields:
        street = validation.text(fields["street"], "pipeline.field.street", max_len=120, required=False)
        out["street"] = street or None
    if "owner_id" in fields:
        out["owner_id"] = _user_id(session, fields["owner_id"], "pipeline.field.owner")
    return out


def create_account(*, session: Session, actor: Actor, data: AccountCreate) -> Account:
    """A new account, owned by its creator unless a manager gives it to someone else."""
    require(actor, "deal.write")
    owner_id = actor.id if data.owner_id is None else data.owner_id
    _may_give_to(actor, owner_id)
    values = _account_values(session, {**data.model_dump(), "owner_id": owner_id})
    return writes.create(session=session, actor=actor, row=Account(**values), entity="account")


def update_account(
    *, session: Session, actor: Actor, account_id: int, expected_version: int | None, data: AccountUpdate
) -> Account:
    """Edit an account: its owner or a manager; only a manager gives it to another owner."""
    account = writes.get(session, Account, account_id, "account")
    _may_work_account(actor, account)
    writes.expect_version(account.version, expected_version)
    if "owner_id" in data.changes():
        _may_give_to(actor, data.owner_id)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=account,
        expected_version=expected_version,
        changes=_account_values(session, data.changes(), account.id),
        entity="account",
    )


def _contact_values(fields: dict[str, Any]) -> dict[str, Any]:
    _unknown(fields, CONTACT_FIELDS)
    out: dict[str, Any] = {}
    if "full_name" in fields:
        out["full_name"] = validation.text(fields["full_name"], "field.full_name", max_len=120)
    if "email" in fields:
        out["email"] = validation.email(fields["email"])
    if "phone" in fields:
        out["phone"] = validation.phone(fields["phone"], "pipeline.field.phone")
    if "position" in fields:
        out["position"] = validation.text(
            fields["position"], "pipeline.field.job_title", max_len=80, required=False
        )
    return out


def create_contact(*, session: Session, actor: Actor, data: ContactCreate) -> Contact:
    """A contact on an account the actor owns (a manager: any)."""
    require(actor, "deal.write")
    _may_work_account(actor, _account(session, data.account_id))
    values = _contact_values(data.model_dump(exclude={"account_id"}))
    return writes.create(
        session=session, actor=actor, row=Contact(account_id=data.account_id, **values), entity="contact"
    )


def update_contact(
    *, session: Session, actor: Actor, contact_id: int, expected_version: int | None, data: ContactUpdate
) -> Contact:
    """Edit a contact: the owner of its account or a manager (a contact without an account: any
    deal writer)."""
    require(actor, "deal.write")
    contact = writes.get(session, Contact, contact_id, "contact")
    if contact.account_id is not None:
        _may_work_account(actor, _account(session, contact.account_id))
    return writes.update_by_id(
        session=session,
        actor=actor,
        model=Contact,
        row_id=contact_id,
        expected_version=expected_version,
        changes=lambda: _contact_values(data.changes()),
        entity="contact",
    )


# ---- read models ------------------------------------------------------------------------


def _board_filters(
    session: Session,
    *,
    owner_id: int | None,
    product_id: int | None,
    min_value: float | None,
    max_value: float | None,
    stale_only: bool,
    now: datetime,
) -> list[Any]:
    where: list[Any] = []
    if owner_id is not None:
        where.append(col(Deal.owner_id) == owner_id)
    if product_id is not None:
        where.append(
            exists().where(
                col(DealProduct.deal_id) == col(Deal.id), col(DealProduct.product_id) == product_id
            )
        )
    if min_value is not None:
        where.append(col(Deal.value) >= min_value)
    if max_value is not None:
        where.append(col(Deal.value) <= max_value)
    if stale_only:
        rot = session.exec(
            select(col(StageDefinition.id), col(StageDefinition.rot_days)).where(
                col(StageDefinition.kind) == "open"
            )
        ).all()
        conds = [
            and_(col(Deal.stage_id) == sid, col(Deal.last_touch_at) < now - timedelta(days=days))
            for sid, days in rot
        ]
        where.append(or_(*conds) if conds else false())
    return where


def board(
    *,
    session: Session,
    actor: Actor,
    stage_ids: list[int],
    limit: int = 10,
    owner_id: int | None = None,
    product_id: int | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    stale_only: bool = False,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-stage totals (count, value, weighted value) from SQL, and the top `limit` cards per
    stage by value: two queries whatever the number of deals."""
    require(actor, "pipeline.read")
    now = now or utcnow()
    where = _board_filters(
        session,
        owner_id=owner_id,
        product_id=product_id,
        min_value=min_value,
        max_value=max_value,
        stale_only=stale_only,
        now=now,
    )
    totals_df = values.open_totals(
        session=session, where=(col(Deal.stage_id).in_(stage_ids), *where), open_only=False
    )
    rank = (
        func.row_number()
        .over(partition_by=col(Deal.stage_id), order_by=(col(Deal.value).desc(), col(Deal.id)))
        .label("rn")
    )
    inner = (
        sa_select(
            col(Deal.id),
            col(Deal.title),
            col(Deal.stage_id),
            col(Deal.value),
            col(Deal.currency),
            col(Deal.account_id),
            col(Deal.owner_id),
            col(Deal.last_touch_at),
            col(Deal.expected_close),
            col(Deal.version),
            rank,
        )
        .where(col(Deal.stage_id).in_(stage_ids), *where)
        .subquery()
    )
    rows = session.execute(
        sa_select(inner, col(Account.name), col(UserAccount.display_name))
        .join(Account, col(Account.id) == inner.c.account_id, isouter=True)
        .join(UserAccount, col(UserAccount.id) == inner.c.owner_id, isouter=True)
        .where(inner.c.rn <= limit)
        .order_by(inner.c.stage_id, inner.c.rn)
    ).all()
    cards = pd.DataFrame(
        rows,
        columns=[
            "id",
            "title",
            "stage_id",
            "value",
            "currency",
            "account_id",
            "owner_id",
            "last_touch_at",
            "expected_close",
            "version",
            "rn",
            "account",
            "owner",
        ],
    )
    cards["value"] = cards["value"].astype(float)
    return totals_df, cards


def _account_public(session: Session, account_id: int | None) -> AccountPublic | None:
    account = session.get(Account, account_id) if account_id is not None else None
    return AccountPublic.model_validate(account) if account is not None else None


def deal_detail(*, session: Session, actor: Actor, deal_id: int) -> dict[str, Any]:
    require(actor, "pipeline.read")
    deal = _deal(session, deal_id)
    products = session.exec(
        select(DealProduct, Product.name)
        .join(Product, col(Product.id) == col(DealProduct.product_id))
        .where(DealProduct.deal_id == deal_id)
    ).all()
    activities = session.exec(
        select(Activity).where(Activity.deal_id == deal_id).order_by(col(Activity.created_at).desc())
    ).all()
    contact = session.get(Contact, deal.contact_id) if deal.contact_id is not None else None
    return {
        "deal": DealPublic.model_validate(deal),
        "products": pd.DataFrame(
            [
                {
                    "product_id": p.product_id,
                    "product": name,
                    "quantity": float(p.quantity),
                    "unit_price": float(p.unit_price),
                }
                for p, name in products
            ],
            columns=["product_id", "product", "quantity", "unit_price"],
        ),
        "activities": [ActivityPublic.model_validate(a) for a in activities],
        "history": stage_history(session=session, actor=actor, deal_ids=[deal_id]),
        "account": _account_public(session, deal.account_id),
        "contact": ContactPublic.model_validate(contact) if contact is not None else None,
        "contacts": deal_contacts(session=session, actor=actor, account_id=deal.account_id),
    }


def stage_history(*, session: Session, actor: Actor, deal_ids: list[int]) -> pd.DataFrame:
    require(actor, "pipeline.read")
    rows = session.execute(
        sa_select(
            col(StageChange.deal_id),
            col(StageChange.from_stage_id),
            col(StageChange.to_stage_id),
            col(StageChange.at),
            col(UserAccount.display_name),
        )
        .join(UserAccount, col(UserAccount.id) == col(StageChange.by_user_id), isouter=True)
        .where(col(StageChange.deal_id).in_(deal_ids))
        .order_by(col(StageChange.at), col(StageChange.id))
    ).all()
    return pd.DataFrame(rows, columns=["deal_id", "from_stage_id", "to_stage_id", "at", "by"])


def client_view(*, session: Session, actor: Actor, account_id: int) -> dict[str, Any]:
    """Everything about one client: its deals, a timeline of stage moves and activities."""
    require(actor, "pipeline.read")
    account = writes.get(session, Account, account_id, "account")
    deals = session.execute(
        sa_select(
            col(Deal.id),
            col(Deal.title),
            col(Deal.stage_id),
            col(Deal.value),
            col(Deal.currency),
            col(Deal.created_at),
            col(Deal.closed_at),
            col(Deal.expected_close),
            col(Deal.parent_deal_id),
            col(Deal.lost_reason),
        )
        .where(col(Deal.account_id) == account_id)
        .order_by(col(Deal.created_at).desc())
    ).all()
    deals_df = pd.DataFrame(
        deals,
        columns=[
            "id",
            "title",
            "stage_id",
            "value",
            "currency",
            "created_at",
            "closed_at",
            "expected_close",
            "parent_deal_id",
            "lost_reason",
        ],
    )
    deals_df["value"] = deals_df["value"].astype(float)
    history = stage_history(session=session, actor=actor, deal_ids=[int(i) for i in deals_df["id"]])
    acts = session.execute(
        sa_select(
            col(Activity.deal_id),
            col(Activity.kind),
            col(Activity.subject),
            col(Activity.created_at),
            col(Activity.done_at),
            col(Activity.due_at),
        ).where(
            or_(
                col(Activity.account_id) == account_id,
                col(Activity.deal_id).in_(deals_df["id"].tolist()),
            )
        )
    ).all()
    activities = pd.DataFrame(acts, columns=["deal_id", "kind", "subject", "created_at", "done_at", "due_at"])
    contacts = session.exec(
        select(Contact).where(Contact.account_id == account_id).order_by(col(Contact.full_name))
    ).all()
    return {
        "account": AccountPublic.model_validate(account),
        "deals": deals_df,
        "history": history,
        "activities": activities,
        "contacts": [ContactPublic.model_validate(c) for c in contacts],
    }


def pick_deals(
    *, session: Session, actor: Actor, search: str = "", limit: int = 200
) -> list[tuple[int, str]]:
    require(actor, "pipeline.read")
    query = select(col(Deal.id), col(Deal.title)).order_by(col(Deal.last_touch_at).desc()).limit(limit)
    if search.strip():
        query = query.where(func.lower(col(Deal.title)).contains(search.strip().lower()))
    return [(i, str(title)) for i, title in session.exec(query).all() if i is not None]


def pick_accounts(
    *, session: Session, actor: Actor, search: str = "", limit: int = 500
) -> list[tuple[int, str]]:
    require(actor, "pipeline.read")
    query = select(col(Account.id), col(Account.name)).order_by(col(Account.name)).limit(limit)
    if search.strip():
        query = query.where(func.lower(col(Account.name)).contains(search.strip().lower()))
    return [(i, str(name)) for i, name in session.exec(query).all() if i is not None]


def account_names(*, session: Session, account_ids: list[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = session.exec(
        select(col(Account.id), col(Account.name)).where(col(Account.id).in_(account_ids))
    ).all()
    return {i: str(name) for i, name in rows if i is not None}


def deal_titles(*, session: Session, deal_ids: list[int]) -> dict[int, str]:
    if not deal_ids:
        return {}
    rows = session.exec(select(col(Deal.id), col(Deal.title)).where(col(Deal.id).in_(deal_ids))).all()
    found = {i: str(title) for i, title in rows if i is not None}
    return {i: found[i] for i in deal_ids if i in found}


def owners(*, session: Session) -> dict[int, str]:
    rows = session.exec(
        select(col(UserAccount.id), col(UserAccount.display_name), col(UserAccount.username)).order_by(
            col(UserAccount.display_name)
        )
    ).all()
    return {i: str(name or login) for i, name, login in rows if i is not None}


def owns_deals(*, session: Session, user_id: int | None) -> bool:
    """Whether the user owns any deal (the board starts on their own deals only then)."""
    if user_id is None:
        return False
    found = session.exec(select(col(Deal.id)).where(col(Deal.owner_id) == user_id).limit(1)).first()
    return found is not None


def products(*, session: Session) -> dict[int, str]:
    rows = session.exec(
        select(col(Product.id), col(Product.name)).where(col(Product.active)).order_by(col(Product.name))
    ).all()
    return {i: str(name) for i, name in rows if i is not None}


def lost_reasons(*, session: Session) -> list[LostReason]:
    return list(
        session.exec(
            select(LostReason).where(col(LostReason.active)).order_by(col(LostReason.position))
        ).all()
    )


def today_utc() -> date:
    return utcnow().date()
