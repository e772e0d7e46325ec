"""Imports of accounts, contacts, products, users (sales teams), deals with their stage history,
and ERP settlements — plus the read side of exports.

One call = one run: `require("import.run")` -> read the file in chunks -> clean and validate
each chunk vectorised -> resolve references -> write the valid rows (unless dry run) -> one
audit entry with the counts. The caller owns the transaction: a dry run writes nothing, a
strict run writes nothing when any row is bad (the file is checked completely first), and a
row is written whole (deal, its stage changes and product line) or not at all. Individual rows
of a bulk import are not audited one by one; the run's entry carries the counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from crm_impl.core import audit
from crm_impl.core.config import get_settings, local_tz
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.importers import mapping as mapping_mod
from crm_impl.importers.cleaning import Cleaned, ErrorSink, FieldSpec, clean, suggest, to_decimal
from crm_impl.importers.mapping import ENTITIES, Mapping
from crm_impl.importers.reading import Input, Source, open_source
from crm_impl.importers.report import ImportReport, RowError
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

Progress = Callable[[int, int], None]
IMPORT_ROLES = ("sales_rep", "sales_manager")  # an import may create only these accounts

SPECS: dict[str, list[FieldSpec]] = {
    "accounts": [
        FieldSpec("name", "text", True, 200),
        FieldSpec("external_ref", "text", False, 64),
        FieldSpec("nip", "nip", False, 13),
        FieldSpec("sector", "text", False, 80),
        FieldSpec("city", "text", False, 80),
        FieldSpec("owner", "ref", False, 120),
    ],
    "contacts": [
        FieldSpec("full_name", "text", True, 120),
        FieldSpec("account", "ref", False, 200),
        FieldSpec("email", "email", False, 254),
        FieldSpec("phone", "phone", False, 40),
        FieldSpec("position", "text", False, 80),
    ],
    "products": [
        FieldSpec("name", "text", True, 120),
        FieldSpec("series", "text", False, 60),
        FieldSpec("price", "money"),
    ],
    "users": [
        FieldSpec("display_name", "text", True, 120),
        FieldSpec("username", "text", False, 64),
        FieldSpec("email", "email", False, 254),
        FieldSpec("role", "text", False, 40),
        FieldSpec("manager", "text", False, 120),
    ],
    "deals": [
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
    ],
    "settlements": [
        FieldSpec("account", "ref", True, 200),
        FieldSpec("as_of", "date", True),
        FieldSpec("receivable", "money"),
        FieldSpec("overdue", "money"),
        FieldSpec("balance", "signed_money"),
    ],
}


def fields(entity: str) -> list[FieldSpec]:
    if entity not in SPECS:
        raise ValidationError("imports.error.entity", entity=entity)
    return SPECS[entity]


def resolve_columns(entity: str, header: list[str], mapping: Mapping) -> dict[str, str]:
    """field -> source column: the mapping's choice, else a column named like the field.
    Raises when a required field has no column or a mapped column is not in the file."""
    em = mapping.for_entity(entity)
    lower = {h.lower(): h for h in header}
    sources: dict[str, str] = {}
    missing: list[str] = []
    for spec in fields(entity):
        chosen = em.columns.get(spec.name, "")
        if chosen:
            if chosen not in header:
                missing.append(chosen)
                continue
            sources[spec.name] = chosen
        elif spec.name in lower:
            sources[spec.name] = lower[spec.name]
        elif spec.required:
            missing.append(spec.name)
    if missing:
        raise ValidationError(
            "imports.error.missing_columns", columns=", ".join(missing), found=", ".join(header)
        )
    return sources


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


def _py(series: pd.Series) -> list[Any]:
    values = series.dt.to_pydatetime().tolist() if len(series) else []
    return [None if v is pd.NaT or v is None else v for v in values]


def _dates(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v.date() for v in series.tolist()]


class _Lookups:
    """Known values, loaded once per run, keyed case-insensitively."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.stages = pd.DataFrame(
            session.execute(
                select(
                    StageDefinition.id,
                    StageDefinition.key,
                    StageDefinition.name_en,
                    StageDefinition.name_pl,
                    StageDefinition.kind,
                    StageDefinition.position,
                    StageDefinition.probability,
                ).order_by(StageDefinition.position)
            ).all(),
            columns=["id", "key", "name_en", "name_pl", "kind", "position", "probability"],
        )
        self.stage_by_name: dict[str, int] = {}
        for row in self.stages.itertuples():
            for name in (row.name_pl, row.name_en, row.key):
                self.stage_by_name[str(name).lower()] = int(row.id)
        self.stage_choices = list(self.stages["name_en"]) + list(self.stages["key"])
        self.users: dict[str, int] = {}
        self.user_names: list[str] = []
        for uid, uname, dname in session.execute(
            select(UserAccount.id, UserAccount.username, UserAccount.display_name)
        ).all():
            self._add_user(uid, uname, dname)
        self.accounts: dict[str, int] = {}
        self.account_names: list[str] = []
        for aid, name, ref in session.execute(select(Account.id, Account.name, Account.external_ref)).all():
            self.add_account(aid, name, ref)
        self.products: dict[str, tuple[int, Decimal]] = {}
        for pid, name, price in session.execute(select(Product.id, Product.name, Product.price)).all():
            self.products[name.lower()] = (pid, Decimal(price or 0))
        self.product_names = [n for (n,) in session.execute(select(Product.name)).all()]
        self.reasons: dict[str, str] = {}
        for key, en, pl in session.execute(
            select(LostReason.key, LostReason.name_en, LostReason.name_pl)
        ).all():
            for name in (pl, en, key):
                self.reasons[name.lower()] = key
        self.reason_choices = list(self.reasons)

    def _add_user(self, uid: int, username: str, display_name: str) -> None:
        for name in (display_name, username):
            if name:
                self.users.setdefault(name.lower(), uid)
        self.user_names.append(display_name or username)

    def add_account(self, aid: int, name: str, ref: str | None) -> None:
        self.accounts.setdefault(name.lower(), aid)
        if ref:
            self.accounts[ref.lower()] = aid
        self.account_names.append(name)


