"""Validity: e-mail and phone shapes, Polish postal codes (NN-NNN), NIP, REGON and IBAN checksums
(python-stdnum). REGON, IBAN and the postal code are `crm_impl.core.registry_ids`, the checks the
account service refuses with and the import stores anyway (for these rules to flag). The NIP
check is the one the services and the importer use, `crm_impl.core.validation.nip_valid`: ten
digits and stdnum's checksum, restated here because that module pulls in the database; a test
keeps the two equal. Empty cells are the completeness rules' business and pass here."""

from __future__ import annotations

import re

import pandas as pd
from stdnum.pl import nip as std_nip

from crm_impl.core import registry_ids as ids
from crm_impl.data_quality.rules.base import Context, Finding, as_utc, digits, filled, per_value, rule, text

EMAIL = r"^[^@\s<>]+@[^@\s<>.][^@\s<>]*\.[A-Za-z]{2,}$"
PHONE_CHARS = r"^\+?[\d\s().\-/]+$"
POSTAL_CODE = ids.POSTAL_CODE  # the stored form (the account service and the import normalise to it)


def nip_valid(value: object) -> bool:
    digits = _compact(value)
    return bool(re.fullmatch(r"\d{10}", digits)) and bool(std_nip.is_valid(digits))


def _compact(value: object) -> str:
    return re.sub(r"[\s-]", "", str(value))


def _text_check(frame: pd.DataFrame, column: str, valid: pd.Series) -> Finding:
    value = text(frame[column])
    return Finding(filled(frame, column) & ~valid.fillna(False).astype(bool), value)


@rule("account.nip_invalid", "validity", "error", "nip", ("nip",))
def nip_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _text_check(frame, "nip", per_value(text(frame["nip"]), lambda x: nip_valid(str(x))))


@rule("account.regon_invalid", "validity", "error", "regon", ("regon",))
def regon_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _text_check(frame, "regon", per_value(text(frame["regon"]), ids.regon_valid))


@rule("account.iban_invalid", "validity", "error", "iban", ("iban",))
def iban_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _text_check(frame, "iban", per_value(text(frame["iban"]), ids.iban_valid))


@rule("account.postal_code_invalid", "validity", "warning", "postal_code", ("postal_code",))
def postal_code_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = text(frame["postal_code"])
    return _text_check(frame, "postal_code", value.str.fullmatch(POSTAL_CODE))


@rule("contact.email_invalid", "validity", "error", "email", ("email",))
def email_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = text(frame["email"])
    return _text_check(frame, "email", value.str.fullmatch(EMAIL) & (value.str.len() <= 254))


@rule("contact.phone_invalid", "validity", "warning", "phone", ("phone",))
def phone_invalid(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = text(frame["phone"])
    n = digits(value).str.len()
    return _text_check(frame, "phone", value.str.fullmatch(PHONE_CHARS) & (n >= 9) & (n <= 15))


@rule("deal.value_negative", "validity", "error", "value", ("value",))
def value_negative(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = pd.to_numeric(frame["value"], errors="coerce")
    return Finding(value < 0, value)


@rule("deal.dates_out_of_order", "validity", "warning", "expected_close", ("created_at",))
def dates_out_of_order(frame: pd.DataFrame, _ctx: Context) -> Finding:
    """A deal delivered or closed before it was created."""
    created = as_utc(frame["created_at"]).dt.normalize()
    bad = pd.Series(False, index=frame.index)
    value = pd.Series("", index=frame.index, dtype=object)
    for column in ("actual_delivery", "closed_at"):
        if column in frame.columns:
            moment = as_utc(frame[column]).dt.normalize()
            early = moment < created
            value = value.mask(early & ~bad, column)
            bad |= early
    return Finding(bad, value)


RULES = [
    nip_invalid,
    regon_invalid,
    iban_invalid,
    postal_code_invalid,
    email_invalid,
    phone_invalid,
    value_negative,
    dates_out_of_order,
]
