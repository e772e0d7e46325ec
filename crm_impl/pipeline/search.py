"""Search across clients, contacts and deals: folded text, NIP by its digits, fuzzy last.

Pure and vectorised (pandas string ops on Arrow-backed strings, rapidfuzz over the whole list):
`build_index` folds every row once per data version; `search` then folds only the query.

Folding ("Żwirex" → "zwirex", "ŁÓDŹ" → "lodz"): lower case, NFKD with the combining marks
dropped, ł → l (NFKD keeps ł whole), and every run of other characters one space, so
"Sp. z o.o." and "sp z o o" are the same words. A NIP is matched on its digits only
("123-456-32-18", "123 456 32 18" and "1234563218" are one NIP).

Ranking, best first: the NIP itself; the label starting with the query; a word of the label
starting with it; the label containing it (or a NIP containing the digits); the secondary text
(city, the client of a contact or deal, an e-mail) containing it; last a fuzzy match of the label
(rapidfuzz partial ratio, about one typo per five letters; not for a NIP). Within a tier: the
closer fuzzy score, the shorter label, clients before contacts before deals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

KINDS = ("client", "contact", "deal")
# kind -> (page, query parameter naming the row it opens); a contact opens its client
LINKS = {
    "client": ("pages/pipeline/client.py", "account"),
    "contact": ("pages/pipeline/client.py", "account"),
    "deal": ("pages/pipeline/deal.py", "deal"),
}
MAX_QUERY = 100  # characters of a query that are looked at
FUZZY_FROM = 5  # letters a query needs before a typo is forgiven
NIP_FROM = 3  # digits a query needs before it is looked up in the NIPs
SEP = " · "

# match tiers, best first
NIP_EXACT, PREFIX, WORD, CONTAINS, SECONDARY, FUZZY = 5, 4, 3, 2, 1, 0

_MARKS = r"\p{Mn}"  # combining marks left by NFKD (RE2, as pandas' Arrow strings use)
_NON_WORD = r"[^a-z0-9]+"
_NIP_QUERY = re.compile(r"(?i)^\s*(pl)?[\d\s\-./]+$")


def fold(values: pd.Series) -> pd.Series:
    """Every value folded for matching (see the module docstring); missing is ""."""
    text = values.astype("str").fillna("")
    text = text.str.lower().str.normalize("NFKD").str.replace(_MARKS, "", regex=True)
    text = text.str.replace("ł", "l", regex=False)
    return text.str.replace(_NON_WORD, " ", regex=True).str.strip()


def fold_text(text: str) -> str:
    """One text folded by the same rule as `fold` (the query)."""
    return str(fold(pd.Series([text[:MAX_QUERY]], dtype="str")).iloc[0])


def nip_digits(values: pd.Series) -> pd.Series:
    return values.astype("str").fillna("").str.replace(r"\D", "", regex=True)


def query_digits(text: str) -> str:
    """The digits of a query that looks like a NIP (digits, spaces, dashes, an optional "PL"),
    else ""."""
    text = text[:MAX_QUERY]
    return re.sub(r"\D", "", text) if _NIP_QUERY.match(text) else ""


@dataclass(frozen=True)
class SearchIndex:
    """Every searchable row, folded once: kind, id, label, secondary, target id, stage id
    (deals), and the folded keys. Built once per data version, never per query: `keys` (the
    folded labels as a list, for rapidfuzz), `kinds` (position in KINDS) and `lengths` (of the
    labels, for the ranking) as arrays."""

    rows: pd.DataFrame
    keys: list[str]
    kinds: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def _join(*parts: pd.Series) -> pd.Series:
    """The non-empty parts joined by " · ", row by row (vectorised)."""
    out = pd.Series("", index=parts[0].index, dtype="str")
    for part in parts:
        text = part.astype("str").fillna("").str.strip()
        glue = pd.Series(np.where((out != "") & (text != ""), SEP, ""), index=out.index, dtype="str")
        out = out + glue + text
    return out


def _ids(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def build_index(accounts: pd.DataFrame, contacts: pd.DataFrame, deals: pd.DataFrame) -> SearchIndex:
    """accounts: id, name, nip, city; contacts: id, full_name, email, account_id;
    deals: id, title, account_id, stage_id."""
    acc_id = _ids(accounts["id"])
    names = pd.Series(accounts["name"].astype("str").to_numpy(), index=acc_id.to_numpy())
    names = names[~names.index.duplicated()]

    def client_of(ids: pd.Series) -> pd.Series:
        return pd.Series(_ids(ids).map(names).to_numpy(), index=ids.index, dtype="str")

    nip = accounts["nip"].astype("str").fillna("")
    parts = [
        pd.DataFrame(
            {
                "kind": "client",
                "id": acc_id,
                "label": accounts["name"].astype("str"),
                "secondary": _join(accounts["city"], nip),
                "target": acc_id,
                "stage_id": pd.array([pd.NA] * len(accounts), dtype="Int64"),
                "nip": nip_digits(nip),
            }
        ),
        pd.DataFrame(
            {
                "kind": "contact",
                "id": _ids(contacts["id"]),
                "label": contacts["full_name"].astype("str"),
                "secondary": _join(client_of(contacts["account_id"]), contacts["email"]),
                "target": _ids(contacts["account_id"]),
                "stage_id": pd.array([pd.NA] * len(contacts), dtype="Int64"),
                "nip": "",
            }
        ),
        pd.DataFrame(
            {
                "kind": "deal",
                "id": _ids(deals["id"]),
                "label": deals["title"].astype("str"),
                "secondary": client_of(deals["account_id"]).fillna(""),
                "target": _ids(deals["id"]),
                "stage_id": _ids(deals["stage_id"]),
                "nip": "",
            }
        ),
    ]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(map(len, parts)) else parts[0]
    rows["label"] = rows["label"].fillna("")
    rows["key"] = fold(rows["label"])
    rows["word_key"] = " " + rows["key"]  # " " + key: a word starts after a space
    rows["extra"] = fold(rows["secondary"])
    return SearchIndex(
        rows=rows,
        keys=rows["key"].tolist(),
        kinds=rows["kind"].map({k: i for i, k in enumerate(KINDS)}).to_numpy(dtype="int64"),
        lengths=rows["label"].str.len().to_numpy(dtype="int64", na_value=0),
    )


def fuzzy_cutoff(length: int) -> float:
    """The least rapidfuzz score a query of `length` letters accepts: one typo per five
    letters (a substitution in six letters scores 83.3)."""
    return 100.0 * (1 - max(1, length // 5) / length) - 0.5


def _tiers(index: SearchIndex, q: str, digits: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best tier (-1: no match) and its score (100 unless fuzzy)."""
    rows = index.rows
    n = len(rows)
    tier = np.full(n, -1, dtype="int64")
    score = np.zeros(n, dtype="float64")
    if q:
        checks = [
            (SECONDARY, rows["extra"].str.contains(q, regex=False)),
            (CONTAINS, rows["key"].str.contains(q, regex=False)),
            (WORD, rows["word_key"].str.contains(" " + q, regex=False)),
            (PREFIX, rows["key"].str.startswith(q)),
        ]
        for level, hit in checks:  # ascending: a better tier overwrites a worse one
            tier[hit.to_numpy(dtype=bool, na_value=False)] = level
    if len(digits) >= NIP_FROM:
        nip = rows["nip"]
        inside = nip.str.contains(digits, regex=False).to_numpy(dtype=bool, na_value=False)
        tier[inside & (tier < CONTAINS)] = CONTAINS
        tier[(nip == digits).to_numpy(dtype=bool)] = NIP_EXACT
    score[tier >= 0] = 100.0
    if len(q.replace(" ", "")) >= FUZZY_FROM and not digits and n:  # a NIP: no near misses
        fuzzy = process.cdist(
            [q],
            index.keys,
            scorer=fuzz.partial_ratio,
            score_cutoff=fuzzy_cutoff(len(q)),
            dtype=np.float32,
            workers=1,
        )[0]
        found = (tier < 0) & (fuzzy > 0)
        tier[found] = FUZZY
        score[found] = fuzzy[found]
    return tier, score


