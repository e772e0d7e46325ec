"""The pipeline's imports: accounts, contacts, products, users (sales teams), deals with their
stage history, ERP settlements and ERP stock levels (`importing_stock`) — field specs and
handlers registered with the shared engine (`crm_impl.importers`), which reads, maps, cleans
and reports; the handlers here resolve the pipeline's references, check the rows, and queue
their writes (`Run.later`: the engine runs them only after the whole file is checked). An
update of an existing account, contact, product or settlement keeps its before/after in the
audit (`Run.changed`); new rows are counted in the run's entry.

Import this module (not the engine) to run a pipeline import: `run_import` and `inspect_file`
are the engine's, with the entities below registered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, func
from sqlmodel import Session, col, select

from crm_impl.core import registry_ids
from crm_impl.core.config import get_settings, local_tz
from crm_impl.core.errors import ConflictError
from crm_impl.core.models import UserAccount, utcnow
from crm_impl.importers.cleaning import Cleaned, FieldSpec, to_decimal
from crm_impl.importers.engine import Columns, Run, insert_columns, inspect_file, reserve_ids, run_import
from crm_impl.importers.registry import EntitySpec, entities, fields, register
from crm_impl.pipeline.models import (
    Account,
    Contact,
    Deal,
    DealProduct,
    ErpBalance,
    LostReason,
    Product,
    StageChange,
    StageDefinition,
)
from crm_impl.pipeline.rules import account_required

# the registry numbers as the account service stores them (a wrong checksum is kept here)
REGISTRY_NORMAL = {
    "regon": registry_ids.normal_regon,
    "iban": registry_ids.normal_iban,
    "postal_code": registry_ids.normal_postal_code,
}


def _per_value(values: pd.Series, fn: Any) -> pd.Series:
    """`fn` once per distinct value, mapped back over the column."""
    lookup = {v: fn(v) for v in values.unique()}
    return values.map(lookup)


IMPORT_ROLES = ("sales_rep", "sales_manager")  # an import may create only these accounts

SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "accounts": (
        FieldSpec("name", "text", True, 200),
        FieldSpec("external_ref", "text", False, 64),
        FieldSpec("nip", "nip", False, 13),
        FieldSpec("sector", "text", False, 80),
        FieldSpec("city", "text", False, 80),
        # optional; stored normalised even with a wrong checksum or form, for data quality to
        # flag (a form refuses them: docs/data_quality.md); too long a value is still refused
        FieldSpec("regon", "text", False, 20),
        FieldSpec("iban", "text", False, 42),
        FieldSpec("postal_code", "text", False, 10),
        FieldSpec("street", "text", False, 120),
        FieldSpec("owner", "ref", False, 120),
    ),
    "contacts": (
        FieldSpec("full_name", "text", True, 120),
        FieldSpec("account", "ref", False, 200),
        FieldSpec("email", "email", False, 254),
        FieldSpec("phone", "phone", False, 40),
        FieldSpec("position", "text", False, 80),
    ),
    "products": (
        FieldSpec("name", "text", True, 120),
        FieldSpec("series", "text", False, 60),
        FieldSpec("price", "money"),
    ),
    "users": (
        FieldSpec("display_name", "text", True, 120),
        FieldSpec("username", "text", False, 64),
        FieldSpec("email", "email", False, 254),
        FieldSpec("role", "text", False, 40),
        FieldSpec("manager", "text", False, 120),
    ),
    "deals": (
        FieldSpec("external_ref", "text", False, 64),
        FieldSpec("title", "text", False, 200),
        FieldSpec("account", "ref", False, 200),
        FieldSpec("stage", "ref", True, 60),
        FieldSpec("owner", "ref", False, 120),
        FieldSpec("product", "ref", False, 120),
        FieldSpec("value", "money"),
        FieldSpec("currency", "text", False, 3),
        FieldSpec("probability", "number"),
        FieldSpec("created", "date"),
        FieldSpec("stage_entered", "date"),
        FieldSpec("closed", "date"),
        FieldSpec("expected_close", "date"),
        FieldSpec("lost_reason", "ref", False, 120),
    ),
    "settlements": (
        FieldSpec("account", "ref", True, 200),
        FieldSpec("as_of", "date", True),
        FieldSpec("receivable", "money"),
        FieldSpec("overdue", "money"),
        FieldSpec("balance", "signed_money"),
    ),
}


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def username_for(display_name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    return (slug or "user")[:56]


def _noon_utc(parsed: pd.Series) -> pd.Series:
    """A date without time -> 12:00 UTC of that day (the same calendar day in every European
    zone); a date with a time -> that local time, in UTC."""
    if parsed.empty:
        return parsed.dt.tz_localize("UTC")
    day = parsed.dt.normalize()
    has_time = (parsed != day) & parsed.notna()
    out = (day + pd.Timedelta(hours=12)).dt.tz_localize("UTC")
    if has_time.any():
        local = parsed[has_time].dt.tz_localize(local_tz(), ambiguous="NaT", nonexistent="shift_forward")
        out[has_time] = local.dt.tz_convert("UTC")
    return out


def _dates(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v.date() for v in series.tolist()]


@dataclass(frozen=True)
class _Stage:
    id: int
    key: str
    kind: str
    position: int


class Lookups:
    """Known values, loaded once per run, keyed case-insensitively."""

    def __init__(self, session: Session) -> None:
        self.session = session
        columns = ["id", "key", "name_en", "name_pl", "kind", "position", "probability"]
        rows = session.exec(select(StageDefinition).order_by(col(StageDefinition.position))).all()
        self.stages = pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)
        self.stage_by_name: dict[str, int] = {}
        for row in self.stages.to_dict("records"):
            for name in (row["name_pl"], row["name_en"], row["key"]):
                self.stage_by_name[str(name).lower()] = int(row["id"])
        self.stage_choices = list(self.stages["name_en"]) + list(self.stages["key"])
        stages = [
            _Stage(int(r["id"]), str(r["key"]), str(r["kind"]), int(r["position"]))
            for r in self.stages.to_dict("records")
        ]
        # the one rule the deal service applies too (crm_impl.pipeline.rules)
        self.account_required_ids = [s.id for s in stages if account_required(s, stages)]
        self.users: dict[str, int] = {}
        self.user_names: list[str] = []
        for uid, uname, dname in session.execute(
            select(col(UserAccount.id), col(UserAccount.username), col(UserAccount.display_name))
        ).all():
            self.add_user(uid, uname, dname)
        self.accounts: dict[str, int] = {}
        self.account_names: list[str] = []
        for aid, name, ref in session.execute(
            select(col(Account.id), col(Account.name), col(Account.external_ref))
        ).all():
            self.add_account(aid, name, ref)
        self.products: dict[str, tuple[int, Decimal]] = {}
        for pid, name, price in session.execute(
            select(col(Product.id), col(Product.name), col(Product.price))
        ).all():
            self.products[name.lower()] = (pid, Decimal(price or 0))
        self.product_names = [n for (n,) in session.execute(select(col(Product.name))).all()]
        self.reasons: dict[str, str] = {}
        for key, en, pl in session.execute(
            select(col(LostReason.key), col(LostReason.name_en), col(LostReason.name_pl))
        ).all():
            for name in (pl, en, key):
                self.reasons[name.lower()] = key
        self.reason_choices = list(self.reasons)

    def add_user(self, uid: int, username: str, display_name: str) -> None:
        for name in (display_name, username):
            if name:
                self.users.setdefault(name.lower(), uid)
        self.user_names.append(display_name or username)

    def add_account(self, aid: int, name: str, ref: str | None) -> None:
        self.accounts.setdefault(name.lower(), aid)
        if ref:
            self.accounts[ref.lower()] = aid
        self.account_names.append(name)


PipelineRun = Run[Lookups]
Updates = list[tuple[int, int, dict[str, Any]]]  # (id, version as checked, changed fields)


def _ensure_user(run: PipelineRun, display_name: str, role: str) -> tuple[int, bool]:
    """An existing user by name or username, else a new account without a usable password
    (an administrator sets one before that person signs in). Called while writing."""
    existing = run.lookups.users.get(display_name.lower())
    if existing is not None and existing >= 0:  # -1: counted while checking, not created yet
        return existing, False
    base = username_for(display_name)
    name, n = base, 2
    taken = run.session.execute(
        select(col(UserAccount.username)).where(col(UserAccount.username).like(f"{base}%"))
    ).scalars()
    taken_set = {t.lower() for t in taken}
    while name in taken_set or len(name) < 2:
        name, n = f"{base}{n}", n + 1
    user = UserAccount(
        username=name,
        password_hash="",
        display_name=display_name,
        roles=[role],
        locale=get_settings().locale,
    )
    run.session.add(user)
    run.session.flush()
    user_id = _id(user.id)
    run.lookups.users[display_name.lower()] = user_id
    run.lookups.add_user(user_id, name, display_name)
    run.audit.setdefault("users", []).append(name)
    return user_id, True


def _id(value: int | None) -> int:
    if value is None:  # pragma: no cover - flushed rows have ids
        raise RuntimeError("row has no id after flush")
    return int(value)


def _loaded(run: PipelineRun, model: type[Any], ids: list[int]) -> dict[int, Any]:
    """Existing rows by id, one query per chunk."""
    if not ids:
        return {}
    rows = run.session.exec(select(model).where(col(model.id).in_(ids))).all()
    return {int(r.id): r for r in rows}


def _apply_updates(run: PipelineRun, model: type[Any], entity: str, updates: Updates) -> None:
    """Apply checked changes to existing rows and keep their before/after for the audit. The
    version seen while checking must still be the row's (else: changed by someone else in
    between; the ORM's version check catches what happens after this read)."""
    current = _loaded(run, model, [u[0] for u in updates])
    for row_id, version, changed in updates:
        row = current.get(row_id)
        if row is None or (version and getattr(row, "version", version) != version):
            raise ConflictError()
        before = {k: getattr(row, k) for k in changed}
        for k, v in changed.items():
            setattr(row, k, v)
        run.session.add(row)
        run.changed(entity, row_id, before, changed)


