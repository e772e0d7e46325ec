"""Bench (d): import 1,000,000 deal rows (streaming) against a raw bulk insert of the same rows.

    python -m bench.import_deals [--rows 1000000] [--database-url URL]

Generates a Maven-like CSV (day-first dates, stage names mapped by a mapping file), then in two
fresh databases and two child processes (so each peak RSS is its own) measures
(a) `services.imports.run_import` committing every row — parsing, validation, reference
resolution, deals + stage history + product lines; (b) the limit: the same deal, stage-change
and product rows inserted with SQLAlchemy Core executemany, ids assigned up front, no checks.
Prints both times, the ratio a/b (target ≤ 2) and the import's peak RSS (target ≤ 500 MB).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

AGENTS = [f"Agent {i:02d}" for i in range(30)]
PRODUCTS = {"GTX Basic": 550, "GTX Pro": 4821, "MG Special": 55, "MG Advanced": 3393, "GTK 500": 26768}
ACCOUNTS = [f"Account {i:04d}" for i in range(2000)]
STAGES = np.array(["Prospecting", "Engaging", "Won", "Lost"])
MAPPING = """
[options]
date_format = "%d-%m-%Y"
decimal = "."
[deals.columns]
external_ref = "opportunity_id"
owner = "sales_agent"
product = "product"
account = "account"
stage = "deal_stage"
created = "engage_date"
closed = "close_date"
value = "close_value"
[deals.values.stage]
Prospecting = "prospect"
Engaging = "contact_made"
Won = "completed"
Lost = "lost"
[deals.options]
first_stage = "contact_made"
"""


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    step = 200_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n")
        for start in range(0, rows, step):
            n = min(step, rows - start)
            stage = STAGES[rng.choice(4, n, p=[0.06, 0.18, 0.48, 0.28])]
            engage = pd.Timestamp("2016-10-20") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
            close = engage + pd.to_timedelta(rng.integers(1, 140, n), unit="D")
            closed = np.isin(stage, ["Won", "Lost"])
            product = np.array(list(PRODUCTS))[rng.integers(0, len(PRODUCTS), n)]
            account = np.array(ACCOUNTS)[rng.integers(0, len(ACCOUNTS), n)]
            value = np.where(stage == "Won", rng.integers(40, 30000, n), 0)
            frame = pd.DataFrame(
                {
                    "id": [f"B{start + i:09d}" for i in range(n)],
                    "agent": np.array(AGENTS)[rng.integers(0, len(AGENTS), n)],
                    "product": product,
                    "account": np.where(stage == "Prospecting", "", account),
                    "stage": stage,
                    "engage": np.where(stage == "Prospecting", "", engage.strftime("%d-%m-%Y")),
                    "close": np.where(closed, close.strftime("%d-%m-%Y"), ""),
                    "value": value,
                }
            )
            frame.to_csv(fh, header=False, index=False)


def prepare(url: str) -> None:
    """Schema, default stages, and the accounts, products and users the deals refer to."""
    from sqlalchemy import insert

    from crm_impl.core.db import UnitOfWork, get_engine, upgrade
    from crm_impl.core.models import UserAccount
    from crm_impl.pipeline.models import Account, Product
    from crm_impl.pipeline.services.stages import ensure_default_stages

    upgrade(url)
    with UnitOfWork(get_engine(url)) as uow:
        ensure_default_stages(session=uow.session)
        conn = uow.session.connection()
        now = datetime.now(UTC)
        conn.execute(
            insert(UserAccount.__table__),
            [
                {"username": f"agent{i:02d}", "display_name": a, "roles": ["sales_rep"], "created_at": now}
                for i, a in enumerate(AGENTS)
            ]
            + [{"username": "bench", "display_name": "Bench", "roles": ["admin"], "created_at": now}],
        )
        conn.execute(insert(Account.__table__), [{"name": a, "created_at": now} for a in ACCOUNTS])
        conn.execute(
            insert(Product.__table__), [{"name": p, "price": Decimal(v)} for p, v in PRODUCTS.items()]
        )
        uow.commit()


def phase_import(url: str, csv_path: Path) -> dict:
    from crm_impl.core.db import UnitOfWork, get_engine
    from crm_impl.core.permissions import SYSTEM
    from crm_impl.importers import mapping
    from crm_impl.pipeline import importing as imports

    start = time.perf_counter()
    with UnitOfWork(get_engine(url)) as uow:
        report = imports.run_import(
            session=uow.session,
            actor=SYSTEM,
            entity="deals",
            data=csv_path,
            mapping=mapping.loads(MAPPING),
            dry_run=False,
        )
        uow.commit()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "created": report.created, "rejected": report.rejected, **report.extra}


def phase_raw(url: str, csv_path: Path) -> dict:
    """The limit: read the rows and insert them as they are, ids assigned here, no checks."""
    from sqlalchemy import insert, select

    from crm_impl.core.db import UnitOfWork, get_engine
    from crm_impl.core.models import UserAccount
    from crm_impl.pipeline.models import Account, Deal, DealProduct, Product, StageChange, StageDefinition

    start = time.perf_counter()
    with UnitOfWork(get_engine(url)) as uow:
        s = uow.session
        stage = dict(s.execute(select(StageDefinition.key, StageDefinition.id)).all())
        stage_of = {
            "Prospecting": stage["prospect"],
            "Engaging": stage["contact_made"],
            "Won": stage["completed"],
        }
        stage_of["Lost"] = stage["lost"]
        users = dict(s.execute(select(UserAccount.display_name, UserAccount.id)).all())
        accounts = dict(s.execute(select(Account.name, Account.id)).all())
        products = {n: (i, p) for n, i, p in s.execute(select(Product.name, Product.id, Product.price)).all()}
        conn = s.connection()
        deal_id = 0
        now = datetime.now(UTC)

        def day(text: str) -> datetime:
            return datetime.strptime(text, "%d-%m-%Y").replace(hour=12, tzinfo=UTC) if text else now

        with csv_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            deals, changes, lines = [], [], []
            for ref, agent, product, account, st, engage, close, value in reader:
                deal_id += 1
                created, closed = day(engage), (day(close) if close else None)
                sid = stage_of[st]
                deals.append(
                    {
                        "id": deal_id,
                        "version": 1,
                        "title": ref,
                        "account_id": accounts.get(account),
                        "value": Decimal(value),
                        "currency": "PLN",
                        "stage_id": sid,
                        "owner_id": users[agent],
                        "external_ref": ref,
                        "created_at": created,
                        "stage_entered_at": closed or created,
                        "last_touch_at": closed or created,
                        "closed_at": closed,
                    }
                )
                first = sid if st in ("Prospecting", "Engaging") else stage["contact_made"]
                changes.append({"deal_id": deal_id, "to_stage_id": first, "at": created})
                if closed:
                    changes.append(
                        {"deal_id": deal_id, "from_stage_id": first, "to_stage_id": sid, "at": closed}
                    )
                pid, price = products[product]
                lines.append(
                    {"deal_id": deal_id, "product_id": pid, "quantity": Decimal(1), "unit_price": price}
                )
                if len(deals) >= 5000:
                    conn.execute(insert(Deal.__table__), deals)
                    conn.execute(insert(StageChange.__table__), changes)
                    conn.execute(insert(DealProduct.__table__), lines)
                    deals, changes, lines = [], [], []
            if deals:
                conn.execute(insert(Deal.__table__), deals)
                conn.execute(insert(StageChange.__table__), changes)
                conn.execute(insert(DealProduct.__table__), lines)
        uow.commit()
    return {"seconds": time.perf_counter() - start, "created": deal_id}


def _child(phase: str, url: str, csv_path: Path) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.import_deals",
            "--phase",
            phase,
            "--database-url",
            url,
            "--csv",
            str(csv_path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh(url: str | None, tmp: Path, name: str) -> str:
    if url is None:
        return f"sqlite:///{tmp / name}.db"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(url)
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    db = f"{admin.database}_bench_{name}"
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    eng.dispose()
    return admin.set(database=db).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--phase", choices=["import", "raw"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--csv", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        result = (phase_import if args.phase == "import" else phase_raw)(args.database_url, Path(args.csv))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        csv_path = tmp / "deals.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows)
        size, took = csv_path.stat().st_size / 1e6, time.perf_counter() - t0
        print(f"generated {args.rows:,} rows ({size:.0f} MB) in {took:.1f} s")
        urls = {phase: _fresh(args.database_url, tmp, phase) for phase in ("import", "raw")}
        for url in urls.values():
            prepare(url)
        raw = _child("raw", urls["raw"], csv_path)
        imp = _child("import", urls["import"], csv_path)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"backend: {backend}")
    print(f"(b) raw bulk insert: {raw['seconds']:.1f} s, {raw['created']:,} deals")
    print(
        f"(a) import:          {imp['seconds']:.1f} s, {imp['created']:,} deals, "
        f"{imp.get('stage_changes', 0):,} stage changes, {imp['rejected']} rejected, "
        f"peak RSS {imp['peak_rss_mb']:.0f} MB"
    )
    ratio = imp["seconds"] / raw["seconds"]
    print(f"ratio a/b: {ratio:.2f} (target <= 2) {'OK' if ratio <= 2 else 'OVER'}")
    rss = imp["peak_rss_mb"]
    print(f"peak RSS: {rss:.0f} MB (target <= 500) {'OK' if rss <= 500 else 'OVER'}")


if __name__ == "__main__":
    main()
