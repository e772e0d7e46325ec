"""Working deals: create, edit, move through stages, lose, repeat business; products on deals;
activities; accounts and contacts. Also the read models of the board, the deal and the client.

A sales rep works only their own deals; `deal.write_any` (managers) lifts that.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, false, func, or_
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from crm_impl.core import audit, validation
from crm_impl.core.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from crm_impl.core.models import UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline.models import (
    ACTIVITY_KINDS,
    Account,
    Activity,
    Contact,
    Deal,
    DealProduct,
    LostReason,
    Product,
    StageChange,
    StageDefinition,
)

ACCOUNT_FROM = "needs_analysis"  # an account is required from this stage on
REPEAT_STAGE = "needs_analysis"  # repeat business restarts here (slide 2)
DEAL_FIELDS = (
    "title",
    "account_id",
    "contact_id",
    "value",
    "currency",
    "owner_id",
    "expected_close",
    "probability",
    "promised_delivery",
    "actual_delivery",
)


def _flush(session: Session) -> None:
    """Flush, turning a stale versioned UPDATE (someone saved first) into ConflictError."""
    try:
        session.flush()
    except StaleDataError as err:
        raise ConflictError() from err


def _deal(session: Session, deal_id: int) -> Deal:
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("error.not_found", entity="deal", id=deal_id)
    return deal


def _may_work(actor: Actor, owner_id: int | None) -> None:
    require(actor, "deal.write")
    if owner_id != actor.id and not actor.can("deal.write_any"):
        raise PermissionDenied("pipeline.error.not_own_deal")


def _stage_by_key(session: Session, key: str) -> StageDefinition:
    stage = session.exec(select(StageDefinition).where(StageDefinition.key == key)).first()
    if stage is None or not stage.active:
        raise ValidationError("error.choice", field="field.stage", value=key)
    return stage


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
    if session.get(Account, account_id) is None:
        raise NotFound("error.not_found", entity="account", id=account_id)


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
    unknown = set(fields) - set(DEAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown deal fields {sorted(unknown)}")
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
            if value is not None and session.get(UserAccount, value) is None:
                raise NotFound("error.not_found", entity="user", id=value)
            if value != actor.id and not actor.can("deal.write_any"):
                raise PermissionDenied("pipeline.error.not_own_deal")
            out[name] = value
        elif name == "contact_id":
            if value is not None and session.get(Contact, value) is None:
                raise NotFound("error.not_found", entity="contact", id=value)
            out[name] = value
        else:
            out[name] = value
    validation.date_order(
        out.get("promised_delivery"), out.get("actual_delivery"), "pipeline.field.actual_delivery"
    )
    return out


def _record_move(session: Session, actor: Actor, deal: Deal, stage: StageDefinition, at: datetime) -> None:
    session.add(
        StageChange(
            deal_id=deal.id, from_stage_id=deal.stage_id, to_stage_id=stage.id, at=at, by_user_id=actor.id
        )
    )


def create_deal(
    *,
    session: Session,
    actor: Actor,
    title: str,
    stage_key: str = "prospect",
    owner_id: int | None = None,
    parent_deal_id: int | None = None,
    **fields: Any,
) -> Deal:
    require(actor, "deal.write")
    stage = _stage_by_key(session, stage_key)
    if stage.kind == "lost":
        raise ValidationError("pipeline.error.create_lost")
    data = _clean(session, actor, {"title": title, "owner_id": owner_id or actor.id, **fields})
    _check_account(session, stage, data.get("account_id"))
    now = utcnow()
    deal = Deal(
        **data,
        stage_id=stage.id,
        parent_deal_id=parent_deal_id,
        created_at=now,
        stage_entered_at=now,
        last_touch_at=now,
        closed_at=now if stage.kind != "open" else None,
    )
    session.add(deal)
    _flush(session)
    session.add(
        StageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=stage.id, at=now, by_user_id=actor.id)
    )
    audit.record(
        session=session,
        actor=actor,
        entity="deal",
        entity_id=deal.id,
        action="create",
        after=audit.snapshot(deal),
    )
    _flush(session)
    return deal


def update_deal(
    *, session: Session, actor: Actor, deal_id: int, expected_version: int | None, **fields: Any
) -> Deal:
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    validation.expect_version(deal.version, expected_version)
    data = _clean(session, actor, fields)
    if "account_id" in data:
        _check_account(session, session.get(StageDefinition, deal.stage_id), data["account_id"])  # type: ignore[arg-type]
    before = audit.snapshot(deal)
    for name, value in data.items():
        setattr(deal, name, value)
    validation.date_order(deal.promised_delivery, deal.actual_delivery, "pipeline.field.actual_delivery")
    session.add(deal)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="deal",
        entity_id=deal.id,
        action="update",
        before=before,
        after=audit.snapshot(deal),
    )
    return deal


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
    validation.expect_version(deal.version, expected_version)
    stage = _stage_by_key(session, to_stage_key)
    if stage.id == deal.stage_id:
        raise ValidationError("pipeline.error.same_stage")
    if stage.kind == "lost":
        keys = session.exec(select(LostReason.key).where(LostReason.active)).all()
        if not lost_reason:
            raise ValidationError("error.required", field="pipeline.field.lost_reason")
        validation.choice(lost_reason, "pipeline.field.lost_reason", list(keys))
    _check_account(session, stage, deal.account_id)
    before = audit.snapshot(deal, ["stage_id", "lost_reason", "closed_at"])
    now = utcnow()
    _record_move(session, actor, deal, stage, now)
    deal.stage_id = stage.id  # type: ignore[assignment]
    deal.stage_entered_at = now
    deal.last_touch_at = now
    deal.lost_reason = lost_reason if stage.kind == "lost" else None
    if stage.kind == "open":
        deal.closed_at = None  # reopened: a later win or loss closes it anew
    elif deal.closed_at is None:
        deal.closed_at = now
    session.add(deal)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="deal",
        entity_id=deal.id,
        action="move",
        before=before,
        after=audit.snapshot(deal, ["stage_id", "lost_reason", "closed_at"]),
    )
    return deal


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
        title=title or parent.title,
        stage_key=REPEAT_STAGE,
        owner_id=parent.owner_id,
        parent_deal_id=parent.id,
        account_id=parent.account_id,
        contact_id=parent.contact_id,
        currency=parent.currency,
    )


def set_deal_products(
    *, session: Session, actor: Actor, deal_id: int, items: list[dict[str, Any]], update_value: bool = False
) -> list[DealProduct]:
    """Replace the deal's products with `items` (product_id, quantity, unit_price)."""
    deal = _deal(session, deal_id)
    _may_work(actor, deal.owner_id)
    rows: dict[int, DealProduct] = {}
    for item in items:
        product = session.get(Product, int(item["product_id"]))
        if product is None:
            raise NotFound("error.not_found", entity="product", id=item["product_id"])
        quantity = validation.amount(item.get("quantity", 1), "pipeline.field.quantity")
        if quantity <= 0:
            raise ValidationError("error.negative", field="pipeline.field.quantity")
        price = item.get("unit_price")
        unit_price = product.price if price is None else validation.amount(price, "pipeline.field.unit_price")
        rows[int(product.id)] = DealProduct(
            deal_id=deal.id, product_id=product.id, quantity=quantity, unit_price=unit_price
        )  # type: ignore[arg-type]
    before = [
        audit.snapshot(p)
        for p in session.exec(select(DealProduct).where(DealProduct.deal_id == deal.id)).all()
    ]
    for old in session.exec(select(DealProduct).where(DealProduct.deal_id == deal.id)).all():
        session.delete(old)
    _flush(session)
    for row in rows.values():
        session.add(row)
    if update_value:
        deal.value = sum((r.quantity * r.unit_price for r in rows.values()), Decimal("0")).quantize(
            Decimal("0.01")
        )
        session.add(deal)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="deal_products",
        entity_id=deal.id,
        action="update",
        before={"products": before},
        after={"products": [audit.snapshot(r) for r in rows.values()]},
    )
    return list(rows.values())