def _accounts(run: PipelineRun, c: Cleaned, write: bool) -> None:
    owners = run.resolve(c, "owner", run.lookups.users, run.lookups.user_names, "user")
    name = c.values["name"]
    ref = c.values.get("external_ref", pd.Series("", index=name.index))
    key = ref.where(ref != "", name).str.lower()
    run.duplicates(c, key, run.sources.get("external_ref") or run.sources["name"])
    valid = ~c.sink.bad
    existing_ids = key.map(run.lookups.accounts)
    current = _loaded(run, Account, [int(a) for a in existing_ids[valid].dropna().unique()])
    registry = {
        column: _per_value(c.values[column], normal)
        for column, normal in REGISTRY_NORMAL.items()
        if column in c.values
    }
    new: list[dict[str, Any]] = []
    updates: Updates = []
    for idx in valid[valid].index:
        aid = existing_ids[idx]
        values = {
            "name": name[idx],
            "external_ref": ref[idx] or None,
            "nip": c.values["nip"][idx] if "nip" in c.values else None,
            "sector": c.values["sector"][idx] if "sector" in c.values else None,
            "city": c.values["city"][idx] if "city" in c.values else None,
            **{column: normal[idx] for column, normal in registry.items()},
            "street": c.values["street"][idx] if "street" in c.values else None,
            "owner_id": None if pd.isna(owners[idx]) else int(owners[idx]),
        }
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if pd.isna(aid):
            run.report.created += 1
            new.append(values)
            continue
        row = current[int(aid)]
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            run.report.updated += 1
            updates.append((int(aid), row.version, changed))
        else:
            run.report.skipped += 1
    if write and (new or updates):
        run.later(lambda p: _write_accounts(run, *p), (new, updates))


