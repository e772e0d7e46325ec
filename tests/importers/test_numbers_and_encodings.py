"""One number parser for forms and imports (validation.parse_decimal / amount, and the
importer's cleaning), and encoding detection among UTF-8 (with and without BOM), UTF-16,
Windows-1250 and ISO-8859-2 — which differ from each other in ą ś ź."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from sqlmodel import select

from crm_impl.core import validation
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.importers import mapping as mapping_mod
from crm_impl.importers.cleaning import parse_numbers, to_decimal
from crm_impl.importers.reading import detect_encoding, open_source
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import Account


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    set_locale("en")
    yield
    set_locale("en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,50", "1234.50"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),  # NBSP, as Polish Excel writes it
        ("1\u202f234,56", "1234.56"),  # narrow NBSP (CLDR pl)
        ("1,234.50", "1234.50"),
        ("-12,5", "-12.50"),
        ("1234.5", "1234.50"),
        ("1.234.567", "1234567.00"),
        ("12,00 zł", "12.00"),
        ("PLN 99.9", "99.90"),
        ("0,126", "0.13"),  # "0" is never a thousands group
    ],
)
@pytest.mark.parametrize("lang", ["en", "pl"])
def test_both_conventions_in_either_language(text, expected, lang):
    assert validation.amount(text, "pipeline.field.value", allow_negative=True, locale=lang) == Decimal(
        expected
    )


def test_the_language_or_an_explicit_separator_decides_1_234():
    assert validation.amount("1,234", "f", locale="en") == Decimal("1234.00")
    assert validation.amount("1,234", "f", locale="pl") == Decimal("1.23")
    assert validation.amount("1.234", "f", locale="pl") == Decimal("1234.00")
    assert validation.amount("1.234", "f", locale="en") == Decimal("1.23")
    assert validation.amount("1,234", "f", locale="en", decimal=",") == Decimal("1.23")
    assert validation.amount("1.234", "f", locale="pl", decimal=".") == Decimal("1.23")
    set_locale("pl")  # a form without an explicit language: the user's
    assert validation.amount("1,234", "f") == Decimal("1.23")


@pytest.mark.parametrize("garbage", ["abc", "1,2,3", "12..5", "1.234,5,6", "--1", "1-2", "0x10", "", "—"])
def test_garbage_is_refused_naming_the_field(garbage):
    with pytest.raises(ValidationError) as err:
        validation.amount(garbage, "pipeline.field.value")
    assert err.value.key == "error.number"
    assert err.value.message().startswith("Value:")


@pytest.mark.parametrize("special", ["NaN", "nan", "inf", "-Infinity", "sNaN", float("nan"), float("inf")])
def test_nan_and_infinity_are_refused(special):
    with pytest.raises(ValidationError) as err:
        validation.amount(special, "pipeline.field.value")
    assert err.value.key == "error.number"


def test_overflow_is_refused_as_too_large_in_polish_too():
    with pytest.raises(ValidationError) as err:
        validation.amount("1E+999999999999", "pipeline.field.value")
    assert err.value.key == "error.too_large" and err.value.message() == "Value is too large."
    set_locale("pl")
    with pytest.raises(ValidationError) as err:
        validation.amount("1E+999999999999", "pipeline.field.value")
    assert "Wartość" in err.value.message()


def test_numbers_and_decimals_pass_through():
    assert validation.amount(Decimal("12.346"), "f") == Decimal("12.35")
    assert validation.amount(7, "f") == Decimal("7.00")
    assert validation.amount(0.1, "f") == Decimal("0.10")


def test_the_importer_uses_the_same_parser():
    cells = pd.Series(["1.234,50", "1 234,56", "1,234", "-12,5", "x", "", "1E+999999999999", "NaN"])
    for lang, ambiguous in (("en", 1234.0), ("pl", 1.234)):
        numbers, exact = parse_numbers(cells, "auto", lang)
        assert numbers[:4].tolist() == [1234.5, 1234.56, ambiguous, -12.5]
        assert numbers[[4, 5, 7]].isna().all() and numbers[6] == float("inf")
        money = to_decimal(exact, numbers)
        assert money[:4] == [
            Decimal("1234.50"),
            Decimal("1234.56"),
            validation.amount("1,234", "f", locale=lang),
            Decimal("-12.50"),
        ]
        assert money[4:] == [None] * 4
    numbers, _ = parse_numbers(cells, ",", "en")
    assert numbers[2] == 1.234


def test_an_import_rejects_overflow_and_nan_per_row(engine, make_user):
    actor = make_user("imp", "sales_manager")
    data = b'name,price\nA,1E+999999999999\nB,NaN\nC,"1.234,50"\n'
    with UnitOfWork(engine) as uow:
        report = imports.run_import(session=uow.session, actor=actor, entity="products", data=data)
    assert sorted((e.line, e.key) for e in report.errors) == [
        (2, "imports.error.too_large"),
        (3, "imports.error.number"),
    ]
    assert report.valid_rows == 1


# --- encodings -----------------------------------------------------------------------------------

POLISH = "nazwa;miasto\nZażółć gęślą jaźń;Łódź\nŹródło Śląsk;Ąę\nźdźbło;ść ńó\n"
ENCODINGS = [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("utf-16", "utf-16"),  # Excel's "Unicode text": little-endian with BOM
    ("utf-16-be", "utf-16"),  # written with its BOM below
    ("cp1250", "cp1250"),
    ("iso-8859-2", "iso-8859-2"),
]


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be":
        return "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
    return text.encode(encoding)


def test_cp1250_and_iso_8859_2_differ_exactly_where_it_matters():
    differ = {c for c in "ąśźĄŚŹ" if c.encode("cp1250") != c.encode("iso-8859-2")}
    same = {c for c in "żłóęćńŻŁÓĘĆŃ" if c.encode("cp1250") == c.encode("iso-8859-2")}
    assert differ == set("ąśźĄŚŹ") and len(same) == 12


@pytest.mark.parametrize(("encoding", "detected"), ENCODINGS)
def test_each_encoding_is_detected_and_decoded(engine, session, make_user, encoding, detected):
    data = _encode(POLISH, encoding)
    assert detect_encoding(data) == detected
    source = open_source(data)
    assert source.header == ["nazwa", "miasto"] and source.delimiter == ";"
    rows = [r for chunk in source.chunks() for r in chunk.rows]
    assert rows == [["Zażółć gęślą jaźń", "Łódź"], ["Źródło Śląsk", "Ąę"], ["źdźbło", "ść ńó"]]
    actor = make_user("imp", "sales_manager")
    mapping = mapping_mod.loads('[accounts.columns]\nname = "nazwa"\ncity = "miasto"\n')
    with UnitOfWork(engine) as uow:
        report = imports.run_import(
            session=uow.session, actor=actor, entity="accounts", data=data, mapping=mapping, dry_run=False
        )
        uow.commit()
    assert (report.encoding, report.rejected, report.created) == (detected, 0, 3)
    assert sorted(session.exec(select(Account.city)).all()) == sorted(["Łódź", "Ąę", "ść ńó"])


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("miasto\nŁódź\n", "iso-8859-2"), ("a;b\nąś;ź\n", "iso-8859-2"), ("a;b\nąś;ź\n", "cp1250")],
)
def test_short_samples_tell_the_two_code_pages_apart(text, encoding):
    assert detect_encoding(text.encode(encoding)) == encoding


def test_an_explicit_encoding_still_wins():
    data = "miasto\nŹródło\n".encode("iso-8859-2")
    assert open_source(data).encoding == "iso-8859-2"
    forced = open_source(data, encoding="cp1250")
    assert forced.encoding == "cp1250"
    assert [r for c in forced.chunks() for r in c.rows] == [["Źródło".encode("iso-8859-2").decode("cp1250")]]
    mapping = mapping_mod.loads('[options]\nencoding = "cp1250"\n')
    assert imports.inspect_file(data, mapping=mapping, entity="accounts").encoding == "cp1250"
