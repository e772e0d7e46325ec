"""Reading CSV and XLSX files as a stream of row chunks, whatever their encoding and delimiter.

CSV: encoding detected from a sample (UTF-8 with or without BOM, UTF-16, Windows-1250 or
ISO-8859-2; see `detect_encoding`) unless the mapping names one, delimiter
from the first lines (`,` `;` or tab). XLSX: openpyxl in read-only mode, formulas kept as text
so an injected `=cmd()` is seen (and rejected) rather than evaluated. Rows come in chunks of
plain strings with their source line numbers; nothing holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crm_impl.core.errors import ValidationError
from crm_impl.importers.report import RowError

if TYPE_CHECKING:
    from openpyxl import Workbook

ENCODINGS = ("utf-8-sig", "utf-8", "utf-16", "cp1250", "iso-8859-2")  # what detect_encoding returns
SINGLE_BYTE = {"cp1250": "cp1250", "iso8859_2": "iso-8859-2"}  # charset-normalizer name -> ours
POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
SAMPLE_BYTES = 1 << 20
MAX_CELL_CHARS = 10_000  # a longer cell is a "huge value": the row is rejected
MAX_FIELD_CHARS = 1_000_000  # a longer field stops the file (the CSV reader's own limit)
MAX_COLUMNS = 500
XLSX_MAGIC = b"PK\x03\x04"

csv.field_size_limit(MAX_FIELD_CHARS)

Input = bytes | str | Path


@dataclass
class Chunk:
    lines: list[int]
    rows: list[list[str]]
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Source:
    data: Input
    file_format: str  # "csv" or "xlsx"
    header: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    total_rows: int = 0  # estimate, for progress

    def chunks(self, size: int = 5000) -> Iterator[Chunk]:
        if self.file_format == "xlsx":
            yield from _xlsx_chunks(self, size)
        else:
            yield from _csv_chunks(self, size)


def _open_binary(data: Input) -> IO[bytes]:
    if isinstance(data, bytes):
        return io.BytesIO(data)
    return open(data, "rb")  # noqa: SIM115 - closed by the caller


def _head(data: Input, n: int = SAMPLE_BYTES) -> bytes:
    with _open_binary(data) as fh:
        return fh.read(n)


def _count_lines(data: Input) -> int:
    """Lines, for the progress estimate: LF (or CRLF) ends a line; in a file without any LF, CR
    does (old Mac files)."""
    lf = cr = 0
    last = b""
    with _open_binary(data) as fh:
        while block := fh.read(1 << 22):
            lf += block.count(b"\n")
            if not lf:
                cr += block.count(b"\r")
            last = block
    count, end = (lf, b"\n") if lf else (cr, b"\r")
    return count + (0 if last.endswith(end) or not last else 1)


def detect_encoding(sample: bytes) -> str:
    """The encoding of a CSV sample, among those a Polish company meets: UTF-8 with or without
    BOM, UTF-16 (with BOM, as Excel's "Unicode text" writes it), Windows-1250 and ISO-8859-2.

    A BOM decides; valid UTF-8 is UTF-8. Otherwise charset-normalizer, restricted to the two
    8-bit code pages, proposes candidates; the two differ exactly in ą ś ź Ą Ś Ź, so the one
    that reads more Polish letters wins (a short sample is often "clean" in both), then the
    one charset-normalizer finds less chaotic."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ValidationError("imports.error.binary")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # threshold 1.0: CSV (digits, separators) looks "messy" to the default 0.2 and would be refused
    matches = from_bytes(sample, cp_isolation=list(SINGLE_BYTE), threshold=1.0)
    scored = [
        (
            sum(ch in POLISH_LETTERS for ch in sample.decode(m.encoding, errors="replace")),
            -m.chaos,
            m.encoding,
        )
        for m in matches
        if m.encoding in SINGLE_BYTE
    ]
    if not scored:
        raise ValidationError("imports.error.encoding")
    return SINGLE_BYTE[max(scored)[2]]


def detect_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if lines and not text.endswith(("\n", "\r")) and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    best, best_score = ",", (0.0, 1)
    for delim in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        score = (counts.count(mode) / len(counts), mode)
        if mode > 1 and score > best_score:
            best, best_score = delim, score
    return best


def _unique_header(raw: list[Any]) -> list[str]:
    header: list[str] = []
    for i, name in enumerate(raw, start=1):
        text = str(name if name is not None else "").strip().lstrip("\ufeff") or f"column_{i}"
        base, n = text, 2
        while text in header:
            text, n = f"{base}_{n}", n + 1
        header.append(text)
    while header and header[-1].startswith("column_"):  # trailing empty header cells
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise ValidationError("imports.error.too_many_columns", max=MAX_COLUMNS)
    return header


def open_source(
    data: Input, *, encoding: str = "auto", delimiter: str = "auto", sheet: str | None = None
) -> Source:
    """Look at the file and say how to read it; raises a translated ValidationError when it is
    not a readable table (binary, wrong encoding, empty)."""
    sample = _head(data)
    if not sample.strip():
        raise ValidationError("imports.error.empty_file")
    if sample.startswith(XLSX_MAGIC):
        return _open_xlsx(data, sheet)
    enc = detect_encoding(sample) if encoding in ("", "auto") else encoding
    try:
        codecs.lookup(enc)
    except (LookupError, ValueError) as err:  # ValueError: a NUL in the name
        raise ValidationError("imports.error.encoding") from err
    try:
        text = codecs.getincrementaldecoder(enc)().decode(sample, final=False)
    except UnicodeError as err:  # decode errors, and utf-16 without its BOM
        raise ValidationError("imports.error.decode", encoding=enc, line=1) from err
    delim = detect_delimiter(text) if delimiter in ("", "auto") else delimiter.replace("\\t", "\t")
    # newline="": CR, LF and CRLF all end a line (the reader of the rows does the same)
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delim), [])
    header = _unique_header(first)
    if not header:
        raise ValidationError("imports.error.empty_file")
    total = max(_count_lines(data) - 1, 0)
    return Source(data, "csv", header, encoding=enc, delimiter=delim, total_rows=total)