def _write_accounts(run: PipelineRun, new: list[dict[str, Any]], updates: Updates) -> None:
    run.session.add_all([Account(**values) for values in new])
    _apply_updates(run, Account, "account", updates)
    run.session.flush()


def _products(run: PipelineRun, c: Cleaned, write: bool) -> None:
    name = c.values["name"]
    run.duplicates(c, name.str.lower(), run.sources["name"])
    valid = ~c.sink.bad
    prices = to_decimal(c.amounts["price"], c.values["price"]) if "price" in c.values else None
    known_ids = [k[0] for k in (run.lookups.products.get(n.lower()) for n in name[valid]) if k]
    current = _loaded(run, Product, known_ids)
    new: list[dict[str, Any]] = []
    updates: Updates = []
    for pos, idx in enumerate(c.sink.bad.index):
        if not valid[idx]:
            continue
        price = prices[pos] if prices else None
        series = c.values["series"][idx] if "series" in c.values else ""
        known = run.lookups.products.get(name[idx].lower())
        if known is None:
            run.report.created += 1
            new.append({"name": name[idx], "series": series, "price": price or Decimal("0")})
            continue
        row = current[known[0]]
        changes = {"series": series or None, "price": price}
        changed = {k: v for k, v in changes.items() if v is not None and getattr(row, k) != v}
        if not changed:
            run.report.skipped += 1
            continue
        run.report.updated += 1
        updates.append((known[0], row.version, changed))
    if write and (new or updates):
        run.later(lambda p: _write_products(run, *p), (new, updates))


