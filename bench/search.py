"""Search benchmark: `python -m bench.search [--deals 100000] [--backend both|sqlite|postgresql]`.

Builds 20,000 clients (Polish names, cities, NIPs), 40,000 contacts and 100,000 deals with bulk
inserts, in a temporary SQLite file and (`--backend both`, the default) in a fresh PostgreSQL
database (CRM_IMPL_BENCH_PG_URL or CRM_IMPL_TEST_PG_URL; skipped with a notice when unset), and
measures on each:
  (b) the limit: the Arrow (ADBC) read of the same rows (the three queries of
      crm_impl.pipeline.queries.search) straight into pandas, nothing else;
  (a) the index the results page caches per data version: that read plus folding every row
      (`load_index`), and a/b;
  (q) each query on the built index, as the results page asks it (fold the query, substring
      tiers, NIP digits, rapidfuzz over every label, rank, the best 50 and counts): best of 5, q/b;
and peak memory (tracemalloc while building and searching, and the process's ru_maxrss).
"""

from __future__ import annotations

import argparse
import functools
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, select

from bench.timing import interleaved
from crm_impl.core import arrow as core_arrow
from crm_impl.core.db import UnitOfWork, dispose_engines, get_engine, upgrade
from crm_impl.pipeline import search as pipeline_search
from crm_impl.pipeline.demo import CITIES, FIRST, FORMS, LAST, NAME_A, NAME_B, PRODUCTS, nip_for
from crm_impl.pipeline.models import StageDefinition
from crm_impl.pipeline.queries import search as search_queries
from crm_impl.pipeline.services.stages import ensure_default_stages

OWNERS = 40
ACCOUNTS = 20_000
CONTACTS = 40_000
QUERIES = (
    "Żwirex",
    "ŻWIREX",
    "Zwirek",
    "Łód",
    "lodz",
    "1234563218",
    "123-456-32-18",
    "kowalski",
    "deal 4711",
    "a",
)
WHEN = "2025-01-01 00:00:00.000000"


