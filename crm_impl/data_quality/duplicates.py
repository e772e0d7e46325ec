"""Fuzzy duplicates of accounts and contacts (the "uniqueness" dimension). Pure: frames in, frames out.

How a pair is found (one meaning for the page, the rules engine, the CLI and the bench):

* Names are normalised (`normalise_name`): case folded, Polish diacritics folded (``ł`` → ``l``
  too, which Unicode NFKD leaves alone), punctuation removed, legal forms removed ("sp. z o.o.",
  "Sp.z.o.o.", "spółka z ograniczoną odpowiedzialnością", "S.A.", "sp.k.", "Inc", "GmbH", ...).
* Records are compared only **within blocks**, never all against all:
  accounts — the same NIP (10 digits, not one repeated digit), or the same city plus the first
  letters of the name (its words sorted, and as typed, so "Kowalski Jan" meets "Jan Kowalski");
  a record without a city meets records of exactly the same name in any city.
  contacts — the same e-mail, the same phone digits, or the same account plus the first letters.
  A block larger than `BLOCK_CAP` is split by one more letter (and, past `MAX_PREFIX` letters,
  into chunks), so one giant city cannot make the work quadratic.
* Names within a block are scored with rapidfuzz's ``token_sort_ratio`` (0–100, word order
  ignored) in one vectorised call (``process.cpdist``, ``workers=-1``, ``score_cutoff``).
* Decisions (tested in tests/data_quality/test_duplicates.py):
  two accounts whose NIPs are both known and differ are never duplicates, whatever their
  names; "Alfa" and "Alfa-Beta" are different companies (token_sort_ratio 62, not WRatio's
  partial match); a name shorter than `MIN_NAME_CHARS` letters, or made only of generic words
  ("sklep", "firma", "hurtownia", ...), is matched only by NIP / e-mail, never by name; the same
  name in two different known cities is not a duplicate (branches) unless the NIP says so.
  A shared phone is weaker evidence than a shared e-mail (switchboards): it adds
  `PHONE_BONUS` points to a name score instead of deciding alone.

`reason` is a stable code the UI translates (area ``dq_duplicates``, key ``reason.<code>``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

RESULT_COLUMNS = ("left_id", "right_id", "score", "reason")

# Reasons, strongest first: when several find the same pair, the first one in this order names it.
REASONS = (
    "same_nip",
    "same_email",
    "same_name_same_city",
    "similar_name_same_city",
    "same_phone_similar_name",
    "same_name_same_account",
    "similar_name_same_account",
    "same_name",
    "similar_name",
)
KINDS = ("account", "contact")

BLOCK_CAP = 64
FIRST_LETTERS = 2
MAX_PREFIX = 10
MIN_NAME_CHARS = 3
PHONE_BONUS = 20.0

# Letters NFKD does not decompose into base + combining mark (applied after lower-casing).
_FOLD_PAIRS = (
    ("ł", "l"),
    ("đ", "d"),
    ("ø", "o"),
    ("æ", "ae"),
    ("œ", "oe"),
    ("ß", "ss"),
    ("ı", "i"),
    ("ħ", "h"),
    ("þ", "th"),
)

# Legal forms written out in words, removed wherever they stand (after punctuation became spaces).
_LONG_FORMS = (
    r"spolka z ograniczona odpowiedzialnoscia",
    r"spolka z o o",
    r"sp z o o",
    r"sp zoo",
    r"spzoo",
    r"spolka komandytowo akcyjna",
    r"spolka komandytowa",
    r"spolka akcyjna",
    r"spolka jawna",
    r"spolka cywilna",
    r"spolka partnerska",
    r"prosta spolka akcyjna",
    r"gesellschaft mit beschrankter haftung",
    r"limited liability company",
)
_LONG_RE = r"\b(?:" + "|".join(sorted(_LONG_FORMS, key=len, reverse=True)) + r")\b"
# Short forms, removed only at the end of a name (repeatedly: "sp z o o sp k").
_SHORT_FORMS = (
    r"s a",
    r"sa",
    r"s k a",
    r"ska",
    r"sp k",
    r"spk",
    r"sp j",
    r"spj",
    r"s j",
    r"s c",
    r"sc",
    r"sp p",
    r"spp",
    r"psa",
    r"sp",
    r"inc",
    r"incorporated",
    r"ltd",
    r"limited",
    r"llc",
    r"plc",
    r"corp",
    r"corporation",
    r"co",
    r"gmbh",
    r"ag",
    r"kg",
    r"bv",
    r"nv",
    r"srl",
    r"sarl",
    r"sas",
    r"oy",
    r"ab",
)
_SHORT_RE = r"(?:\s+(?:" + "|".join(sorted(_SHORT_FORMS, key=len, reverse=True)) + r"))+$"

# Names made only of these words say nothing about which company it is.
GENERIC_WORDS = frozenset(
    {
        "firma",
        "sklep",
        "hurtownia",
        "przedsiebiorstwo",
        "zaklad",
        "biuro",
        "uslugi",
        "handel",
        "serwis",
        "klient",
        "company",
        "shop",
        "store",
        "services",
        "service",
        "group",
        "grupa",
        "holding",
        "polska",
        "poland",
        "test",
        "nowy",
        "new",
    }
)


def _arrow(values: pd.Series) -> pa.Array:
    text = values.astype(object).where(values.notna(), "").astype(str)
    return pa.array(text.to_numpy(dtype=object), type=pa.large_string())


def _fold_arrow(values: pd.Series) -> pa.Array:
    """Lower case, diacritics folded (ł too), punctuation to spaces, spaces collapsed (Arrow, RE2)."""
    arr = pc.utf8_lower(_arrow(values))
    for letter, plain in _FOLD_PAIRS:
        arr = pc.replace_substring(arr, letter, plain)
    arr = pc.utf8_normalize(arr, form="NFKD")
    arr = pc.replace_substring_regex(arr, r"\p{Mn}+", "")
    arr = pc.replace_substring_regex(arr, r"[^\p{L}\p{N}\s]+|_+", " ")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))


def _series(arr: pa.Array) -> pd.Series:
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


def _fold(values: pd.Series) -> pd.Series:
    """Case folded, diacritics folded (ł too), punctuation to spaces, spaces collapsed."""
    return _series(_fold_arrow(values))


def normalise_name(names: pd.Series) -> pd.Series:
    """Company names reduced to what identifies them: folded, no punctuation, no legal form.

    >>> normalise_name(pd.Series(["Żwirex Sp. z o.o.", "ZWIREX", "Łódź-Trans S.A."])).tolist()
    ['zwirex', 'zwirex', 'lodz trans']
    """
    arr = pc.replace_substring_regex(_fold_arrow(names), _LONG_RE, " ")
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, _SHORT_RE, ""))
    return _series(arr).set_axis(names.index).rename(names.name)


def _sorted_tokens(names: pd.Series, *, numbers_last: bool = False) -> pd.Series:
    """Each name's words in alphabetical order (sorted once per distinct name of several words).
    `numbers_last`: words starting with a digit go after the others (for blocking: "6167 ..."
    would otherwise make the first letters a number)."""
    values = names.astype(object).to_numpy(dtype=object)
    out = values.copy()
    several = pc.match_substring(_arrow(names), " ").to_numpy(zero_copy_only=False)
    if several.any():
        codes, uniques = pd.factorize(pd.Series(values[several], dtype=object))

        def key(word: str) -> tuple[bool, str]:
            return (numbers_last and word[:1].isdigit(), word)

        joined = np.array([" ".join(sorted(u.split(" "), key=key)) for u in uniques], dtype=object)
        out[several] = joined[codes]
    return pd.Series(out, index=names.index, dtype=object)


_GENERIC_RE = r"^(?:(?:" + "|".join(sorted(GENERIC_WORDS)) + r")(?: |$))*$"


def _comparable(names: pd.Series) -> pd.Series:
    """Names that may be matched by name: long enough and not only generic words."""
    text = _arrow(names)
    letters = pc.utf8_length(pc.replace_substring(text, " ", "")).to_numpy(zero_copy_only=False)
    generic = pc.match_substring_regex(text, _GENERIC_RE).to_numpy(zero_copy_only=False)
    return pd.Series((letters >= MIN_NAME_CHARS) & ~generic, index=names.index)


def _digits(values: pd.Series) -> pd.Series:
    return _series(pc.replace_substring_regex(_arrow(values), r"\D+", ""))


def _repeated_digit(digits: pd.Series) -> pd.Series:
    return digits.str.fullmatch(r"(\d)\1*").fillna(False).astype(bool)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left_id": pd.Series(dtype="int64"),
            "right_id": pd.Series(dtype="int64"),
            "score": pd.Series(dtype="float64"),
            "reason": pd.Series(dtype="object"),
        }
    )


def _block_codes(keys: pd.Series, names: pd.Series) -> np.ndarray:
    """Block code per row (-1: alone). `keys` is the coarse key; names give the letters.

    Rows start in blocks of key + the first `FIRST_LETTERS` letters of the name; a block bigger
    than `BLOCK_CAP` is split by one more letter, up to `MAX_PREFIX` letters, then into chunks.
    """
    n = len(keys)
    key_codes, _ = pd.factorize(pd.Series(np.asarray(keys, dtype=object)))
    text = _arrow(pd.Series(np.asarray(names, dtype=object)))
    final = np.full(n, -1, dtype=np.int64)
    pending = np.arange(n)
    next_code = 0
    length = FIRST_LETTERS
    while len(pending):
        prefix = pc.utf8_slice_codeunits(text.take(pa.array(pending)), 0, length)
        prefix_codes, _ = pd.factorize(pd.Series(prefix.to_numpy(zero_copy_only=False), dtype=object))
        label = key_codes[pending].astype(np.int64) * (int(prefix_codes.max()) + 1) + prefix_codes
        label, _ = pd.factorize(label)
        sizes = np.bincount(label)[label]
        done = sizes <= BLOCK_CAP
        if length >= MAX_PREFIX:
            chunk = pd.Series(label).groupby(label).cumcount().to_numpy() // BLOCK_CAP
            label, _ = pd.factorize(label.astype(np.int64) * (n + 1) + chunk)
            done = np.ones(len(pending), dtype=bool)
        final[pending[done]] = label[done] + next_code
        next_code += int(label.max()) + 1
        pending = pending[~done]
        length += 1
    codes, _ = pd.factorize(final)
    counts = np.bincount(codes, minlength=codes.max() + 1 if len(codes) else 0)
    return np.where(counts[codes] > 1, codes, -1)


def _pairs_within(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j), i != j, of rows sharing a block code >= 0; i before j in block order."""
    rows = np.flatnonzero(codes >= 0)
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = rows[np.argsort(codes[rows], kind="stable")]
    c = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(c)) + 1]
    sizes = np.diff(np.r_[starts, len(c)])
    rank = np.arange(len(c)) - np.repeat(starts, sizes)
    after = np.repeat(sizes, sizes) - rank - 1  # rows after this one in its block
    total = int(after.sum())
    left_pos = np.repeat(np.arange(len(c)), after)
    offset = np.arange(total) - np.repeat(np.cumsum(after) - after, after) + 1
    return order[left_pos], order[left_pos + offset]


