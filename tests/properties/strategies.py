"""Hostile input for the property tests: text people and attackers put in files and forms."""

from __future__ import annotations

from hypothesis import strategies as st

HOSTILE = [
    "",
    " ",
    "\u00a0",
    "=cmd|' /C calc'!A0",
    "@SUM(A1)",
    "+1-2",
    "-1+2",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "![](http://evil.example/x.png)",
    "[click](https://evil.example)",
    "Robert'); DROP TABLE deal;--",
    "\x00",
    "a\x00b",
    "\r",
    "\r\n",
    "\t",
    '"',
    '""',
    "'",
    "\ufeff",
    "\u202e",
    "Zażółć gęślą jaźń",
    "ŻÓŁW",
    "😀",
    "1E+999999999999",
    "-1E+999999999999",
    "1e-999999999",
    "NaN",
    "inf",
    "-Infinity",
    "9" * 400,
    "1,2,3",
    "1.234,56",
    "1 234,56",
    "1,234.56",
    "99999999999999999999.99",
    "0001-01-01",
    "9999-12-31",
    "31-02-2017",
    "2017-02-31",
    "29.02.2100",
    "1677-09-21",
    "2262-04-12",
    "00:00",
    "20177-01-01",
    "%Q",
    "null",
    "N/A",
    "x" * 10_001,
]

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet="0123456789.,- E+e'’\u00a0zł€$", max_size=25),
    st.from_regex(r"\d{1,2}[./-]\d{1,2}[./-]\d{1,5}", fullmatch=True),
    st.from_regex(r"\d{1,5}-\d{1,2}-\d{1,2}", fullmatch=True),
)

hostile_value = st.one_of(
    hostile_text,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
)


# Crashes these tests found in files other developers own, each with its own deterministic
# regression test (xfail strict while open: it fails the run the moment the fix lands, so the
# entry and the mark go then). The property tests tolerate exactly these signatures, nothing else.
KNOWN_CRASHES: dict[str, tuple[type[BaseException], str]] = {}


def known_crash(err: BaseException) -> bool:
    return any(isinstance(err, kind) and text in str(err) for kind, text in KNOWN_CRASHES.values())