def generate(url: str, deals: int, seed: int = 1) -> dict[str, int]:
    """Owners, clients (one of them "Żwirex sp. z o.o.", NIP 123-456-32-18, in Łódź), contacts
    and deals."""
    rng = random.Random(seed)
    engine = get_engine(url)
    with UnitOfWork(engine) as uow:
        ensure_default_stages(session=uow.session)
        uow.commit()
    with Session(engine) as s:
        stage_ids = [int(i) for i in s.exec(select(StageDefinition.id)).all() if i is not None]
    pg = engine.dialect.name == "postgresql"

    def sql(statement: str) -> str:
        return statement.replace("?", "%s").replace("'en', 1,", "'en', TRUE,") if pg else statement

    nips: set[str] = {"1234563218"}
    accounts = [("Żwirex sp. z o.o.", "123-456-32-18", "Łódź")]
    while len(accounts) < ACCOUNTS:
        nip = nip_for(rng)
        if nip in nips:
            continue
        nips.add(nip)
        name = f"{rng.choice(NAME_A)}{rng.choice(NAME_B)} {len(accounts)} {rng.choice(FORMS)}"
        accounts.append((name, nip, rng.choice(CITIES)))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            sql(
                "INSERT INTO user_account (username, display_name, password_hash, roles, locale, is_active, "
                f"created_at, version) VALUES (?, ?, 'x', '[\"sales_rep\"]', 'en', 1, '{WHEN}', 1)"
            ),
            [(f"rep{i}", f"Rep {i}") for i in range(OWNERS)],
        )
        owners = [r[0] for r in conn.exec_driver_sql("SELECT id FROM user_account ORDER BY id").fetchall()]
        conn.exec_driver_sql(
            sql(
                "INSERT INTO account (id, name, nip, sector, city, owner_id, created_at, version) "
                f"VALUES (?, ?, ?, '', ?, ?, '{WHEN}', 1)"
            ),
            [(i + 1, n, nip, city, owners[i % OWNERS]) for i, (n, nip, city) in enumerate(accounts)],
        )
        conn.exec_driver_sql(
            sql(
                "INSERT INTO contact (id, account_id, full_name, email, position, created_at, version) "
                f"VALUES (?, ?, ?, ?, '', '{WHEN}', 1)"
            ),
            [
                (i + 1, rng.randint(1, ACCOUNTS), f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"c{i}@firma.pl")
                for i in range(CONTACTS)
            ],
        )
        conn.exec_driver_sql(
            sql(
                "INSERT INTO deal (id, title, account_id, value, currency, stage_id, owner_id, created_at, "
                f"stage_entered_at, last_touch_at, version) VALUES (?, ?, ?, 1000, 'PLN', ?, ?, '{WHEN}', "
                f"'{WHEN}', '{WHEN}', 1)"
            ),
            [
                (
                    i + 1,
                    f"Deal {i + 1} {rng.choice(PRODUCTS)}",
                    rng.randint(1, ACCOUNTS),
                    rng.choice(stage_ids),
                    rng.choice(owners),
                )
                for i in range(deals)
            ],
        )
        if pg:  # explicit ids: move the sequences past them
            for table in ("account", "contact", "deal"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    return {"accounts": ACCOUNTS, "contacts": CONTACTS, "deals": deals}


def arrow_read(session: Session) -> list[object]:
    """The limit (b): the index's three queries through Arrow (ADBC) into pandas, nothing else."""
    where = core_arrow.target(session, sqlite=True)  # this process writes nothing meanwhile
    assert where is not None, "the limit needs a committed file SQLite database or PostgreSQL"
    driver, database = where
    if driver == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc
    else:
        import adbc_driver_postgresql.dbapi as adbc  # type: ignore[no-redef]
    out: list[object] = []
    with adbc.connect(database) as conn, conn.cursor() as cur:
        for sql, _columns in search_queries.SQLS.values():
            cur.execute(sql)
            out.append(cur.fetch_arrow_table().to_pandas())
    return out


def best(fn: Callable[[], pipeline_search.Results], repeat: int = 5) -> tuple[float, pipeline_search.Results]:
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result


def run(label: str, url: str, deals: int) -> None:
    upgrade(url)
    start = time.perf_counter()
    sizes = generate(url, deals)
    print(f"{label}: generated {sizes} in {time.perf_counter() - start:.1f} s")
    engine = get_engine(url)

    def arrow():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return arrow_read(s)

    def build():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return search_queries.load_index(s)

    def cursor_build():  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            return search_queries.load_index(s, arrow=False)

    wall, cpu, results = interleaved({"arrow": arrow, "build": build, "cursor": cursor_build})
    index = results["build"]
    b = wall["arrow"]
    print(f"  (b) the limit: Arrow read (ADBC -> pandas) of the {len(index):,} rows: {b:.3f} s")
    print(
        f"  (a) index (read + fold every row, cached per data version): {wall['build']:.3f} s   a/b = "
        f"{wall['build'] / b:.2f}; through the DBAPI cursor: {wall['cursor']:.3f} s"
    )
    print(f"      CPU: (b) {cpu['arrow']:.3f} s, (a) {cpu['build']:.3f} s")
    for query in QUERIES:
        # as the results page asks: the best 50 and the count of every match per kind
        seconds, found = best(functools.partial(pipeline_search.results, index, query, 50))
        top = found.top.iloc[0] if found.total else None
        first = f"{top['kind']} {top['label']!r} (tier {top['tier']})" if top is not None else "nothing"
        print(
            f"  (q) {query!r:>17}: {seconds * 1000:6.1f} ms   q/b = {seconds / b:.2f}   "
            f"{found.total:>7,} hits, first: {first}"
        )
    tracemalloc.start()
    with Session(engine) as s:
        index = search_queries.load_index(s)
    pipeline_search.results(index, "Zwirek")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak traced memory (build + a fuzzy query): {peak / 2**20:.0f} MB; process max RSS: {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    args = parser.parse_args()
    from bench.concurrency import _drop, _pg_admin_url
    from bench.import_deals import _fresh

    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("both", "sqlite"):
            run("SQLite", f"sqlite:///{Path(tmp) / 'search.db'}", args.deals)
            dispose_engines()
        if args.backend in ("both", "postgresql"):
            admin = _pg_admin_url()
            if admin is not None:
                url = _fresh(admin, Path(tmp), "search")
                try:
                    run("PostgreSQL", url, args.deals)
                finally:
                    dispose_engines()
                    _drop(admin, url)


if __name__ == "__main__":
    main()