def _group_pairs(keys: pd.Series, valid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows with equal valid keys; a group above `BLOCK_CAP` pairs each row with its first."""
    codes = np.full(len(keys), -1, dtype=np.int64)
    if valid.any():
        sub, _ = pd.factorize(keys[valid.to_numpy()])
        codes[valid.to_numpy()] = sub
    counts = np.bincount(codes[codes >= 0], minlength=1)
    small = np.where(codes >= 0, counts[np.maximum(codes, 0)] <= BLOCK_CAP, False)
    left, right = _pairs_within(np.where(small, codes, -1))
    big = np.flatnonzero((codes >= 0) & ~small)
    if len(big):
        frame = pd.DataFrame({"code": codes[big], "row": big})
        first = frame.groupby("code")["row"].transform("min").to_numpy()
        keep = first != big
        left = np.r_[left, first[keep]]
        right = np.r_[right, big[keep]]
    return left, right


def _score_names(words: np.ndarray, left: np.ndarray, right: np.ndarray, cutoff: float) -> np.ndarray:
    """token_sort_ratio of each pair: `words` are the names with their words already sorted,
    so it is rapidfuzz's plain ratio (one vectorised cpdist call); pairs whose lengths alone rule
    out the cutoff (ratio <= 200·min/(a+b)) are not scored."""
    scores = np.zeros(len(left), dtype=np.float64)
    if len(left) == 0:
        return scores
    lengths = pd.Series(words, dtype=object).str.len().to_numpy()
    la, lb = lengths[left], lengths[right]
    possible = 200.0 * np.minimum(la, lb) >= cutoff * np.maximum(la + lb, 1)
    if possible.any():
        scores[possible] = process.cpdist(
            words[left[possible]],
            words[right[possible]],
            scorer=fuzz.ratio,
            score_cutoff=cutoff,
            workers=-1,
        )
    return scores


def _frame(ids: np.ndarray, left: np.ndarray, right: np.ndarray, score, reason) -> pd.DataFrame:
    a, b = ids[left], ids[right]
    return pd.DataFrame(
        {
            "left_id": np.minimum(a, b),
            "right_id": np.maximum(a, b),
            "score": np.broadcast_to(np.asarray(score, dtype=np.float64), a.shape),
            "reason": np.broadcast_to(np.asarray(reason, dtype=object), a.shape),
        }
    )


def _name_pairs(
    ids: np.ndarray,
    names: pd.Series,
    keys: pd.Series,
    comparable: pd.Series,
    cutoff: float,
    same: str,
    similar: str,
) -> list[pd.DataFrame]:
    """Fuzzy name pairs within key + first letters (sorted words, and as typed)."""
    out: list[pd.DataFrame] = []
    rows = np.flatnonzero(comparable.to_numpy())
    if len(rows) < 2:
        return out
    words = _sorted_tokens(names).to_numpy(dtype=object)
    sub_keys = keys.iloc[rows].reset_index(drop=True)
    found: list[np.ndarray] = []
    # Pass 1: words sorted ("Kowalski Jan" meets "Jan Kowalski"); pass 2: as typed, names of
    # several words only (for one word both keys are the same), so a typo in the alphabetically
    # first word is still met.
    typed = names.to_numpy(dtype=object)[rows]
    several = np.char.find(typed.astype(str), " ") >= 0
    blocking = _sorted_tokens(names, numbers_last=True).to_numpy(dtype=object)[rows]
    for letters, use in ((blocking, np.ones(len(rows), dtype=bool)), (typed, several)):
        if use.sum() < 2:
            continue
        codes = _block_codes(sub_keys[use].reset_index(drop=True), pd.Series(letters[use]))
        left, right = _pairs_within(codes)
        sub = rows[use]
        lo, hi = np.minimum(sub[left], sub[right]), np.maximum(sub[left], sub[right])
        found.append(lo.astype(np.int64) * len(names) + hi)
    flat = np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
    flat = flat[np.r_[True, flat[1:] != flat[:-1]]] if len(flat) else flat
    if len(flat) == 0:
        return out
    left, right = flat // len(names), flat % len(names)
    scores = _score_names(words, left, right, cutoff)
    hit = scores >= cutoff
    left, right, scores = left[hit], right[hit], scores[hit]
    equal = words[left] == words[right]
    reason = np.where(equal, same, similar).astype(object)
    out.append(_frame(ids, left, right, np.where(equal, 100.0, scores), reason))
    return out


def _finish(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    pairs = pd.concat(parts, ignore_index=True)
    pairs = pairs[pairs["left_id"] != pairs["right_id"]]
    rank = pd.Categorical(pairs["reason"], categories=list(REASONS), ordered=True).codes
    pairs = pairs.assign(_rank=rank).sort_values(
        ["left_id", "right_id", "score", "_rank"], ascending=[True, True, False, True]
    )
    pairs = pairs.drop_duplicates(["left_id", "right_id"], keep="first")
    pairs = pairs.sort_values(["score", "_rank", "left_id", "right_id"], ascending=[False, True, True, True])
    out = pairs.drop(columns="_rank").reset_index(drop=True)
    out["left_id"] = out["left_id"].astype("int64")
    out["right_id"] = out["right_id"].astype("int64")
    out["score"] = out["score"].astype("float64").round(1)
    out["reason"] = out["reason"].astype(object)
    return out


def _column(records: pd.DataFrame, name: str) -> pd.Series:
    if name in records.columns:
        return records[name].reset_index(drop=True)
    return pd.Series([None] * len(records), dtype=object)


def _accounts(records: pd.DataFrame, threshold: float) -> pd.DataFrame:
    ids = records["id"].to_numpy(dtype=np.int64)
    names = normalise_name(_column(records, "name"))
    nip = _digits(_column(records, "nip"))
    nip_valid = (nip.str.len() == 10) & ~_repeated_digit(nip)
    city = _fold(_column(records, "city"))
    parts: list[pd.DataFrame] = []

    left, right = _group_pairs(nip, nip_valid)
    parts.append(_frame(ids, left, right, 100.0, "same_nip"))

    comparable = _comparable(names)
    # Same city (or both without a city) + first letters.
    named = _name_pairs(
        ids, names, city, comparable, threshold, "same_name_same_city", "similar_name_same_city"
    )
    city_by_id = pd.Series(city.to_numpy(), index=ids)
    for frame in named:
        no_city = city_by_id.reindex(frame["left_id"]).to_numpy() == ""
        frame.loc[no_city, "reason"] = frame.loc[no_city, "reason"].map(
            {"same_name_same_city": "same_name", "similar_name_same_city": "similar_name"}
        )
    parts.extend(named)
    # A record without a city meets records of exactly the same name in any city.
    cityless = comparable & (city == "")
    if cityless.any():
        key = names.where(comparable, "")
        left, right = _group_pairs(key, comparable & key.isin(set(names[cityless])))
        keep = (city.to_numpy()[left] == "") | (city.to_numpy()[right] == "")
        parts.append(_frame(ids, left[keep], right[keep], 100.0, "same_name"))

    pairs = _finish(parts)
    if len(pairs):
        # Two known NIPs that differ: never duplicates, whatever the names say.
        by_id = pd.Series(nip.where(nip_valid, "").to_numpy(), index=ids)
        ln = by_id.reindex(pairs["left_id"]).to_numpy()
        rn = by_id.reindex(pairs["right_id"]).to_numpy()
        conflict = (ln != "") & (rn != "") & (ln != rn)
        pairs = pairs[~conflict].reset_index(drop=True)
    return pairs


def _contacts(records: pd.DataFrame, threshold: float) -> pd.DataFrame:
    ids = records["id"].to_numpy(dtype=np.int64)
    names = _fold(_column(records, "name"))
    email_arr = pc.utf8_lower(pc.utf8_trim_whitespace(_arrow(_column(records, "email"))))
    email = _series(email_arr)
    email_valid = pd.Series(
        pc.match_substring_regex(email_arr, r"^[^@\s]+@[^@\s]+\.[^@\s]+$").to_numpy(zero_copy_only=False)
    )
    phone = _digits(_column(records, "phone"))
    phone = phone.where(~((phone.str.len() == 11) & phone.str.startswith("48")), phone.str[2:])
    phone_valid = (phone.str.len() >= 9) & ~_repeated_digit(phone)
    account = _column(records, "account_id")
    account_key = account.astype("string").fillna("").str.replace(r"\.0$", "", regex=True)
    arr = _sorted_tokens(names).to_numpy(dtype=object)
    parts: list[pd.DataFrame] = []

    left, right = _group_pairs(email, email_valid)
    parts.append(_frame(ids, left, right, 100.0, "same_email"))

    comparable = _comparable(names)
    left, right = _group_pairs(phone, phone_valid)
    ok = comparable.to_numpy()[left] & comparable.to_numpy()[right]
    left, right = left[ok], right[ok]
    cutoff = max(threshold - PHONE_BONUS, 0.0)
    scores = _score_names(arr, left, right, cutoff)
    hit = scores >= cutoff
    if hit.any():
        boosted = np.minimum(scores[hit] + PHONE_BONUS, 100.0)
        parts.append(_frame(ids, left[hit], right[hit], boosted, "same_phone_similar_name"))

    named = _name_pairs(
        ids,
        names,
        account_key,
        comparable,
        threshold,
        "same_name_same_account",
        "similar_name_same_account",
    )
    by_id = pd.Series(account_key.to_numpy(), index=ids)
    for frame in named:
        no_account = by_id.reindex(frame["left_id"]).to_numpy() == ""
        frame.loc[no_account, "reason"] = frame.loc[no_account, "reason"].map(
            {"same_name_same_account": "same_name", "similar_name_same_account": "similar_name"}
        )
    parts.extend(named)
    return _finish(parts)


def find_duplicates(records: pd.DataFrame, *, kind: str, threshold: float = 90.0) -> pd.DataFrame:
    """Candidate duplicate pairs: columns left_id < right_id, score 0–100, reason; best first.

    `records`: ``id, name`` plus optional ``nip, city`` (kind="account"), or
    ``id, name, email, phone, account_id`` (kind="contact"). Ids must be unique.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if len(records) < 2:
        return _empty()
    frame = records.reset_index(drop=True)
    frame = frame[frame["id"].notna()]
    frame = frame.assign(id=frame["id"].astype("int64")).sort_values("id", kind="stable")
    frame = frame.reset_index(drop=True)
    finder = _accounts if kind == "account" else _contacts
    pairs = finder(frame, float(threshold))
    return pairs[pairs["score"] >= float(threshold)].reset_index(drop=True)


def drop_dismissed(pairs: pd.DataFrame, dismissed: pd.DataFrame) -> pd.DataFrame:
    """`pairs` without those a user marked "not a duplicate" (`dismissed`: left_id, right_id)."""
    if len(pairs) == 0 or len(dismissed) == 0:
        return pairs.reset_index(drop=True)
    lo = np.minimum(dismissed["left_id"], dismissed["right_id"]).astype("int64")
    hi = np.maximum(dismissed["left_id"], dismissed["right_id"]).astype("int64")
    gone = pd.MultiIndex.from_arrays([lo, hi])
    here = pd.MultiIndex.from_arrays([pairs["left_id"], pairs["right_id"]])
    return pairs[~here.isin(gone)].reset_index(drop=True)


# The fields shown side by side for a pair, per kind (the records' column names).
SHOWN: dict[str, tuple[str, ...]] = {
    "account": ("name", "nip", "city", "sector"),
    "contact": ("name", "email", "phone", "account_id"),
}


def side_by_side(pairs: pd.DataFrame, records: pd.DataFrame, *, kind: str) -> pd.DataFrame:
    """`pairs` with each record's shown fields beside it: left_<field>, right_<field>."""
    fields = [f for f in SHOWN[kind] if f in records.columns]
    table = records.drop_duplicates("id").set_index("id")[fields]
    out = pairs.reset_index(drop=True).copy()
    for side in ("left", "right"):
        part = table.reindex(out[f"{side}_id"].to_numpy())
        for name in fields:
            out[f"{side}_{name}"] = part[name].to_numpy()
    return out