def _write_products(run: PipelineRun, new: list[dict[str, Any]], updates: Updates) -> None:
    run.session.add_all([Product(**values) for values in new])
    _apply_updates(run, Product, "product", updates)
    run.session.flush()


def _users(run: PipelineRun, c: Cleaned, write: bool) -> None:
    name = c.values["display_name"]
    role = c.values.get("role", pd.Series("", index=name.index)).replace("", "sales_rep")
    bad_role = ~role.isin(IMPORT_ROLES)
    c.sink.flag(
        bad_role, run.sources.get("role", ""), "imports.error.role", role, roles=", ".join(IMPORT_ROLES)
    )
    run.duplicates(c, name.str.lower(), run.sources["display_name"])
    valid = ~c.sink.bad
    manager = c.values.get("manager", pd.Series("", index=name.index))
    todo: list[tuple[str, str]] = []
    for idx in valid[valid].index:
        boss, agent = manager[idx], name[idx]
        if boss and boss.lower() not in run.lookups.users:
            run.report.extra["managers_created"] = run.report.extra.get("managers_created", 0) + 1
            _new_user(run, boss, "sales_manager", todo)
        if agent.lower() in run.lookups.users:
            run.report.skipped += 1
        else:
            run.report.created += 1
            _new_user(run, agent, role[idx], todo)
    if write and todo:
        run.later(lambda p: _write_users(run, p), todo)


def _new_user(run: PipelineRun, display_name: str, role: str, todo: list[tuple[str, str]]) -> None:
    """Remember the name for the rest of the run, so it is counted (and created) once."""
    run.lookups.users[display_name.lower()] = -1
    todo.append((display_name, role))


def _write_users(run: PipelineRun, todo: list[tuple[str, str]]) -> None:
    for display_name, role in todo:
        _ensure_user(run, display_name, role)
    run.session.flush()


def _contacts(run: PipelineRun, c: Cleaned, write: bool) -> None:
    accounts = run.resolve(c, "account", run.lookups.accounts, run.lookups.account_names, "account")
    name = c.values["full_name"]
    email = c.values.get("email", pd.Series("", index=name.index))
    key = email.where(email != "", name.str.lower() + "|" + accounts.astype(str))
    run.duplicates(c, key.str.lower(), run.sources.get("email") or run.sources["full_name"])
    valid = ~c.sink.bad
    new: list[dict[str, Any]] = []
    updates: Updates = []
    for idx in valid[valid].index:
        account_id = None if pd.isna(accounts[idx]) else int(accounts[idx])
        query = select(Contact)
        if email[idx]:
            query = query.where(col(Contact.email) == email[idx])
        else:
            query = query.where(
                func.lower(col(Contact.full_name)) == name[idx].lower(), col(Contact.account_id) == account_id
            )
        existing = run.session.execute(query.limit(1)).scalars().first()
        values = {
            "full_name": name[idx],
            "account_id": account_id,
            "email": email[idx] or None,
            "phone": c.values["phone"][idx] if "phone" in c.values else None,
            "position": c.values["position"][idx] if "position" in c.values else None,
        }
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if existing is None:
            run.report.created += 1
            new.append(values)
            continue
        changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if not changed:
            run.report.skipped += 1
            continue
        run.report.updated += 1
        updates.append((_id(existing.id), existing.version, changed))
    if write and (new or updates):
        run.later(lambda p: _write_contacts(run, *p), (new, updates))


def _write_contacts(run: PipelineRun, new: list[dict[str, Any]], updates: Updates) -> None:
    run.session.add_all([Contact(**values) for values in new])
    _apply_updates(run, Contact, "contact", updates)
    run.session.flush()


