"""The import engine's parsers under generated input (crm_impl/importers: reading, cleaning,
mapping): any bytes, any mapping text and option, any cell text give a result or a translated
DomainError, never a traceback."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_impl.core.errors import DomainError
from crm_impl.importers import cleaning, mapping, reading
from tests.properties.strategies import HOSTILE, hostile_text, known_crash

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1250", "iso-8859-2", "latin-1"]
SEPARATORS = [",", ";", "\t", "|", ":", " "]
NEWLINES = ["\n", "\r\n", "\r"]


def _refused_or(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DomainError as err:
        assert err.message()
        return err
    except Exception as err:
        if known_crash(err):
            return err
        raise


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A small CSV: hostile cells, any separator, quoting or none, any line ending and encoding."""
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(hostile_text, min_size=0, max_size=width + 1), min_size=1, max_size=6))
    sep, newline = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(NEWLINES))
    if draw(st.booleans()):
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator=newline).writerows(rows)
        text = out.getvalue()
    else:  # hand-made: unbalanced quotes, ragged rows
        text = newline.join(sep.join(r) for r in rows)
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors=draw(st.sampled_from(["replace", "ignore"])))


def _read_all(data: bytes, **options: Any) -> None:
    source = reading.open_source(data, **options)
    assert source.header and source.file_format == "csv"
    for chunk in source.chunks(size=3):
        assert len(chunk.lines) == len(chunk.rows)
        for row in chunk.rows:
            assert all(isinstance(cell, str) for cell in row)


@given(csv_files())
def test_any_csv_reads_or_is_refused(data: bytes) -> None:
    _refused_or(_read_all, data)


@given(st.binary(max_size=300))
def test_any_bytes_read_or_are_refused(data: bytes) -> None:
    _refused_or(_read_all, data)


@given(
    csv_files(),
    st.sampled_from([*ENCODINGS, "auto", "rot13", "zlib", "nope"]),
    st.sampled_from([*SEPARATORS, "auto", "ab", "\\t"]),
)
def test_options_a_mapping_accepts_read_or_refuse_the_file(
    data: bytes, encoding: str, delimiter: str
) -> None:
    """What `mapping.loads` lets through is safe to read with; what it refuses it names."""
    toml = f"[options]\nencoding = {encoding!r}\ndelimiter = {delimiter!r}\n".replace("'", '"')
    loaded = _refused_or(mapping.loads, toml.replace("\t", "\\t"))
    if isinstance(loaded, DomainError):
        return
    opts = {k: loaded.option("accounts", k) for k in ("encoding", "delimiter")}
    _refused_or(_read_all, data, **opts)


@given(st.text(max_size=300))
def test_any_mapping_text_loads_or_is_refused(text: str) -> None:
    _refused_or(mapping.loads, text)


@given(
    st.dictionaries(
        st.sampled_from(
            ["date_format", "decimal", "delimiter", "encoding", "null_values", "sheet", "locale"]
        ),
        st.one_of(hostile_text, st.integers(), st.booleans(), st.lists(hostile_text, max_size=3)),
        max_size=4,
    ),
    st.lists(hostile_text, min_size=1, max_size=8),
)
def test_any_option_value_is_named_or_works(options: dict[str, Any], cells: list[str]) -> None:
    m = mapping.Mapping(options=options)
    refused = _refused_or(mapping.check_options, m, "deals")
    if isinstance(refused, DomainError):
        return
    series = pd.Series(cells, dtype=object)
    dates = cleaning.parse_dates(series, str(m.option("deals", "date_format")))
    ok = dates.dropna()
    assert ((ok >= cleaning.FIRST_DATE) & (ok <= cleaning.LAST_DATE)).all()
    numbers, exact = cleaning.parse_numbers(series, str(m.option("deals", "decimal")))
    assert len(numbers) == len(exact) == len(cells)


@given(st.lists(hostile_text, min_size=1, max_size=10), st.sampled_from(["auto", *cleaning.DATE_FORMATS]))
def test_parse_dates_stay_in_range(cells: list[str], fmt: str) -> None:
    got = cleaning.parse_dates(pd.Series(cells, dtype=object), fmt)
    assert len(got) == len(cells)
    ok = got.dropna()
    assert ((ok >= cleaning.FIRST_DATE) & (ok <= cleaning.LAST_DATE)).all()


@given(
    st.lists(hostile_text, min_size=1, max_size=10),
    st.sampled_from(["auto", ",", "."]),
    st.sampled_from([None, "en", "pl"]),
)
def test_parse_numbers_agree_with_parse_decimal(cells: list[str], decimal: str, locale: str | None) -> None:
    from crm_impl.core.validation import parse_decimal

    numbers, exact = cleaning.parse_numbers(pd.Series(cells, dtype=object), decimal, locale)
    sep = decimal if decimal in (",", ".") else None
    for cell, text in zip(cells, exact, strict=True):
        want = parse_decimal(cell, locale=locale, decimal=sep) if cell != "" else None
        assert (text or None) == (None if want is None else str(want))


@given(st.binary(max_size=200))
def test_detected_encoding_is_one_we_read(sample: bytes) -> None:
    got = _refused_or(reading.detect_encoding, sample)
    assert isinstance(got, DomainError) or got in reading.ENCODINGS


@given(st.text(max_size=200))
def test_detected_delimiter_is_one_we_know(text: str) -> None:
    assert reading.detect_delimiter(text) in reading.DELIMITERS


@given(
    st.dictionaries(
        st.sampled_from(["name", "city", "nip", "external_ref"]), st.sampled_from(HOSTILE[:30]), max_size=3
    ),
    st.dictionaries(st.sampled_from(HOSTILE[:30]), st.sampled_from(HOSTILE[:30]), max_size=3),
)
def test_mapping_dumps_and_loads_round_trip(columns: dict[str, str], values: dict[str, str]) -> None:
    m = mapping.Mapping(
        entities={"accounts": mapping.EntityMapping(columns=columns, values={"city": values})}
    )
    again = _refused_or(mapping.loads, mapping.dumps(m))
    assert not isinstance(again, DomainError), again
    assert again.for_entity("accounts").columns == columns
    assert again.for_entity("accounts").values.get("city", {}) == values


@pytest.mark.parametrize("data", [b"name,city\nA,B\n", b"00", "name\n\u0105".encode("utf-16-le")])
def test_utf16_named_in_the_mapping_without_a_bom_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(DomainError):
        _read_all(data, encoding="utf-16")