def create_activity(
    *,
    session: Session,
    actor: Actor,
    subject: str,
    kind: str = "task",
    deal_id: int | None = None,
    account_id: int | None = None,
    due_at: datetime | None = None,
    notes: str = "",
    done: bool = False,
) -> Activity:
    require(actor, "deal.write")
    deal = _deal(session, deal_id) if deal_id is not None else None
    if deal is not None:
        _may_work(actor, deal.owner_id)
        account_id = account_id or deal.account_id
    if deal is None and account_id is None:
        raise ValidationError("pipeline.error.activity_target")
    now = utcnow()
    activity = Activity(
        kind=validation.choice(kind, "pipeline.field.kind", ACTIVITY_KINDS),
        subject=validation.text(subject, "pipeline.field.subject", max_len=200),
        deal_id=deal_id,
        account_id=account_id,
        owner_id=actor.id,
        due_at=due_at,
        done_at=now if done else None,
        notes=validation.text(notes, "pipeline.field.notes", max_len=4000, required=False),
    )
    session.add(activity)
    if done and deal is not None:
        deal.last_touch_at = now
        session.add(deal)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="activity",
        entity_id=activity.id,
        action="create",
        after=audit.snapshot(activity),
    )
    return activity


def complete_activity(
    *, session: Session, actor: Actor, activity_id: int, expected_version: int | None
) -> Activity:
    """Mark done; a done activity resets its deal's rot timer."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound("error.not_found", entity="activity", id=activity_id)
    deal = _deal(session, activity.deal_id) if activity.deal_id is not None else None
    _may_work(actor, deal.owner_id if deal is not None else activity.owner_id)
    validation.expect_version(activity.version, expected_version)
    if activity.done_at is not None:
        raise ValidationError("pipeline.error.already_done")
    now = utcnow()
    activity.done_at = now
    session.add(activity)
    if deal is not None:
        deal.last_touch_at = now
        session.add(deal)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="activity",
        entity_id=activity.id,
        action="complete",
        after={"done_at": now.isoformat()},
    )
    return activity


def _account_values(
    session: Session, fields: dict[str, Any], current_id: int | None = None
) -> dict[str, Any]:
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
    if "owner_id" in fields:
        out["owner_id"] = fields["owner_id"]
    return out


def create_account(*, session: Session, actor: Actor, name: str, **fields: Any) -> Account:
    require(actor, "deal.write")
    data = _account_values(session, {"name": name, **fields})
    data.setdefault("owner_id", actor.id)
    account = Account(**data)
    session.add(account)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="account",
        entity_id=account.id,
        action="create",
        after=audit.snapshot(account),
    )
    return account


def update_account(
    *, session: Session, actor: Actor, account_id: int, expected_version: int | None, **fields: Any
) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("error.not_found", entity="account", id=account_id)
    _may_work(actor, account.owner_id)
    validation.expect_version(account.version, expected_version)
    before = audit.snapshot(account)
    for name, value in _account_values(session, fields, account.id).items():
        setattr(account, name, value)
    session.add(account)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="account",
        entity_id=account.id,
        action="update",
        before=before,
        after=audit.snapshot(account),
    )
    return account


def _contact_values(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "full_name" in fields:
        out["full_name"] = validation.text(fields["full_name"], "field.full_name", max_len=120)
    if "email" in fields:
        out["email"] = validation.email(fields["email"])
    if "phone" in fields:
        out["phone"] = (
            validation.text(fields["phone"], "pipeline.field.phone", max_len=40, required=False) or None
        )
    if "position" in fields:
        out["position"] = validation.text(
            fields["position"], "pipeline.field.job_title", max_len=80, required=False
        )
    return out


def create_contact(
    *, session: Session, actor: Actor, account_id: int, full_name: str, **fields: Any
) -> Contact:
    require(actor, "deal.write")
    if session.get(Account, account_id) is None:
        raise NotFound("error.not_found", entity="account", id=account_id)
    contact = Contact(account_id=account_id, **_contact_values({"full_name": full_name, **fields}))
    session.add(contact)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="contact",
        entity_id=contact.id,
        action="create",
        after=audit.snapshot(contact),
    )
    return contact


def update_contact(
    *, session: Session, actor: Actor, contact_id: int, expected_version: int | None, **fields: Any
) -> Contact:
    require(actor, "deal.write")
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("error.not_found", entity="contact", id=contact_id)
    validation.expect_version(contact.version, expected_version)
    before = audit.snapshot(contact)
    for name, value in _contact_values(fields).items():
        setattr(contact, name, value)
    session.add(contact)
    _flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="contact",
        entity_id=contact.id,
        action="update",
        before=before,
        after=audit.snapshot(contact),
    )
    return contact


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
        where.append(Deal.owner_id == owner_id)
    if product_id is not None:
        where.append(exists().where(DealProduct.deal_id == Deal.id, DealProduct.product_id == product_id))
    if min_value is not None:
        where.append(Deal.value >= min_value)
    if max_value is not None:
        where.append(Deal.value <= max_value)
    if stale_only:
        rot = session.exec(
            select(StageDefinition.id, StageDefinition.rot_days).where(StageDefinition.kind == "open")
        ).all()
        conds = [
            and_(Deal.stage_id == sid, Deal.last_touch_at < now - timedelta(days=days)) for sid, days in rot
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
    prob = func.coalesce(Deal.probability, StageDefinition.probability)
    totals = session.exec(
        select(Deal.stage_id, func.count(Deal.id), func.sum(Deal.value), func.sum(Deal.value * prob))
        .join(StageDefinition, StageDefinition.id == Deal.stage_id)
        .where(Deal.stage_id.in_(stage_ids), *where)  # type: ignore[attr-defined]
        .group_by(Deal.stage_id)
    ).all()
    totals_df = pd.DataFrame(totals, columns=["stage_id", "deals", "value", "weighted_value"])
    totals_df[["value", "weighted_value"]] = totals_df[["value", "weighted_value"]].astype(float)
    rank = (
        func.row_number().over(partition_by=Deal.stage_id, order_by=(Deal.value.desc(), Deal.id)).label("rn")
    )  # type: ignore[attr-defined]
    inner = (
        select(
            Deal.id,
            Deal.title,
            Deal.stage_id,
            Deal.value,
            Deal.currency,
            Deal.account_id,
            Deal.owner_id,
            Deal.last_touch_at,
            Deal.expected_close,
            Deal.version,
            rank,
        )
        .where(Deal.stage_id.in_(stage_ids), *where)  # type: ignore[attr-defined]
        .subquery()
    )
    rows = session.exec(
        select(inner, Account.name, UserAccount.display_name)
        .join(Account, Account.id == inner.c.account_id, isouter=True)
        .join(UserAccount, UserAccount.id == inner.c.owner_id, isouter=True)
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


def deal_detail(*, session: Session, actor: Actor, deal_id: int) -> dict[str, Any]:
    require(actor, "pipeline.read")
    deal = _deal(session, deal_id)
    products = session.exec(
        select(DealProduct, Product.name)
        .join(Product, Product.id == DealProduct.product_id)
        .where(DealProduct.deal_id == deal_id)
    ).all()
    activities = session.exec(
        select(Activity).where(Activity.deal_id == deal_id).order_by(Activity.created_at.desc())
    ).all()  # type: ignore[attr-defined]
    return {
        "deal": deal,
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
        "activities": list(activities),
        "history": stage_history(session=session, actor=actor, deal_ids=[deal_id]),
        "account": session.get(Account, deal.account_id) if deal.account_id else None,
    }


def stage_history(*, session: Session, actor: Actor, deal_ids: list[int]) -> pd.DataFrame:
    require(actor, "pipeline.read")
    rows = session.exec(
        select(
            StageChange.deal_id,
            StageChange.from_stage_id,
            StageChange.to_stage_id,
            StageChange.at,
            UserAccount.display_name,
        )
        .join(UserAccount, UserAccount.id == StageChange.by_user_id, isouter=True)
        .where(StageChange.deal_id.in_(deal_ids))  # type: ignore[attr-defined]
        .order_by(StageChange.at, StageChange.id)
    ).all()
    return pd.DataFrame(rows, columns=["deal_id", "from_stage_id", "to_stage_id", "at", "by"])


def client_view(*, session: Session, actor: Actor, account_id: int) -> dict[str, Any]:
    """Everything about one client: its deals, a timeline of stage moves and activities."""
    require(actor, "pipeline.read")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("error.not_found", entity="account", id=account_id)
    deals = session.exec(
        select(
            Deal.id,
            Deal.title,
            Deal.stage_id,
            Deal.value,
            Deal.currency,
            Deal.created_at,
            Deal.closed_at,
            Deal.expected_close,
            Deal.parent_deal_id,
            Deal.lost_reason,
        )
        .where(Deal.account_id == account_id)
        .order_by(Deal.created_at.desc())  # type: ignore[attr-defined]
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
    acts = session.exec(
        select(
            Activity.deal_id,
            Activity.kind,
            Activity.subject,
            Activity.created_at,
            Activity.done_at,
            Activity.due_at,
        ).where(or_(Activity.account_id == account_id, Activity.deal_id.in_(deals_df["id"].tolist())))  # type: ignore[attr-defined]
    ).all()
    activities = pd.DataFrame(acts, columns=["deal_id", "kind", "subject", "created_at", "done_at", "due_at"])
    contacts = session.exec(
        select(Contact).where(Contact.account_id == account_id).order_by(Contact.full_name)
    ).all()
    return {
        "account": account,
        "deals": deals_df,
        "history": history,
        "activities": activities,
        "contacts": list(contacts),
    }


def pick_deals(
    *, session: Session, actor: Actor, search: str = "", limit: int = 200
) -> list[tuple[int, str]]:
    require(actor, "pipeline.read")
    query = select(Deal.id, Deal.title).order_by(Deal.last_touch_at.desc()).limit(limit)  # type: ignore[attr-defined]
    if search.strip():
        query = query.where(func.lower(Deal.title).contains(search.strip().lower()))
    return [(int(i), str(title)) for i, title in session.exec(query).all()]


def pick_accounts(
    *, session: Session, actor: Actor, search: str = "", limit: int = 500
) -> list[tuple[int, str]]:
    require(actor, "pipeline.read")
    query = select(Account.id, Account.name).order_by(Account.name).limit(limit)
    if search.strip():
        query = query.where(func.lower(Account.name).contains(search.strip().lower()))
    return [(int(i), str(name)) for i, name in session.exec(query).all()]


def account_names(*, session: Session, account_ids: list[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = session.exec(select(Account.id, Account.name).where(Account.id.in_(account_ids))).all()  # type: ignore[union-attr]
    return {int(i): str(name) for i, name in rows}


def deal_titles(*, session: Session, deal_ids: list[int]) -> dict[int, str]:
    if not deal_ids:
        return {}
    rows = session.exec(select(Deal.id, Deal.title).where(Deal.id.in_(deal_ids))).all()  # type: ignore[union-attr]
    found = {int(i): str(title) for i, title in rows}
    return {i: found[i] for i in deal_ids if i in found}


def owners(*, session: Session) -> dict[int, str]:
    rows = session.exec(
        select(UserAccount.id, UserAccount.display_name, UserAccount.username).order_by(
            UserAccount.display_name
        )
    ).all()
    return {int(i): str(name or login) for i, name, login in rows}


def products(*, session: Session) -> dict[int, str]:
    rows = session.exec(select(Product.id, Product.name).where(Product.active).order_by(Product.name)).all()
    return {int(i): str(name) for i, name in rows}


def lost_reasons(*, session: Session) -> list[LostReason]:
    return list(session.exec(select(LostReason).where(LostReason.active).order_by(LostReason.position)).all())


def today_utc() -> date:
    return utcnow().date()