def _settlements(run: PipelineRun, c: Cleaned, write: bool) -> None:
    accounts = run.resolve(c, "account", run.lookups.accounts, run.lookups.account_names, "account")
    as_of = c.values["as_of"]
    key = accounts.astype(str) + "|" + as_of.dt.strftime("%Y-%m-%d").fillna("")
    run.duplicates(c, key.where(accounts.notna(), ""), run.sources["account"])
    valid = ~c.sink.bad
    money = {
        f: to_decimal(c.amounts[f], c.values[f]) if f in c.values else [None] * len(as_of)
        for f in ("receivable", "overdue", "balance")
    }
    new: list[dict[str, Any]] = []
    updates: Updates = []
    for pos, idx in enumerate(as_of.index):
        if not valid[idx]:
            continue
        day = as_of[idx].date()
        account_id = int(accounts[idx])
        values = {f: money[f][pos] or Decimal("0") for f in money}
        existing = (
            run.session.execute(
                select(col(ErpBalance.id)).where(
                    col(ErpBalance.account_id) == account_id, col(ErpBalance.as_of) == day
                )
            )
            .scalars()
            .first()
        )
        if existing is None:
            run.report.created += 1
            new.append({"account_id": account_id, "as_of": day, **values})
            continue
        run.report.updated += 1
        updates.append((int(existing), 0, values))
    if write and (new or updates):
        run.later(lambda p: _write_settlements(run, *p), (new, updates))


def _write_settlements(run: PipelineRun, new: list[dict[str, Any]], updates: Updates) -> None:
    now = utcnow()
    run.session.add_all([ErpBalance(imported_at=now, **values) for values in new])
    _apply_updates(run, ErpBalance, "settlements", [(i, 0, {**v, "imported_at": now}) for i, _, v in updates])
    run.session.flush()


