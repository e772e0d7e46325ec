"""The live sales pipeline: stages, accounts, contacts, deals, their stage history and activities."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Versioned, money_field, utcnow

STAGE_KINDS = ("open", "won", "lost")
ACTIVITY_KINDS = ("call", "email", "meeting", "task")


class StageDefinition(Versioned, table=True):
    __tablename__ = "stage_definition"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    position: int = Field(index=True)
    name_en: str = Field(max_length=60)
    name_pl: str = Field(max_length=60)
    kind: str = Field(default="open", max_length=10)
    probability: float = Field(default=0.0)
    stage_cost: Decimal = money_field()
    rot_days: int = Field(default=30)
    active: bool = Field(default=True)


class Account(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    nip: str | None = Field(default=None, max_length=13, index=True)
    sector: str = Field(default="", max_length=80)
    city: str = Field(default="", max_length=80)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    external_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Contact(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    full_name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    position: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow)


class Deal(Versioned, table=True):
    __table_args__ = (Index("ix_deal_stage_owner", "stage_id", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    value: Decimal = money_field()
    currency: str = Field(default="PLN", max_length=3)
    stage_id: int = Field(foreign_key="stage_definition.id")
    probability: float | None = None
    expected_close: date | None = None
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    lost_reason: str | None = Field(default=None, max_length=120)
    promised_delivery: date | None = None
    actual_delivery: date | None = None
    parent_deal_id: int | None = Field(default=None, foreign_key="deal.id")
    external_ref: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    stage_entered_at: datetime = Field(default_factory=utcnow)
    last_touch_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None, index=True)


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_deal_at", "deal_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    from_stage_id: int | None = Field(default=None, foreign_key="stage_definition.id")
    to_stage_id: int = Field(foreign_key="stage_definition.id", index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


class Activity(Versioned, table=True):
    __table_args__ = (Index("ix_activity_deal_due", "deal_id", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="task", max_length=10)
    subject: str = Field(max_length=200)
    deal_id: int | None = Field(default=None, foreign_key="deal.id")
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_at: datetime | None = None
    done_at: datetime | None = None
    notes: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class Product(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    series: str = Field(default="", max_length=60)
    price: Decimal = money_field()
    active: bool = Field(default=True)


class DealProduct(SQLModel, table=True):
    __tablename__ = "deal_product"

    deal_id: int = Field(foreign_key="deal.id", primary_key=True)
    product_id: int = Field(foreign_key="product.id", primary_key=True, index=True)
    quantity: Decimal = money_field(default=Decimal("1"))
    unit_price: Decimal = money_field()


class LostReason(Versioned, table=True):
    __tablename__ = "lost_reason"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name_en: str = Field(max_length=80)
    name_pl: str = Field(max_length=80)
    position: int = Field(default=0)
    active: bool = Field(default=True)


class ErpBalance(SQLModel, table=True):
    """Settlements imported from the ERP (slide 7): one row per account and as-of date."""

    __tablename__ = "erp_balance"
    __table_args__ = (Index("ix_erp_balance_account_asof", "account_id", "as_of", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    as_of: date
    receivable: Decimal = money_field()
    overdue: Decimal = money_field()
    balance: Decimal = money_field()
    imported_at: datetime = Field(default_factory=utcnow)


class SalesBudget(Versioned, table=True):
    """The sales budget per month, against which stage costs are compared (slide 5)."""

    __tablename__ = "sales_budget"

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(unique=True)
    amount: Decimal = money_field()
