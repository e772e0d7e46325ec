"""crm_impl/core/validation.py under generated input: every validator returns its value or raises
the project's ValidationError (never TypeError, decimal.Overflow, ValueError…), and what it
accepts is what was meant (round trips in both number conventions and both date forms)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_impl.core import validation as v
from crm_impl.core.errors import DomainError, ValidationError
from crm_impl.core.i18n import set_locale
from tests.properties.strategies import hostile_text, hostile_value


def _only_domain_errors(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ValidationError as err:
        assert isinstance(err.message(), str) and err.message()  # translates without a KeyError
        return err


@given(hostile_value, st.sampled_from([None, "en", "pl"]), st.sampled_from([None, ",", ".", "x"]))
def test_parse_decimal_never_raises_and_is_finite(
    value: Any, locale: str | None, decimal: str | None
) -> None:
    got = v.parse_decimal(value, locale=locale, decimal=decimal)
    assert got is None or (isinstance(got, Decimal) and got.is_finite())


@given(hostile_value, st.booleans(), st.sampled_from(["en", "pl"]))
def test_amount_is_a_cent_value_in_range_or_a_validation_error(value: Any, negative: bool, lang: str) -> None:
    set_locale(lang)
    got = _only_domain_errors(v.amount, value, "field.value", allow_negative=negative)
    if isinstance(got, Decimal):
        assert got.copy_abs() <= v.MAX_AMOUNT and got == got.quantize(Decimal("0.01"))
        assert negative or got >= 0
    _only_domain_errors(v.number, value, "field.value")


@given(st.decimals(min_value=-v.MAX_AMOUNT, max_value=v.MAX_AMOUNT, places=2))
def test_amount_reads_both_conventions(d: Decimal) -> None:
    english = f"{d:,.2f}"  # 1,234,567.89
    polish = english.replace(",", "\u00a0").replace(".", ",")  # 1 234 567,89
    for text, lang in ((english, "en"), (polish, "pl"), (str(d), "en")):
        set_locale(lang)
        assert v.amount(text, "field.value", allow_negative=True) == d, (text, lang)


@given(hostile_value, st.booleans())
def test_day_is_a_date_in_range_none_or_a_validation_error(value: Any, required: bool) -> None:
    got = _only_domain_errors(v.day, value, "field.expected_close", required=required)
    if isinstance(got, date):
        assert v.FIRST_DAY <= got <= v.LAST_DAY
    if got is None:
        assert not required


@given(st.dates(min_value=v.FIRST_DAY, max_value=v.LAST_DAY))
def test_day_reads_iso_and_day_first(d: date) -> None:
    for text in (d.isoformat(), d.strftime("%d.%m.%Y"), d.strftime("%d-%m-%Y"), d.strftime("%d/%m/%Y")):
        assert v.day(text, "field.expected_close") == d
    assert v.day(f" {d.isoformat()} ", "field.x") == d


@given(hostile_value)
def test_text_email_username_nip_choice_raise_only_validation_errors(value: Any) -> None:
    got = _only_domain_errors(v.text, value, "field.name", max_len=20)
    if isinstance(got, str):
        assert 0 < len(got) <= 20
    got = _only_domain_errors(v.email, value)
    if isinstance(got, str):
        assert "@" in got and got == got.lower()
    got = _only_domain_errors(v.username, value)
    if isinstance(got, str):
        assert got == got.lower() and 2 <= len(got) <= 64
    got = _only_domain_errors(v.nip, value)
    if isinstance(got, str):
        assert v.nip_valid(got)
    _only_domain_errors(v.choice, value, "field.stage", ("a", "b"))
    v.nip_valid(value if isinstance(value, str) else None)


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9), st.sampled_from(["", " ", "-"]))
def test_nip_accepts_every_valid_checksum(digits: list[int], sep: str) -> None:
    check = sum(d * w for d, w in zip(digits, (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True)) % 11
    body = "".join(map(str, digits))
    if check == 10:
        with pytest.raises(ValidationError):
            v.nip(body + "0")
        return
    text = f"{body[:3]}{sep}{body[3:6]}{sep}{body[6:8]}{sep}{body[8]}{check}"
    assert v.nip(text) == body + str(check)
    wrong = (check + 1) % 10
    with pytest.raises(ValidationError):
        v.nip(body + str(wrong))


@given(hostile_text)
def test_messages_of_refusals_are_translated(value: str) -> None:
    for lang in ("en", "pl"):
        set_locale(lang)
        try:
            v.amount(value, "field.value")
        except DomainError as err:
            assert "{" not in err.message() or "{" in value
