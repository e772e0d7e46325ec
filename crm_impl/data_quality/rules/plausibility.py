"""Plausibility, the "fictitious data" of slide 11: placeholder names and e-mails (test, asdf,
xxx, example.com…), repeated-digit or counting phones (111111111, 123456789), implausibly huge
or round values, bursts of records by one owner within minutes, dates far in the past or
future."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_impl.data_quality.rules.base import Context, Finding, as_utc, digits, rule, text

PLACEHOLDER_WORDS = (
    "test",
    "testowy",
    "testowa",
    "asdf",
    "qwerty",
    "xxx+",
    "aaa+",
    "abc",
    "foo",
    "lorem",
    "ipsum",
    "dummy",
    "fake",
    "sample",
    "example",
    "przykład",
    "przyklad",
    "jan kowalski",
    "john doe",
    "jane doe",
    "nobody",
    "noname",
    "nieznany",
)
PLACEHOLDER = r"(?i)(?:^|[^\w])(?:" + "|".join(PLACEHOLDER_WORDS) + r")(?:$|[^\w])"
MEANINGLESS = r"(.)\1+|[\W\d_]+"  # "aaaa", "....", "12345"
PLACEHOLDER_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "test.com",
    "mailinator.com",
    "localhost",
    "domain.com",
    "email.com",
    "xxx.com",
    "asdf.com",
)
PLACEHOLDER_LOCAL = (
    r"(?i)^(?:test\d*|asdf|qwerty|xxx+|aaa+|abc|foo|bar|dummy|fake|noreply|no-reply|brak|nie|none|null|a)$"
)
COUNTING = ("01234567890", "98765432109")
# every run of at least six counting digits ("123456", "3456789", "987654321", ...)
COUNTING_RUNS = frozenset(c[i:j] for c in COUNTING for i in range(len(c)) for j in range(i + 6, len(c) + 1))
ROUND_MILLION = 1_000_000
HUGE_FACTOR = 10  # a value above the 99th percentile × this is implausible
MIN_FOR_PERCENTILE = 50  # with fewer positive values the percentile says nothing
PAST_YEARS, FUTURE_YEARS = 30, 10


def _placeholder(values: pd.Series) -> Finding:
    value = text(values)
    fake = value.str.contains(PLACEHOLDER, regex=True) | value.str.fullmatch(MEANINGLESS)
    return Finding(fake & (value != ""), value)


@rule("account.placeholder_name", "plausibility", "warning", "name", ("name",))
def account_placeholder(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _placeholder(frame["name"])


@rule("contact.placeholder_name", "plausibility", "warning", "full_name", ("full_name",))
def contact_placeholder(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _placeholder(frame["full_name"])


@rule("deal.placeholder_title", "plausibility", "info", "title", ("title",))
def deal_placeholder(frame: pd.DataFrame, _ctx: Context) -> Finding:
    return _placeholder(frame["title"])


@rule("contact.placeholder_email", "plausibility", "warning", "email", ("email",))
def placeholder_email(frame: pd.DataFrame, _ctx: Context) -> Finding:
    value = text(frame["email"]).str.lower()
    parts = value.str.extract(r"^(?P<local>.*)@(?P<domain>[^@]*)$").fillna("")
    local, domain = parts["local"], parts["domain"]
    fake_domain = domain.isin(PLACEHOLDER_DOMAINS) | domain.str.fullmatch(
        r"(?:test|example|asdf|xxx)\.(?:com|org|net)"
    )
    fake_local = local.str.match(PLACEHOLDER_LOCAL)
    return Finding((value != "") & (fake_domain | fake_local), value)


@rule("contact.phone_fake", "plausibility", "warning", "phone", ("phone",))
def phone_fake(frame: pd.DataFrame, _ctx: Context) -> Finding:
    """One digit repeated ("111111111") or digits that only count ("123456789"), country code 48
    left aside."""
    number = digits(frame["phone"])
    national = number.where(number.str.len() != 11, number.str.removeprefix("48"))
    repeated = national.str.fullmatch(r"(\d)\1{5,}")
    return Finding((national != "") & (repeated | national.isin(COUNTING_RUNS)), text(frame["phone"]))


@rule("deal.value_implausible", "plausibility", "warning", "value", ("value",))
def value_implausible(frame: pd.DataFrame, _ctx: Context) -> Finding:
    """Huge relative to the data (above the 99th percentile × 10, when there are enough values to
    have one) or an exact multiple of a million."""
    value = pd.to_numeric(frame["value"], errors="coerce")
    positive = value[value > 0]
    huge = pd.Series(False, index=frame.index)
    if len(positive) >= MIN_FOR_PERCENTILE:
        huge = value > float(np.percentile(positive, 99)) * HUGE_FACTOR
    rounded = (value >= ROUND_MILLION) & (np.mod(value.fillna(0), ROUND_MILLION) == 0)
    return Finding(huge | rounded, value)


def _burst(frame: pd.DataFrame, ctx: Context) -> Finding:
    """Records created by one owner at a rate of `burst_count` within `burst_minutes`: every record
    in such a window is flagged. Vectorised: sorted by (owner, time), the first record inside the
    window of each one is found with one searchsorted; ranges are marked with a difference array."""
    owner = pd.to_numeric(frame["owner_id"], errors="coerce")
    at = as_utc(frame["created_at"])
    known = owner.notna() & at.notna()
    flagged = pd.Series(False, index=frame.index)
    count = pd.Series(0, index=frame.index)
    if known.sum() < ctx.settings.burst_count:
        return Finding(flagged, count)
    seconds = (at[known] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)  # any resolution
    sub = pd.DataFrame({"owner": owner[known], "t": seconds.astype("int64")})
    sub = sub.sort_values(["owner", "t"], kind="stable")
    offset = float(sub["t"].max() - sub["t"].min() + 60 * ctx.settings.burst_minutes + 1)
    key = sub["owner"].rank(method="dense").to_numpy() * offset + (sub["t"] - sub["t"].min()).to_numpy()
    window = 60.0 * ctx.settings.burst_minutes
    start = np.searchsorted(key, key - window, side="left")
    n = np.arange(len(key)) - start + 1
    ends = np.flatnonzero(n >= ctx.settings.burst_count)
    diff = np.zeros(len(key) + 1, dtype=np.int64)
    np.add.at(diff, start[ends], 1)
    np.add.at(diff, ends + 1, -1)
    marked = np.cumsum(diff)[:-1] > 0
    flagged.loc[sub.index] = marked
    count.loc[sub.index] = n
    return Finding(flagged, count)


@rule("account.burst", "plausibility", "info", "name", ("owner_id", "created_at"))
def account_burst(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _burst(frame, ctx)


@rule("contact.burst", "plausibility", "info", "full_name", ("owner_id", "created_at"))
def contact_burst(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _burst(frame, ctx)


@rule("deal.burst", "plausibility", "info", "title", ("owner_id", "created_at"))
def deal_burst(frame: pd.DataFrame, ctx: Context) -> Finding:
    return _burst(frame, ctx)


@rule("deal.date_far", "plausibility", "warning", "expected_close", ("expected_close",))
def date_far(frame: pd.DataFrame, ctx: Context) -> Finding:
    """A close or delivery date more than 30 years back or 10 years ahead (a typo of the year)."""
    low = pd.Timestamp(ctx.today) - pd.DateOffset(years=PAST_YEARS)
    high = pd.Timestamp(ctx.today) + pd.DateOffset(years=FUTURE_YEARS)
    bad = pd.Series(False, index=frame.index)
    value = pd.Series("", index=frame.index, dtype=object)
    for column in ("expected_close", "promised_delivery", "actual_delivery"):
        if column in frame.columns:
            day = pd.to_datetime(frame[column], errors="coerce")
            far = (day < low) | (day > high)
            value = value.mask(far & ~bad, day.dt.date.astype(str))
            bad |= far.fillna(False)
    return Finding(bad, value)


RULES = [
    account_placeholder,
    contact_placeholder,
    deal_placeholder,
    placeholder_email,
    phone_fake,
    value_implausible,
    account_burst,
    contact_burst,
    deal_burst,
    date_far,
]
