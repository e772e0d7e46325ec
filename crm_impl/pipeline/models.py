"""The live sales pipeline: stages, accounts, contacts, deals, their stage history and activities.

Every editable entity has a family: `XCreate` (what a caller may give when creating),
`XUpdate` (all optional; only the fields a caller set count), the table model `X`, and
`XPublic` (what a page shows). The Update model's fields are the one list of editable fields:
the service, the form and the grid all read it (`DEAL_FIELDS`, `STAGE_FIELDS`, ...). Values
arrive as the widgets give them (an amount may be text like "12 500,50"); the services validate
and convert them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_impl.core.models import Versioned, money_field, utcnow
from crm_impl.core.writes import Update

STAGE_KINDS = ("open", "won", "lost")
ACTIVITY_KINDS = ("call", "email", "meeting", "task")

# An amount as typed: a number, or text the service parses (validation.amount).
Amount = Decimal | float | int | str
# A probability 0..1 as typed: a number, or text the service parses.
Probability = float | str
# A date as typed: a date, or text the service parses (validation.day); any other value reaches
# the service too, which refuses it naming the field (never a pydantic or database error).
Day = date | datetime | str | int | float


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
    # the registry numbers and the address (migration 0015): checked when typed (services), kept
    # as imported when the checksum fails, for data quality to flag (docs/data_quality.md)
    regon: str | None = Field(default=None, max_length=20)
    iban: str | None = Field(default=None, max_length=42)
    postal_code: str | None = Field(default=None, max_length=10)
    street: str | None = Field(default=None, max_length=120)
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
    # None: unknown (an imported deal without any date; left out of dated figures, migration 0013)
    created_at: datetime | None = Field(default_factory=utcnow, index=True)
    stage_entered_at: datetime | None = Field(default_factory=utcnow)
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


class StockLevel(SQLModel, table=True):
    """Stock levels imported from the ERP (slide 7): one row per product, warehouse and as-of
    date (a re-import of the same day replaces that day's figures, an older day stays as
    history). The newest day per product and warehouse is the current figure
    (`crm_impl.pipeline.queries.stock`)."""

    __tablename__ = "stock_level"
    __table_args__ = (
        Index("ix_stock_level_product_warehouse_asof", "product_id", "warehouse", "as_of", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    warehouse: str = Field(default="", max_length=60)  # "": the ERP reports one stock only
    as_of: date
    on_hand: Decimal = money_field()
    reserved: Decimal = money_field()
    imported_at: datetime = Field(default_factory=utcnow)


class SalesBudget(Versioned, table=True):
    """The sales budget per month, against which stage costs are compared (slide 5)."""

    __tablename__ = "sales_budget"

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(unique=True)
    amount: Decimal = money_field()


# ---- model families ------------------------------------------------------------------------


class StageDefinitionCreate(SQLModel):
    key: str
    name_en: str
    name_pl: str
    kind: str = "open"
    probability: Probability = 0.0
    stage_cost: Amount = Decimal("0")
    rot_days: int | str = 30
    active: bool = True
    after_key: str | None = None  # placed after this stage (else before Lost)


class StageDefinitionUpdate(Update):
    name_en: str | None = None
    name_pl: str | None = None
    probability: Probability | None = None
    stage_cost: Amount | None = None
    rot_days: int | str | None = None
    active: bool | None = None


class StageDefinitionPublic(SQLModel):
    id: int
    key: str
    position: int
    name_en: str
    name_pl: str
    kind: str
    probability: float
    stage_cost: Decimal
    rot_days: int
    active: bool
    version: int


class StageGridRow(SQLModel):
    """One row of the stages grid: which stage, the version it was loaded at, its place in the
    new order and what changed."""

    id: int
    expected_version: int | None
    position: int
    changes: StageDefinitionUpdate = Field(default_factory=StageDefinitionUpdate)


class AccountCreate(SQLModel):
    name: str
    nip: str | None = None
    sector: str = ""
    city: str = ""
    regon: str | None = None
    iban: str | None = None
    postal_code: str | None = None
    street: str | None = None
    owner_id: int | None = None  # the creating user when not given


class AccountUpdate(Update):
    name: str | None = None
    nip: str | None = None
    sector: str | None = None
    city: str | None = None
    regon: str | None = None
    iban: str | None = None
    postal_code: str | None = None
    street: str | None = None
    owner_id: int | None = None


class AccountPublic(SQLModel):
    id: int
    name: str
    nip: str | None
    sector: str
    city: str
    regon: str | None
    iban: str | None
    postal_code: str | None
    street: str | None
    owner_id: int | None
    created_at: datetime
    version: int


class ContactCreate(SQLModel):
    account_id: int
    full_name: str
    email: str | None = None
    phone: str | None = None
    position: str = ""


class ContactUpdate(Update):
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    position: str | None = None


class ContactPublic(SQLModel):
    id: int
    account_id: int | None
    full_name: str
    email: str | None
    phone: str | None
    position: str
    version: int


class DealCreate(SQLModel):
    title: str
    stage_key: str = "prospect"
    account_id: int | None = None
    contact_id: int | None = None
    value: Amount = Decimal("0")
    currency: str = "PLN"
    owner_id: int | None = None  # the creating user when not given
    expected_close: Day | None = None
    probability: Probability | None = None  # None: the stage's default
    promised_delivery: Day | None = None
    actual_delivery: Day | None = None


class DealUpdate(Update):
    title: str | None = None
    account_id: int | None = None
    contact_id: int | None = None
    value: Amount | None = None
    currency: str | None = None
    owner_id: int | None = None
    expected_close: Day | None = None
    probability: Probability | None = None
    promised_delivery: Day | None = None
    actual_delivery: Day | None = None


class DealPublic(SQLModel):
    id: int
    title: str
    account_id: int | None
    contact_id: int | None
    value: Decimal
    currency: str
    stage_id: int
    probability: float | None
    expected_close: date | None
    owner_id: int | None
    lost_reason: str | None
    promised_delivery: date | None
    actual_delivery: date | None
    parent_deal_id: int | None
    created_at: datetime | None
    stage_entered_at: datetime | None
    last_touch_at: datetime
    closed_at: datetime | None
    version: int


class DealBulkChange(Update):
    """What a manager changes on many deals at once (the deal list): a new owner, a stage to
    move them to (Lost with its reason) and / or an expected close date. Only the fields set
    count; `expected_close` set to None clears it."""

    owner_id: int | None = None
    stage_key: str | None = None
    lost_reason: str | None = None
    expected_close: Day | None = None


class DealProductLine(SQLModel):
    """One product on a deal as the products grid gives it (unit price None: the list price)."""

    product_id: int
    quantity: Amount = Decimal("1")
    unit_price: Amount | None = None


class ActivityCreate(SQLModel):
    subject: str
    kind: str = "task"
    deal_id: int | None = None
    account_id: int | None = None  # the deal's account when not given
    due_at: datetime | None = None
    notes: str = ""
    done: bool = False


class ActivityUpdate(Update):
    kind: str | None = None
    subject: str | None = None
    due_at: datetime | None = None
    notes: str | None = None


class ActivityPublic(SQLModel):
    id: int
    kind: str
    subject: str
    deal_id: int | None
    account_id: int | None
    owner_id: int | None
    due_at: datetime | None
    done_at: datetime | None
    notes: str
    created_at: datetime
    version: int


class ProductCreate(SQLModel):
    name: str
    series: str = ""
    price: Amount = Decimal("0")
    active: bool = True


class ProductUpdate(Update):
    name: str | None = None
    series: str | None = None
    price: Amount | None = None
    active: bool | None = None


class ProductPublic(SQLModel):
    id: int
    name: str
    series: str
    price: Decimal
    active: bool
    version: int


class LostReasonCreate(SQLModel):
    key: str
    name_en: str
    name_pl: str
    position: int | None = None  # last when not given
    active: bool = True


class LostReasonUpdate(Update):
    name_en: str | None = None
    name_pl: str | None = None
    position: int | None = None
    active: bool | None = None


class LostReasonPublic(SQLModel):
    id: int
    key: str
    name_en: str
    name_pl: str
    position: int
    active: bool
    version: int


class LostReasonGridRow(SQLModel):
    """One row of the lost-reasons grid: a new reason (id None) or an edited one."""

    id: int | None = None
    expected_version: int | None = None
    key: str
    name_en: str
    name_pl: str
    position: int | None = None
    active: bool = True


class SalesBudgetCreate(SQLModel):
    month: date  # any day of the month; stored as the first
    amount: Amount


class SalesBudgetUpdate(Update):
    amount: Amount | None = None


class SalesBudgetPublic(SQLModel):
    id: int
    month: date
    amount: Decimal
    version: int


# The one list of editable fields per entity: services, forms and grids read these.
STAGE_FIELDS: tuple[str, ...] = tuple(StageDefinitionUpdate.model_fields)
ACCOUNT_FIELDS: tuple[str, ...] = tuple(AccountUpdate.model_fields)
CONTACT_FIELDS: tuple[str, ...] = tuple(ContactUpdate.model_fields)
DEAL_FIELDS: tuple[str, ...] = tuple(DealUpdate.model_fields)
ACTIVITY_FIELDS: tuple[str, ...] = tuple(ActivityUpdate.model_fields)
PRODUCT_FIELDS: tuple[str, ...] = tuple(ProductUpdate.model_fields)
LOST_REASON_FIELDS: tuple[str, ...] = tuple(LostReasonUpdate.model_fields)