def _deals(run: PipelineRun, c: Cleaned, write: bool) -> None:
    lk, sink = run.lookups, c.sink
    index = sink.bad.index
    empty = pd.Series("", index=index)
    stage_id = run.resolve(c, "stage", lk.stage_by_name, lk.stage_choices, "stage")
    account_id = run.resolve(c, "account", lk.accounts, lk.account_names, "account")
    create_owners = bool(run.option("create_missing_owners"))
    owner_id = run.resolve(c, "owner", lk.users, lk.user_names, "user", allow_unknown=create_owners)
    product = run.resolve(
        c, "product", {k: v[0] for k, v in lk.products.items()}, lk.product_names, "product"
    )
    reason = run.resolve(c, "lost_reason", lk.reasons, lk.reason_choices, "lost_reason")

    stages = lk.stages.set_index("id")
    kind = stage_id.map(stages["kind"])
    position = stage_id.map(stages["position"])
    needs_account = stage_id.isin(lk.account_required_ids)
    account_col = run.sources.get("account") or run.sources["stage"]
    sink.flag(
        needs_account & account_id.isna() & (c.values.get("account", empty) == ""),
        account_col,
        "imports.error.account_required",
        c.values.get("stage", empty),
    )
    now = pd.Timestamp(utcnow())
    no_date = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")

    def utc(name: str) -> pd.Series:
        return _noon_utc(c.values[name]) if name in c.values else no_date

    given, closed, entered = utc("created"), utc("closed"), utc("stage_entered")
    # no creation date: the earliest date the row has (its close or stage entry); a row with no
    # date at all keeps it unknown (NaT, stored as NULL) and is left out of every dated figure,
    # rather than being placed at the import time
    earliest = pd.concat([closed, entered], axis=1).min(axis=1)
    created = given.fillna(earliest.where(earliest < now))
    is_closed = kind.isin(["won", "lost"])
    closed_col = run.sources.get("closed") or run.sources["stage"]
    sink.flag(is_closed & closed.isna(), closed_col, "imports.error.closed_required", c.values["stage"])
    sink.flag(
        closed.notna() & given.notna() & (closed < given),
        closed_col,
        "imports.error.date_order",
        c.text.get("closed", empty),
    )
    probability = c.values.get("probability")
    if probability is not None:
        probability = probability.where(probability <= 1, probability / 100)
        sink.flag(
            (probability < 0) | (probability > 1),
            run.sources["probability"],
            "imports.error.probability",
            probability,
        )
    currency = (
        c.values.get("currency", empty)
        .str.upper()
        .replace("", run.option("currency") or get_settings().currency)
    )
    if "currency" in c.values:
        sink.flag(
            ~currency.str.fullmatch(r"[A-Z]{3}"), run.sources["currency"], "imports.error.currency", currency
        )

    ref = c.values.get("external_ref", empty)
    run.duplicates(c, ref.str.lower(), run.sources.get("external_ref", ""))
    valid = ~sink.bad
    exists = pd.Series(False, index=index)
    wanted = [r for r in ref[valid & (ref != "")].tolist()]
    if wanted:
        found = set(
            run.session.execute(
                select(col(Deal.external_ref)).where(col(Deal.external_ref).in_(wanted))
            ).scalars()
        )
        exists = ref.isin(found) & (ref != "")
    run.report.skipped += int((valid & exists).sum())
    todo = valid & ~exists
    n = int(todo.sum())
    run.report.created += n
    if undated := int((todo & created.isna()).sum()):
        run.count("undated_deals", undated)
    owner_names = c.values.get("owner", empty)
    new_owners: list[str] = []
    if create_owners:  # unknown owners become users (counted once, created when writing)
        unknown = owner_names[todo & (owner_id.isna() | (owner_id < 0)) & (owner_names != "")]
        for who in unknown.unique():
            if who.lower() not in lk.users:
                lk.users[who.lower()] = -1
                new_owners.append(who)
                run.count("users_created")
    if not write or n == 0:
        return
    if new_owners:
        run.later(lambda names: _write_owners(run, names), new_owners)

    # value: the file's, or (option) the catalogue price when an unclosed deal has none
    value_num = c.values.get("value", pd.Series(np.nan, index=index))
    value_txt = c.amounts.get("value", pd.Series("", index=index))
    price_by_id = {pid: price for pid, price in lk.products.values()}
    product_price = product.map(price_by_id)
    if run.option("value_from_product_price"):
        fill = (value_num.isna() | (value_num == 0)) & product_price.notna() & (kind != "won")
        value_num = value_num.mask(fill, product_price.astype(float))
        value_txt = value_txt.mask(fill, product_price.astype(str))

    # history: entered the first stage when created, the current stage when closed / entered
    first_key = run.option("first_stage")
    first_row = lk.stages[lk.stages["key"] == first_key] if first_key else lk.stages.iloc[:0]
    if first_row.empty:
        first_row = lk.stages.iloc[:1]
    first_id, first_pos = int(first_row["id"].iloc[0]), int(first_row["position"].iloc[0])
    goes_through = (stage_id != first_id) & (is_closed | (position > first_pos))
    entry = pd.Series(first_id, index=index).where(goes_through, stage_id)
    last_at = closed.where(is_closed, entered.fillna(created)).where(goes_through, created)

    titles = _titles(run, c, ref, index)
    d = pd.DataFrame(
        {
            "title": titles,
            "account_id": account_id,
            "stage_id": stage_id,
            "owner_id": owner_id.where(owner_id >= 0),
            "owner_name": owner_names,
            "value_num": value_num,
            "value_txt": value_txt,
            "currency": currency,
            "probability": probability if probability is not None else np.nan,
            "expected_close": c.values.get("expected_close", pd.Series(pd.NaT, index=index)),
            "lost_reason": reason.where(kind == "lost"),
            "external_ref": ref,
            "created": created,
            "last_at": last_at,
            "closed": closed.where(is_closed),
            "entry": entry,
            "through": goes_through,
            "product": product,
            "price": product_price,
        }
    )[todo]
    run.later(lambda frame: _write_deals(run, frame, create_owners), d)


def _write_owners(run: PipelineRun, names: list[str]) -> None:
    for who in names:
        _ensure_user(run, who, "sales_rep")


