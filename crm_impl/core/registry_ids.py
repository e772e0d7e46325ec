"""Polish registry numbers of a company besides its NIP: REGON (statistical number, 9 or 14
digits), the bank account (IBAN; a Polish NRB of 26 digits written without "PL" is read as a
Polish IBAN) and the postal code (NN-NNN). Checksums by python-stdnum (`stdnum.pl.regon`,
`stdnum.iban`), never hand-written. Pure (no database): the one rule behind the account
service (`crm_impl.core.validation`), the account import and the data-quality rules.

`normal_*` put a value the way it is stored (spaces and dashes out of numbers, the IBAN in
capitals with its country code, "00 950" / "00950" as "00-950"); anything they cannot make
sense of is returned trimmed, for the `*_valid` checks to refuse or flag.
"""

from __future__ import annotations

import re

from stdnum import iban as std_iban
from stdnum.pl import regon as std_regon

POSTAL_CODE = r"^\d{2}-\d{3}$"  # the stored form; the data-quality rule matches it column-wise
_POSTAL_LOOSE = re.compile(r"(\d{2})\s*[-\u2010-\u2015]?\s*(\d{3})")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.]")


def _compact(value: object) -> str:
    return _SEPARATORS.sub("", "" if value is None else str(value))


def normal_regon(value: object) -> str:
    return _compact(value)


def regon_valid(value: object) -> bool:
    """9 or 14 digits with stdnum's checksum (a 14-digit local-unit REGON checks both parts)."""
    digits = normal_regon(value)
    return bool(re.fullmatch(r"\d{9}|\d{14}", digits)) and bool(std_regon.is_valid(digits))


def normal_iban(value: object) -> str:
    compact = _compact(value).upper()
    if re.fullmatch(r"\d{26}", compact):  # a Polish account number without its country code
        return "PL" + compact
    return compact


def iban_valid(value: object) -> bool:
    """The country's length and format and the ISO 13616 check digits (stdnum.iban)."""
    return bool(std_iban.is_valid(normal_iban(value)))


def iban_display(value: object) -> str:
    """In groups of four ("PL61 1090 1014 …"), as on a bank statement; as stored when invalid."""
    text = "" if value is None else str(value)
    return str(std_iban.format(text)) if text and iban_valid(text) else text


def normal_postal_code(value: object) -> str:
    text = ("" if value is None else str(value)).strip()
    match = _POSTAL_LOOSE.fullmatch(text)
    return f"{match[1]}-{match[2]}" if match else text


def postal_code_valid(value: object) -> bool:
    """In the stored form NN-NNN (`normal_postal_code` first to accept "00950" or "00 950")."""
    return bool(re.fullmatch(POSTAL_CODE, ("" if value is None else str(value)).strip()))
