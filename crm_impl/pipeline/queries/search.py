"""The rows search looks through (clients with NIP and city, contacts with their client, deals
with their client and stage), read once per data version into a folded `SearchIndex`.

Who may read what: searching is reading the pipeline (`pipeline.read`), and whoever reads it
reads every client, contact and deal, as the board does (its owner filter offers "All" to a
rep, and the deal and client pages open any row). So there is one index for every reader and
`find` checks the permission; were reading ever limited to one's own deals, `find` is the one
place that would narrow the rows.

The three queries go through Arrow when it can read them (crm_impl.core.arrow), else the
session's cursor; text stays text, ids come back as numbers.
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from crm_impl.core import arrow as core_arrow
from crm_impl.core.permissions import Actor, require
from crm_impl.pipeline import search as pipeline_search
from crm_impl.pipeline.search import Results, SearchIndex

ACCOUNT_SQL = "SELECT id, name, nip, city FROM account"
CONTACT_SQL = "SELECT id, full_name, email, account_id FROM contact"
DEAL_SQL = "SELECT id, title, account_id, stage_id FROM deal"
SQLS = {
    "accounts": (ACCOUNT_SQL, ["id", "name", "nip", "city"]),
    "contacts": (CONTACT_SQL, ["id", "full_name", "email", "account_id"]),
    "deals": (DEAL_SQL, ["id", "title", "account_id", "stage_id"]),
}


def _cursor(session: Session, sql: str, columns: list[str]) -> pd.DataFrame:
    rows = session.connection().exec_driver_sql(sql).all()
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)


def read_rows(session: Session, *, arrow: bool = True) -> dict[str, pd.DataFrame]:
    """accounts, contacts and deals as `build_index` takes them."""
    fast = core_arrow.read(session, [sql for sql, _ in SQLS.values()], arrow=arrow)
    if fast is None:
        return {name: _cursor(session, sql, columns) for name, (sql, columns) in SQLS.items()}
    return {
        name: pd.DataFrame(dict(zip(columns, data, strict=True)), columns=columns)
        for (name, (_sql, columns)), data in zip(SQLS.items(), fast, strict=True)
    }


def load_index(session: Session, *, arrow: bool = True) -> SearchIndex:
    """Every searchable row, folded (cached by the UI per data version; `find` checks who asks)."""
    rows = read_rows(session, arrow=arrow)
    return pipeline_search.build_index(rows["accounts"], rows["contacts"], rows["deals"])


def find(*, index: SearchIndex, actor: Actor, query: str, limit: int | None = 50) -> Results:
    """The actor's best matches of `query` and the count per kind (see
    crm_impl.pipeline.search for the ranking)."""
    require(actor, "pipeline.read")
    return pipeline_search.results(index, query, limit)


def search(*, session: Session, actor: Actor, query: str, limit: int | None = 50) -> pd.DataFrame:
    """Read and search in one go (the CLI, tests); pages keep the index cached instead."""
    require(actor, "pipeline.read")
    return find(index=load_index(session), actor=actor, query=query, limit=limit).top