def _write_deals(run: PipelineRun, d: pd.DataFrame, create_owners: bool) -> None:
    """One chunk of checked deals: deals, their stage history and product lines, each by one
    executemany (ids reserved up front)."""
    ints = lambda s: [None if pd.isna(v) else int(v) for v in s.tolist()]  # noqa: E731
    if create_owners:  # owners created in this run have their ids only now
        users = run.lookups.users
        made = d["owner_name"].str.lower().map(lambda name: users.get(name, -1)).astype(float)
        d["owner_id"] = d["owner_id"].fillna(made.where(made >= 0))
    n = len(d)
    values = to_decimal(d["value_txt"].fillna(""), d["value_num"].fillna(np.nan))
    # timestamps stay Series: insert_columns converts them for the driver in one vectorised step
    created_at, last_at = d["created"].reset_index(drop=True), d["last_at"].reset_index(drop=True)
    # an undated deal: its rot timer starts at the import (someone has to pick it up from now)
    touched_at = last_at.fillna(pd.Timestamp(utcnow()))
    owners = ints(d["owner_id"])
    nothing: list[Any] = [None] * n
    deals = {
        "version": [1] * n,
        "title": d["title"].tolist(),
        "account_id": ints(d["account_id"]),
        "contact_id": nothing,
        "value": [Decimal("0.00") if v is None else v for v in values],
        "currency": d["currency"].tolist(),
        "stage_id": ints(d["stage_id"]),
        "probability": [None if pd.isna(p) else float(p) for p in d["probability"].tolist()],
        "expected_close": _dates(d["expected_close"]),
        "owner_id": owners,
        "lost_reason": [None if pd.isna(v) else v for v in d["lost_reason"].tolist()],
        "promised_delivery": nothing,
        "actual_delivery": nothing,
        "parent_deal_id": nothing,
        "external_ref": [r or None for r in d["external_ref"].tolist()],
        "created_at": created_at,
        "stage_entered_at": last_at,
        "last_touch_at": touched_at,
        "closed_at": d["closed"].reset_index(drop=True),
    }
    conn = run.session.connection()
    ids = reserve_ids(conn, _table(Deal), deals)
    # history: every deal enters its first stage when created; one that went on, its stage later
    # (an undated deal has no recorded entry: when it entered its stage is unknown)
    entries, through = ints(d["entry"]), d["through"].tolist()
    on = [i for i, t in enumerate(through) if t]
    dated = np.flatnonzero(created_at.notna().to_numpy()).tolist()
    stage_ids = deals["stage_id"]
    changes: Columns = {
        "deal_id": [ids[i] for i in dated] + [ids[i] for i in on],
        "from_stage_id": [None for _ in dated] + [entries[i] for i in on],
        "to_stage_id": [entries[i] for i in dated] + [stage_ids[i] for i in on],
        "at": pd.concat([created_at.iloc[dated], last_at.iloc[on]], ignore_index=True),
        "by_user_id": [owners[i] for i in dated] + [owners[i] for i in on],
    }
    insert_columns(conn, _table(StageChange), changes)
    products, prices = ints(d["product"]), d["price"].tolist()
    with_product = [i for i, pid in enumerate(products) if pid is not None]
    insert_columns(
        conn,
        _table(DealProduct),
        {
            "deal_id": [ids[i] for i in with_product],
            "product_id": [products[i] for i in with_product],
            "quantity": [Decimal("1")] * len(with_product),
            "unit_price": [Decimal(str(prices[i])) for i in with_product],
        },
    )
    run.count("stage_changes", len(changes["deal_id"]))


def _titles(run: PipelineRun, c: Cleaned, ref: pd.Series, index: pd.Index) -> pd.Series:
    """The file's title, else the mapping's template (e.g. "{product} · {account}"), else the ref."""
    empty = pd.Series("", index=index)
    given = c.values.get("title", empty)
    template = run.option("title")
    if template:
        made = empty
        for token in re.split(r"(\{\w+\})", str(template)):
            field = re.fullmatch(r"\{(\w+)\}", token)
            made = made + (c.values.get(field.group(1), empty).astype(str) if field else token)
        made = made.str.strip(" ·-–,")
    else:
        made = ref
    title = given.where(given != "", made)
    return title.where(title != "", ref).replace("", "—").str.slice(0, 200)


HANDLERS = {
    "accounts": _accounts,
    "contacts": _contacts,
    "products": _products,
    "users": _users,
    "deals": _deals,
    "settlements": _settlements,
}
for _entity, _handler in HANDLERS.items():
    register(_entity, EntitySpec(fields=SPECS[_entity], handler=_handler, lookups=Lookups, deferred=True))

from crm_impl.pipeline import importing_stock as _stock  # noqa: E402,F401  (registers "stock")

ENTITIES = tuple(SPECS)

__all__ = [
    "ENTITIES",
    "IMPORT_ROLES",
    "SPECS",
    "Lookups",
    "entities",
    "fields",
    "inspect_file",
    "run_import",
    "username_for",
]