class _Run:
    """State of one import run shared by the entity handlers."""

    def __init__(
        self, session: Session, actor: Actor, entity: str, mapping: Mapping, report: ImportReport
    ) -> None:
        self.session = session
        self.actor = actor
        self.entity = entity
        self.mapping = mapping
        self.report = report
        self.lk = _Lookups(session)
        self.seen: dict[str, int] = {}  # key -> first line, for duplicates inside the file
        self.created_users: list[str] = []
        self._suggestions: dict[tuple[str, str], str | None] = {}

    def option(self, name: str) -> Any:
        return self.mapping.option(self.entity, name)

    def resolve(
        self,
        c: Cleaned,
        field: str,
        known: dict[str, Any],
        choices: list[str],
        what: str,
        *,
        allow_unknown: bool = False,
    ) -> pd.Series:
        """Map cleaned text to ids; unknown non-empty values become errors with a suggestion."""
        text = c.values.get(field)
        if text is None:
            return pd.Series(None, index=c.sink.bad.index, dtype=object)
        ids = text.str.lower().map(known)
        unknown = (text != "") & ids.isna()
        if unknown.any() and not allow_unknown:
            suggestions = {}
            for value in text[unknown].unique():
                key = (what, value)
                if key not in self._suggestions:
                    self._suggestions[key] = suggest(value, choices)
                suggestions[value] = self._suggestions[key]
            column = self.sources[field]
            c.sink.flag(unknown, column, "imports.error.unknown_ref", text, suggestions, what=what)
        return ids

    def duplicates(self, c: Cleaned, keys: pd.Series, column: str) -> None:
        """Flag a key seen earlier in the file (keys: lower-case text, '' = no key)."""
        lines = c.sink.lines
        dup_in_chunk = keys.duplicated() & (keys != "")
        first_seen = keys.map(self.seen)
        earlier = first_seen.notna() | dup_in_chunk
        if earlier.any():
            firsts = keys.map(dict(zip(keys[::-1], lines[::-1], strict=True)))
            first = first_seen.fillna(firsts)
            for idx in earlier[earlier].index:
                c.sink.flag(
                    pd.Series(c.sink.bad.index == idx, index=c.sink.bad.index),
                    column,
                    "imports.error.duplicate_in_file",
                    keys,
                    first=int(first[idx]),
                )
        fresh = (keys != "") & ~earlier
        self.seen.update(zip(keys[fresh], lines[fresh], strict=True))

    def ensure_user(self, display_name: str, role: str) -> tuple[int, bool]:
        """An existing user by name or username, else a new account without a usable password
        (an administrator sets one before that person signs in)."""
        existing = self.lk.users.get(display_name.lower())
        if existing is not None:
            return existing, False
        base = username_for(display_name)
        name, n = base, 2
        taken = self.session.execute(
            select(UserAccount.username).where(UserAccount.username.like(f"{base}%"))
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
        self.session.add(user)
        self.session.flush()
        self.lk._add_user(int(user.id), name, display_name)  # type: ignore[arg-type]
        self.created_users.append(name)
        return int(user.id), True  # type: ignore[arg-type]


# --- entity handlers: take the cleaned chunk, add errors, and (when writing) write valid rows --


def _upsert_rows(c: Cleaned, valid: pd.Series, names: list[str]) -> list[dict[str, Any]]:
    frame = pd.DataFrame({n: c.values[n] for n in names if n in c.values})
    return frame[valid].to_dict(orient="records")  # type: ignore[return-value]


def _accounts(run: _Run, c: Cleaned, write: bool) -> None:
    owners = run.resolve(c, "owner", run.lk.users, run.lk.user_names, "user")
    name = c.values["name"]
    ref = c.values.get("external_ref", pd.Series("", index=name.index))
    key = ref.where(ref != "", name).str.lower()
    run.duplicates(c, key, run.sources.get("external_ref") or run.sources["name"])
    valid = ~c.sink.bad
    existing_ids = key.map(run.lk.accounts)
    for idx in valid[valid].index:
        aid = existing_ids[idx]
        values = {
            "name": name[idx],
            "external_ref": ref[idx] or None,
            "nip": c.values["nip"][idx] if "nip" in c.values else None,
            "sector": c.values["sector"][idx] if "sector" in c.values else None,
            "city": c.values["city"][idx] if "city" in c.values else None,
            "owner_id": None if pd.isna(owners[idx]) else int(owners[idx]),
        }
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if pd.isna(aid):
            run.report.created += 1
            if write:
                account = Account(**values)
                run.session.add(account)
                run.session.flush()
                run.lk.add_account(int(account.id), account.name, account.external_ref)  # type: ignore[arg-type]
        else:
            account = run.session.get(Account, int(aid))
            changed = {k: v for k, v in values.items() if getattr(account, k) != v}
            if changed:
                run.report.updated += 1
                if write:
                    for k, v in changed.items():
                        setattr(account, k, v)
                    run.session.add(account)
            else:
                run.report.skipped += 1
    if write:
        run.session.flush()


def _products(run: _Run, c: Cleaned, write: bool) -> None:
    name = c.values["name"]
    run.duplicates(c, name.str.lower(), run.sources["name"])
    valid = ~c.sink.bad
    prices = to_decimal(c.amounts["price"], c.values["price"]) if "price" in c.values else None
    for pos, idx in enumerate(c.sink.bad.index):
        if not valid[idx]:
            continue
        price = prices[pos] if prices else None
        series = c.values["series"][idx] if "series" in c.values else ""
        known = run.lk.products.get(name[idx].lower())
        if known is None:
            run.report.created += 1
            if write:
                product = Product(name=name[idx], series=series, price=price or Decimal("0"))
                run.session.add(product)
                run.session.flush()
                run.lk.products[name[idx].lower()] = (int(product.id), product.price)  # type: ignore[arg-type]
                run.lk.product_names.append(product.name)
            continue
        product = run.session.get(Product, known[0])
        changes = {"series": series or None, "price": price}
        changed = {k: v for k, v in changes.items() if v is not None and getattr(product, k) != v}
        if not changed:
            run.report.skipped += 1
            continue
        run.report.updated += 1
        if write:
            for k, v in changed.items():
                setattr(product, k, v)
            run.session.add(product)
            run.lk.products[name[idx].lower()] = (known[0], product.price)
    if write:
        run.session.flush()


def _users(run: _Run, c: Cleaned, write: bool) -> None:
    name = c.values["display_name"]
    role = c.values.get("role", pd.Series("", index=name.index)).replace("", "sales_rep")
    bad_role = ~role.isin(IMPORT_ROLES)
    c.sink.flag(
        bad_role, run.sources.get("role", ""), "imports.error.role", role, roles=", ".join(IMPORT_ROLES)
    )
    run.duplicates(c, name.str.lower(), run.sources["display_name"])
    valid = ~c.sink.bad
    manager = c.values.get("manager", pd.Series("", index=name.index))
    for idx in valid[valid].index:
        boss, agent = manager[idx], name[idx]
        if boss and boss.lower() not in run.lk.users:
            run.report.extra["managers_created"] = run.report.extra.get("managers_created", 0) + 1
            _new_user(run, boss, "sales_manager", write)
        if agent.lower() in run.lk.users:
            run.report.skipped += 1
        else:
            run.report.created += 1
            _new_user(run, agent, role[idx], write)
    if write:
        run.session.flush()


def _new_user(run: _Run, display_name: str, role: str, write: bool) -> None:
    if write:
        run.ensure_user(display_name, role)
    else:  # remember for the rest of the dry run, so a name is counted once
        run.lk.users[display_name.lower()] = -1


def _contacts(run: _Run, c: Cleaned, write: bool) -> None:
    accounts = run.resolve(c, "account", run.lk.accounts, run.lk.account_names, "account")
    name = c.values["full_name"]
    email = c.values.get("email", pd.Series("", index=name.index))
    key = email.where(email != "", name.str.lower() + "|" + accounts.astype(str))
    run.duplicates(c, key.str.lower(), run.sources.get("email") or run.sources["full_name"])
    valid = ~c.sink.bad
    for idx in valid[valid].index:
        account_id = None if pd.isna(accounts[idx]) else int(accounts[idx])
        query = select(Contact)
        if email[idx]:
            query = query.where(Contact.email == email[idx])
        else:
            query = query.where(
                func.lower(Contact.full_name) == name[idx].lower(), Contact.account_id == account_id
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
            if write:
                run.session.add(Contact(**values))
            continue
        changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if not changed:
            run.report.skipped += 1
            continue
        run.report.updated += 1
        if write:
            for k, v in changed.items():
                setattr(existing, k, v)
            run.session.add(existing)
    if write:
        run.session.flush()


def _settlements(run: _Run, c: Cleaned, write: bool) -> None:
    accounts = run.resolve(c, "account", run.lk.accounts, run.lk.account_names, "account")
    as_of = c.values["as_of"]
    key = accounts.astype(str) + "|" + as_of.dt.strftime("%Y-%m-%d").fillna("")
    run.duplicates(c, key.where(accounts.notna(), ""), run.sources["account"])
    valid = ~c.sink.bad
    money = {
        f: to_decimal(c.amounts[f], c.values[f]) if f in c.values else [None] * len(as_of)
        for f in ("receivable", "overdue", "balance")
    }
    now = utcnow()
    for pos, idx in enumerate(as_of.index):
        if not valid[idx]:
            continue
        day = as_of[idx].date()
        account_id = int(accounts[idx])
        values = {f: money[f][pos] or Decimal("0") for f in money}
        existing = (
            run.session.execute(
                select(ErpBalance).where(ErpBalance.account_id == account_id, ErpBalance.as_of == day)
            )
            .scalars()
            .first()
        )
        if existing is None:
            run.report.created += 1
            if write:
                run.session.add(ErpBalance(account_id=account_id, as_of=day, imported_at=now, **values))
            continue
        run.report.updated += 1
        if write:
            for k, v in values.items():
                setattr(existing, k, v)
            existing.imported_at = now
            run.session.add(existing)
    if write:
        run.session.flush()


def _deals(run: _Run, c: Cleaned, write: bool) -> None:
    lk, sink = run.lk, c.sink
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
    open_positions = sorted(stages.loc[stages["kind"] == "open", "position"])
    account_from = open_positions[2] if len(open_positions) > 2 else 10**6
    account_col = run.sources.get("account") or run.sources["stage"]
    sink.flag(
        (position >= account_from) & account_id.isna() & (c.values.get("account", empty) == ""),
        account_col,
        "imports.error.account_required",
        c.values.get("stage", empty),
    )
    now = pd.Timestamp(utcnow())
    created = _noon_utc(c.values["created"]) if "created" in c.values else pd.Series(pd.NaT, index=index)
    created = created.fillna(now)
    closed = _noon_utc(c.values["closed"]) if "closed" in c.values else pd.Series(pd.NaT, index=index)
    entered = (
        _noon_utc(c.values["stage_entered"])
        if "stage_entered" in c.values
        else pd.Series(pd.NaT, index=index)
    )
    is_closed = kind.isin(["won", "lost"])
    closed_col = run.sources.get("closed") or run.sources["stage"]
    sink.flag(is_closed & closed.isna(), closed_col, "imports.error.closed_required", c.values["stage"])
    sink.flag(
        closed.notna() & (closed < created),
        closed_col,
        "imports.error.date_order",
        c.values.get("closed", empty),
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
            run.session.execute(select(Deal.external_ref).where(Deal.external_ref.in_(wanted))).scalars()
        )  # type: ignore[union-attr]
        exists = ref.isin(found) & (ref != "")
    run.report.skipped += int((valid & exists).sum())
    todo = valid & ~exists
    n = int(todo.sum())
    run.report.created += n
    if not write or n == 0:
        if not write and create_owners:
            unknown = c.values.get("owner", empty)[
                todo & owner_id.isna() & (c.values.get("owner", empty) != "")
            ]
            for who in unknown.unique():
                lk.users[who.lower()] = -1
                run.report.extra["users_created"] = run.report.extra.get("users_created", 0) + 1
        return

    if create_owners and "owner" in c.values:
        names = c.values["owner"]
        for who in names[todo & owner_id.isna() & (names != "")].unique():
            _, made = run.ensure_user(who, "sales_rep")
            if made:
                run.report.extra["users_created"] = run.report.extra.get("users_created", 0) + 1
        owner_id = names.str.lower().map(lk.users)

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
            "owner_id": owner_id,
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
    ints = lambda s: [None if pd.isna(v) else int(v) for v in s.tolist()]  # noqa: E731
    values = to_decimal(d["value_txt"].fillna(""), d["value_num"].fillna(np.nan))
    created_py, last_py, closed_py = _py(d["created"]), _py(d["last_at"]), _py(d["closed"])
    owners = ints(d["owner_id"])
    rows = [
        {
            "version": 1,
            "title": title,
            "account_id": acc,
            "contact_id": None,
            "value": val if val is not None else Decimal("0.00"),
            "currency": cur,
            "stage_id": sid,
            "probability": None if pd.isna(prob) else float(prob),
            "expected_close": exp,
            "owner_id": own,
            "lost_reason": lr,
            "promised_delivery": None,
            "actual_delivery": None,
            "parent_deal_id": None,
            "external_ref": er or None,
            "created_at": cr,
            "stage_entered_at": la,
            "last_touch_at": la,
            "closed_at": cl,
        }
        for title, acc, val, cur, sid, prob, exp, own, lr, er, cr, la, cl in zip(
            d["title"].tolist(),
            ints(d["account_id"]),
            values,
            d["currency"].tolist(),
            ints(d["stage_id"]),
            d["probability"].tolist(),
            _dates(d["expected_close"]),
            owners,
            [None if pd.isna(v) else v for v in d["lost_reason"].tolist()],
            d["external_ref"].tolist(),
            created_py,
            last_py,
            closed_py,
            strict=True,
        )
    ]
    conn = run.session.connection()
    table = Deal.__table__  # type: ignore[attr-defined]
    ids = _insert_with_ids(conn, table, rows)
    entries, stage_ids, through = ints(d["entry"]), ints(d["stage_id"]), d["through"].tolist()
    changes: list[dict[str, Any]] = []
    for deal_id, entry_id, sid, thru, cr, la, own in zip(
        ids, entries, stage_ids, through, created_py, last_py, owners, strict=True
    ):
        changes.append(
            {"deal_id": deal_id, "from_stage_id": None, "to_stage_id": entry_id, "at": cr, "by_user_id": own}
        )
        if thru:
            changes.append(
                {
                    "deal_id": deal_id,
                    "from_stage_id": entry_id,
                    "to_stage_id": sid,
                    "at": la,
                    "by_user_id": own,
                }
            )
    conn.execute(insert(StageChange.__table__), changes)  # type: ignore[attr-defined]
    lines = [
        {"deal_id": deal_id, "product_id": pid, "quantity": Decimal("1"), "unit_price": Decimal(str(price))}
        for deal_id, pid, price in zip(ids, ints(d["product"]), d["price"].tolist(), strict=True)
        if pid is not None
    ]
    if lines:
        conn.execute(insert(DealProduct.__table__), lines)  # type: ignore[attr-defined]
    run.report.extra["stage_changes"] = run.report.extra.get("stage_changes", 0) + len(changes)


def _insert_with_ids(conn: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with ids reserved up front, so one executemany does it (RETURNING in row
    order would fall back to one statement per row on SQLite). PostgreSQL: ids from the
    sequence. SQLite: the first row's insert takes the write lock, so no one else can insert
    until commit and the following ids are free."""
    if conn.dialect.name == "postgresql":
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        ids = list(
            conn.execute(
                text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                {"s": seq, "n": len(rows)},
            ).scalars()
        )
        rest = rows
    else:
        first = int(conn.execute(insert(table).returning(table.c.id), rows[:1]).scalar_one())
        ids = list(range(first, first + len(rows)))
        rest = rows[1:]
    for row, new_id in zip(rest, ids[len(ids) - len(rest) :], strict=True):
        row["id"] = new_id
    if rest:
        conn.execute(insert(table), rest)
    return ids


def _titles(run: _Run, c: Cleaned, ref: pd.Series, index: pd.Index) -> pd.Series:
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


HANDLERS: dict[str, Callable[[_Run, Cleaned, bool], None]] = {
    "accounts": _accounts,
    "contacts": _contacts,
    "products": _products,
    "users": _users,
    "deals": _deals,
    "settlements": _settlements,
}


def inspect_file(data: Input, *, mapping: Mapping | None = None, entity: str = "deals") -> Source:
    """How the file will be read (format, encoding, delimiter, columns) — no permission needed,
    nothing read from the database."""
    mapping = mapping or Mapping()
    return open_source(
        data,
        encoding=mapping.option(entity, "encoding"),
        delimiter=mapping.option(entity, "delimiter"),
        sheet=mapping.option(entity, "sheet") or None,
    )


def run_import(
    *,
    session: Session,
    actor: Actor,
    entity: str,
    data: Input,
    mapping: Mapping | None = None,
    dry_run: bool = True,
    strict: bool = False,
    progress: Progress | None = None,
    filename: str = "",
    chunk_size: int = 5000,
) -> ImportReport:
    """Import one file. Dry run (default): check everything, write nothing. Commit: write every
    valid row; strict: write nothing unless every row is valid. Flushes, never commits."""
    require(actor, "import.run")
    if entity not in ENTITIES:
        raise ValidationError("imports.error.entity", entity=entity)
    mapping = mapping or Mapping()
    source = inspect_file(data, mapping=mapping, entity=entity)
    report = ImportReport(
        entity=entity,
        file_format=source.file_format,
        encoding=source.encoding,
        delimiter=source.delimiter,
        dry_run=dry_run,
        strict=strict,
    )
    run = _Run(session, actor, entity, mapping, report)
    run.sources = resolve_columns(entity, source.header, mapping)  # type: ignore[attr-defined]
    write_now = not dry_run and not strict
    _pass(run, source, write_now, progress, chunk_size)
    if strict and not dry_run and report.error_count == 0:
        report.created = report.updated = report.skipped = report.valid_rows = report.total_rows = 0
        report.extra = {}
        run = _Run(session, actor, entity, mapping, report)
        run.sources = resolve_columns(entity, source.header, mapping)  # type: ignore[attr-defined]
        write_now = True
        _pass(run, source, True, progress, chunk_size)
    report.written = write_now
    if write_now:
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            entity="import",
            entity_id=entity,
            action="import",
            after={
                "file": Path(filename).name if filename else "",
                "format": report.file_format,
                "rows": report.total_rows,
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "rejected": report.rejected,
                "strict": strict,
                **report.extra,
                **({"users": run.created_users} if run.created_users else {}),
            },
        )
        session.flush()
    elif not dry_run:  # strict run refused: the report says nothing was written
        report.created = report.updated = report.skipped = 0
    return report


def _pass(run: _Run, source: Source, write: bool, progress: Progress | None, chunk_size: int) -> None:
    report, em = run.report, run.mapping.for_entity(run.entity)
    specs = fields(run.entity)
    used = sorted(set(run.sources.values()))  # type: ignore[attr-defined]
    positions = [source.header.index(col) for col in used]
    options = {
        "null_values": [str(v) for v in run.option("null_values") or []],
        "decimal": str(run.option("decimal") or "auto"),
        "date_format": str(run.option("date_format") or "auto"),
    }
    for chunk in source.chunks(chunk_size):
        for err in chunk.errors:
            report.add(err)
        report.error_count += len(chunk.errors)
        report.total_rows += len(chunk.rows) + len(chunk.errors)
        if chunk.rows:
            df = pd.DataFrame([[row[p] for p in positions] for row in chunk.rows], columns=used, dtype=object)
            cleaned = clean(df, chunk.lines, specs, run.sources, em.values, **options)  # type: ignore[attr-defined]
            HANDLERS[run.entity](run, cleaned, write)
            bad = cleaned.sink.bad
            report.error_count += int(bad.sum())
            report.valid_rows += int((~bad).sum())
            for err in cleaned.sink.errors:
                report.add(err)
        if progress:
            progress(report.total_rows, max(source.total_rows, report.total_rows))


# --- exports (read side) -------------------------------------------------------------------------


def deals_frame(*, session: Session, actor: Actor) -> pd.DataFrame:
    """Every deal with readable names, for export (CSV/XLSX) and the CLI."""
    require(actor, "pipeline.read")
    owner = UserAccount.__table__.alias("owner")  # type: ignore[attr-defined]
    deal, account, stage = Deal.__table__, Account.__table__, StageDefinition.__table__  # type: ignore[attr-defined]
    query = (
        select(
            deal.c.id,
            deal.c.external_ref,
            deal.c.title,
            account.c.name.label("account"),
            stage.c.key.label("stage"),
            stage.c.kind.label("stage_kind"),
            owner.c.username.label("owner"),
            deal.c.value,
            deal.c.currency,
            deal.c.probability,
            deal.c.expected_close,
            deal.c.created_at,
            deal.c.stage_entered_at,
            deal.c.closed_at,
            deal.c.lost_reason,
        )
        .select_from(
            deal.outerjoin(account, deal.c.account_id == account.c.id)
            .join(stage, deal.c.stage_id == stage.c.id)
            .outerjoin(owner, deal.c.owner_id == owner.c.id)
        )
        .order_by(deal.c.id)
    )
    rows = session.connection().execute(query).all()
    columns = [c.name for c in query.selected_columns]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    products = (
        session.connection()
        .execute(
            select(DealProduct.deal_id, Product.name).join(Product, DealProduct.product_id == Product.id)  # type: ignore[arg-type]
        )
        .all()
    )
    if products:
        names = pd.DataFrame(products, columns=["id", "product"]).groupby("id")["product"].agg(", ".join)
        frame["product"] = frame["id"].map(names).fillna("")
    else:
        frame["product"] = ""
    for col in ("created_at", "stage_entered_at", "closed_at"):
        frame[col] = (
            pd.to_datetime(frame[col], utc=True, format="ISO8601")
            .dt.tz_convert(local_tz())
            .dt.tz_localize(None)
        )
    frame["value"] = frame["value"].astype(float)
    return frame


def pipeline_report_frames(*, session: Session, actor: Actor, today: Any = None) -> dict[str, pd.DataFrame]:
    """The pipeline report (crm_impl.services.pipeline_report) as two tables: summary and stages."""
    require(actor, "pipeline.read")
    from crm_impl.pipeline.queries.report import pipeline_report

    report = pipeline_report(session=session, actor=actor, today=today)
    summary: list[dict[str, Any]] = []
    for key, value in report.items():
        if key == "stages":
            continue
        if isinstance(value, dict):
            summary.extend({"metric": f"{key}.{k}", "value": v} for k, v in value.items())
        else:
            summary.append({"metric": key, "value": value})
    frame = pd.DataFrame(summary, columns=["metric", "value"])
    frame["value"] = frame["value"].map(lambda v: "" if v is None else str(v))  # one type per column
    return {"summary": frame, "stages": pd.DataFrame(report.get("stages", []))}


def load_mapping(text_or_path: str | Path) -> Mapping:
    if isinstance(text_or_path, Path):
        return mapping_mod.load(text_or_path)
    return mapping_mod.loads(text_or_path)


__all__ = [
    "SPECS",
    "ErrorSink",
    "ImportReport",
    "RowError",
    "deals_frame",
    "fields",
    "inspect_file",
    "load_mapping",
    "pipeline_report_frames",
    "resolve_columns",
    "run_import",
]