@dataclass(frozen=True)
class Results:
    """The best matches (`top`: kind, id, label, secondary, page, param, target, stage_id,
    tier, score; best first) and how many rows of each kind matched in all."""

    top: pd.DataFrame
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


COLUMNS = ["kind", "id", "label", "secondary", "target", "stage_id"]


def results(index: SearchIndex, query: str, limit: int | None = 50) -> Results:
    """The best `limit` (None: all) matches of `query`, ranked as the module docstring says,
    and the count of every match per kind. An empty or blank query finds nothing."""
    q = fold_text(query)
    digits = query_digits(query)
    if not q and not digits:
        none = pd.DataFrame(columns=[*COLUMNS, "page", "param", "tier", "score"])
        return Results(top=none, counts=dict.fromkeys(KINDS, 0))
    tier, score = _tiers(index, q, digits)
    hit = np.flatnonzero(tier >= 0)
    per_kind = np.bincount(index.kinds[hit], minlength=len(KINDS))
    # np.lexsort sorts by the last key first: tier, score, shorter label, kind
    ranked = hit[np.lexsort((index.kinds[hit], index.lengths[hit], -score[hit], -tier[hit]))]
    best = ranked if limit is None else ranked[:limit]
    top = index.rows[COLUMNS].iloc[best].reset_index(drop=True)  # one take, of the best only
    top = top.assign(
        page=top["kind"].map({k: page for k, (page, _) in LINKS.items()}),
        param=top["kind"].map({k: param for k, (_, param) in LINKS.items()}),
        tier=tier[best],
        score=score[best],
    )
    return Results(top=top, counts={k: int(n) for k, n in zip(KINDS, per_kind, strict=True)})


def search(index: SearchIndex, query: str, limit: int | None = 50) -> pd.DataFrame:
    """`results(...).top`: the best `limit` (None: all) matches of `query`, best first."""
    return results(index, query, limit).top