def _csv_chunks(source: Source, size: int) -> Iterator[Chunk]:
    width = len(source.header)
    with _open_binary(source.data) as raw:
        text = io.TextIOWrapper(raw, encoding=source.encoding or "utf-8", newline="")
        reader = csv.reader(text, delimiter=source.delimiter or ",")
        chunk = Chunk([], [])
        start = 1
        try:
            next(reader, None)  # header
            start = reader.line_num + 1
            for row in reader:
                line = start
                start = reader.line_num + 1
                if len(row) != width:
                    if len(row) > width and not any(c.strip() for c in row[width:]):
                        row = row[:width]
                    elif not any(c.strip() for c in row):
                        continue
                    else:
                        chunk.errors.append(
                            RowError(
                                line,
                                "",
                                "imports.error.field_count",
                                params={"expected": width, "found": len(row)},
                            )
                        )
                        continue
                if not any(row):
                    continue
                chunk.lines.append(line)
                chunk.rows.append(row)
                if len(chunk.rows) >= size:
                    yield chunk
                    chunk = Chunk([], [])
        except UnicodeError as err:  # decode errors, and utf-16 without its BOM
            raise ValidationError("imports.error.decode", encoding=source.encoding, line=start) from err
        except csv.Error as err:
            key = "imports.error.huge_field" if "field larger" in str(err) else "imports.error.csv"
            raise ValidationError(key, line=start, detail=str(err), max=MAX_FIELD_CHARS) from err
        if chunk.rows or chunk.errors:
            yield chunk


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _workbook(data: Input) -> Workbook:
    from openpyxl import load_workbook

    try:
        return load_workbook(_open_binary(data), read_only=True, data_only=False)
    except Exception as err:  # openpyxl raises many kinds for a broken file
        raise ValidationError("imports.error.xlsx", detail=type(err).__name__) from err


def _sheet(wb: Workbook, sheet: str | None) -> Any:  # a read-only worksheet
    if sheet:
        if sheet not in wb.sheetnames:
            raise ValidationError("imports.error.sheet", sheet=sheet, sheets=", ".join(wb.sheetnames))
        return wb[sheet]
    return wb.worksheets[0]


def _open_xlsx(data: Input, sheet: str | None) -> Source:
    wb = _workbook(data)
    try:
        ws = _sheet(wb, sheet)
        first = next(ws.iter_rows(max_row=1, values_only=True), ())
        header = _unique_header(list(first))
        total = max((ws.max_row or 1) - 1, 0)
        name = ws.title
    finally:
        wb.close()
    if not header:
        raise ValidationError("imports.error.empty_file")
    return Source(data, "xlsx", header, sheet=name, total_rows=total)


def _xlsx_chunks(source: Source, size: int) -> Iterator[Chunk]:
    width = len(source.header)
    wb = _workbook(source.data)
    try:
        ws = _sheet(wb, source.sheet)
        chunk = Chunk([], [])
        for line, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            row = [_cell(v) for v in values[:width]]
            extra = values[width:]
            if not any(c.strip() for c in row) and not any(v not in (None, "") for v in extra):
                continue
            if any(v not in (None, "") for v in extra):
                chunk.errors.append(
                    RowError(
                        line,
                        "",
                        "imports.error.field_count",
                        params={"expected": width, "found": len(values)},
                    )
                )
                continue
            row += [""] * (width - len(row))
            chunk.lines.append(line)
            chunk.rows.append(row)
            if len(chunk.rows) >= size:
                yield chunk
                chunk = Chunk([], [])
        if chunk.rows or chunk.errors:
            yield chunk
    finally:
        wb.close()
