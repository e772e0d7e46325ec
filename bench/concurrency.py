"""Concurrency bench: many writers at once on SQLite and PostgreSQL (issue 8).

    python -m bench.concurrency [--writers 8] [--writes 200] [--import-rows 100000]
                                [--backend both|sqlite|postgresql] [--move-pause 0.05]

PostgreSQL: the server in CRM_IMPL_BENCH_PG_URL, else CRM_IMPL_TEST_PG_URL (a role that may
create databases; the bench makes and drops its own database). Unreachable or unset: a printed
notice and the PostgreSQL half is skipped.

Per backend, in a fresh database (the users, accounts and products of bench.import_deals,
plus one sales manager per writer, each with 25 deals of their own and one deal all share):

(1) mixed: `--writers` processes x `--writes` writes each, every write as the app's UI does it
    (read the row as a page would, then save with the version it was read at, through
    `crm_impl.core.db.write` - the retrying write of the UI's save path - when it exists):
    45 % stage moves of an own deal, 30 % edits of the shared deal (title and value), 25 %
    product saves on the shared deal (1-3 lines).
(2) import: the same writers keep moving their own deals (a pause of `--move-pause` s between
    moves) while another process imports `--import-rows` deal rows (the import engine,
    all-or-nothing, as `crm-impl import` runs it), until the import has committed.

Printed per phase: successes, conflicts ("changed by someone else"), translated errors shown
(busy, other), raw errors (anything else reaching a user; "database is locked" counted
apart), lost updates, busy retries (`crm_impl.core.db.busy_retries()` when present), the
longest wait of one write, and the longest write-lock hold (first INSERT/UPDATE/DELETE of a
transaction to its COMMIT) of a writer and of the import.

Lost updates: each successful shared-deal write produced one version; two successes from the
same version, a final version other than start + successes, a final title/value other than the
newest successful edit's, or products other than the newest successful product save's are
each one lost update; so is an own deal whose final stage is not its last successful move's.
Targets: 0 lost, 0 raw errors, 0 "locked" failures.

Measured (defaults, 2 shared cores under a load of ~16, 39 min in all): SQLite (1) 1600 writes,
967 ok, 633 conflicts, 0 errors, 0 lost, longest hold 0.4 s; (2) 3226 moves, 16 "busy"
shown after 32 retries (longest wait 33 s), 0 raw, 0 lost, the import holding the write lock
66 s of its 263 s. PostgreSQL (1) 907 ok, 693 conflicts, 0 errors, 0 lost; (2) 8854 moves, 0
errors, 0 lost, longest wait 4.6 s (import 1169 s, its transaction writing for 534 s).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import tempfile
import time
from collections import Counter
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

OWN_DEALS = 25
MOVE_TARGETS = ("prospect", "contact_made", "needs_analysis", "offer", "negotiation", "contract")


# ---- measuring inside a process ------------------------------------------------------------

_HOLD: dict[str, float | None] = {"t0": None, "max": 0.0}


def _watch_locks(engine: Any) -> None:
    """Time every transaction from its first write statement (the write lock is held from then
    on: SQLite's database lock, PostgreSQL's row locks) to its end."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session as OrmSession

    def after_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if _HOLD["t0"] is None and statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            _HOLD["t0"] = time.perf_counter()

    def ended(_session: Any) -> None:
        t0 = _HOLD["t0"]
        if t0 is not None:
            _HOLD["max"] = max(float(_HOLD["max"] or 0.0), time.perf_counter() - t0)
            _HOLD["t0"] = None

    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(OrmSession, "after_commit", ended)
    event.listen(OrmSession, "after_rollback", ended)


def _retries() -> int | None:
    from crm_impl.core import db

    counter = getattr(db, "busy_retries", None)
    return int(counter()) if callable(counter) else None


def _write(engine: Any, work: Any) -> Any:
    """The UI's save path: `db.write` (re-runs a busy transaction with backoff) when present."""
    from crm_impl.core import db

    if hasattr(db, "write"):
        return db.write(work, engine=engine)
    with db.UnitOfWork(engine) as uow:
        result = work(uow.session)
        uow.commit()
    return result


# ---- the three writes, as the UI's save path runs them (one transaction each) ----------------


def _move(session: Any, *, actor: Any, deal_id: int, version: int, to: str) -> int:
    from crm_impl.pipeline.services import deals as pipeline

    return pipeline.move_deal(
        session=session, actor=actor, deal_id=deal_id, expected_version=version, to_stage_key=to
    ).version


def _edit(session: Any, *, actor: Any, deal_id: int, version: int, payload: tuple[str, Decimal]) -> int:
    from crm_impl.pipeline.models import DealUpdate
    from crm_impl.pipeline.services import deals as pipeline

    return pipeline.update_deal(
        session=session,
        actor=actor,
        deal_id=deal_id,
        expected_version=version,
        data=DealUpdate(title=payload[0], value=payload[1]),
    ).version


def _products(session: Any, *, actor: Any, deal_id: int, version: int, lines: list[tuple[int, int]]) -> int:
    from crm_impl.pipeline.models import Deal, DealProductLine
    from crm_impl.pipeline.services import deals as pipeline

    pipeline.set_deal_products(
        session=session,
        actor=actor,
        deal_id=deal_id,
        expected_version=version,
        items=[DealProductLine(product_id=p, quantity=q) for p, q in lines],
    )
    deal = session.get(Deal, deal_id)  # flushed: the version this save produced
    return int(deal.version) if deal is not None else -1


# ---- one writer process --------------------------------------------------------------------


def _writer(
    url: str,
    index: int,
    plan: dict[str, Any],
    mode: str,
    start: Any,
    stop: Any,
    results: Any,
) -> None:
    from crm_impl.core.db import get_engine, read_session
    from crm_impl.core.errors import ConflictError, DomainError
    from crm_impl.core.permissions import Actor
    from crm_impl.pipeline.models import Deal, StageDefinition

    engine = get_engine(url)
    _watch_locks(engine)
    actor = Actor(id=plan["users"][index], username=f"writer{index}", roles=("sales_manager",))
    own: list[int] = plan["own"][index]
    shared: int = plan["shared"]
    products: list[int] = plan["products"]
    rng = random.Random(index)
    stats: Counter[str] = Counter()
    samples: list[str] = []
    shared_ok: list[tuple[str, int, Any]] = []  # (kind, version produced, what was written)
    last_move: dict[int, str] = {}
    longest_wait = 0.0
    start.wait()
    k = 0
    while True:
        if mode == "mixed" and k >= plan["writes"]:
            break
        if mode == "import" and stop.is_set() and k >= 1:
            break
        roll = rng.random() if mode == "mixed" else 0.0
        kind = "move" if roll < 0.45 else "edit" if roll < 0.75 else "products"
        target = shared if kind != "move" else rng.choice(own)
        with read_session(engine) as session:  # the page the user saves from
            row = session.get(Deal, target)
            assert row is not None
            version, stage_id = row.version, row.stage_id
            stage = session.get(StageDefinition, stage_id)
            stage_key = stage.key if stage is not None else ""
        began = time.perf_counter()
        try:
            if kind == "move":
                to = rng.choice([s for s in MOVE_TARGETS if s != stage_key])
                _write(engine, partial(_move, actor=actor, deal_id=target, version=version, to=to))
                last_move[target] = to
            elif kind == "edit":
                payload = (f"Shared w{index}-{k}", Decimal(index * 100_000 + k))
                done = _write(
                    engine, partial(_edit, actor=actor, deal_id=shared, version=version, payload=payload)
                )
                shared_ok.append(("edit", done, payload))
            else:
                chosen = rng.sample(products, rng.randint(1, min(3, len(products))))
                lines = sorted((p, index * 1000 + k + 1) for p in chosen)
                done = _write(
                    engine, partial(_products, actor=actor, deal_id=shared, version=version, lines=lines)
                )
                shared_ok.append(("products", done, lines))
            stats["success"] += 1
        except ConflictError:
            stats["conflict"] += 1
        except DomainError as err:
            name = type(err).__name__
            stats["busy_shown" if name == "DatabaseBusy" else "other_shown"] += 1
            if len(samples) < 3:
                samples.append(f"{name}: {err.message()}")
        except Exception as err:  # a raw error would reach the user
            stats["raw"] += 1
            if "locked" in str(err).lower():
                stats["locked"] += 1
            if len(samples) < 3:
                samples.append(f"{type(err).__name__}: {str(err).splitlines()[0][:160]}")
        longest_wait = max(longest_wait, time.perf_counter() - began)
        k += 1
        if mode == "import":
            time.sleep(plan["move_pause"])
    results.put(
        {
            "stats": dict(stats),
            "samples": samples,
            "shared_ok": shared_ok,
            "last_move": last_move,
            "hold": _HOLD["max"],
            "wait": longest_wait,
            "retries": _retries(),
        }
    )


# ---- the import process --------------------------------------------------------------------


def _importer(url: str, csv_path: str, started: Any, results: Any) -> None:
    from bench.import_deals import MAPPING
    from crm_impl.core.db import UnitOfWork, get_engine
    from crm_impl.core.permissions import SYSTEM
    from crm_impl.importers import mapping
    from crm_impl.pipeline import importing as imports

    engine = get_engine(url)
    _watch_locks(engine)
    out: dict[str, Any] = {}
    began = time.perf_counter()
    started.set()
    try:
        with UnitOfWork(engine) as uow:
            report = imports.run_import(
                session=uow.session,
                actor=SYSTEM,
                entity="deals",
                data=Path(csv_path),
                mapping=mapping.loads(MAPPING),
                dry_run=False,
            )
            uow.commit()
        out.update(created=report.created, rejected=report.rejected)
    except Exception as err:
        out["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
    out.update(seconds=time.perf_counter() - began, hold=_HOLD["max"], retries=_retries())
    results.put(out)


# ---- setup, phases, checks -----------------------------------------------------------------


def _setup(url: str, writers: int) -> dict[str, Any]:
    from sqlalchemy import insert
    from sqlmodel import col, select

    from bench.import_deals import prepare
    from crm_impl.core.db import UnitOfWork, get_engine
    from crm_impl.core.models import UserAccount, utcnow
    from crm_impl.core.permissions import Actor
    from crm_impl.pipeline.models import Account, DealCreate, Product
    from crm_impl.pipeline.services import deals as pipeline

    prepare(url)
    engine = get_engine(url)
    with UnitOfWork(engine) as uow:
        conn = uow.session.connection()
        conn.execute(
            insert(UserAccount),
            [
                {
                    "username": f"writer{i}",
                    "display_name": f"Writer {i}",
                    "roles": ["sales_manager"],
                    "created_at": utcnow(),
                }
                for i in range(writers)
            ],
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        s = uow.session
        users = [
            int(s.exec(select(UserAccount.id).where(UserAccount.username == f"writer{i}")).one() or 0)
            for i in range(writers)
        ]
        accounts = [int(a or 0) for a in s.exec(select(Account.id).order_by(col(Account.id)).limit(50)).all()]
        products = [int(p or 0) for p in s.exec(select(Product.id).order_by(col(Product.id))).all()]
        own: list[list[int]] = []
        for i, uid in enumerate(users):
            actor = Actor(id=uid, username=f"writer{i}", roles=("sales_manager",))
            own.append(
                [
                    int(
                        pipeline.create_deal(
                            session=s,
                            actor=actor,
                            data=DealCreate(
                                title=f"Own {i}-{n}", account_id=accounts[(i + n) % len(accounts)]
                            ),
                        ).id
                        or 0
                    )
                    for n in range(OWN_DEALS)
                ]
            )
        first = Actor(id=users[0], username="writer0", roles=("sales_manager",))
        shared = int(
            pipeline.create_deal(
                session=s, actor=first, data=DealCreate(title="Shared", account_id=accounts[0])
            ).id
            or 0
        )
        uow.commit()
    return {"users": users, "own": own, "shared": shared, "products": products}


def _run_writers(
    url: str, plan: dict[str, Any], mode: str, writers: int, csv_path: Path | None
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, i, plan, mode, start, stop, results)) for i in range(writers)
    ]
    for p in procs:
        p.start()
    imported: dict[str, Any] | None = None
    began = time.perf_counter()
    if csv_path is not None:
        started, import_results = ctx.Event(), ctx.Queue()
        importer = ctx.Process(target=_importer, args=(url, str(csv_path), started, import_results))
        importer.start()
        started.wait(120)
        began = time.perf_counter()
        start.set()
        imported = import_results.get()  # waits for the import's commit (or failure)
        importer.join()
        stop.set()
    else:
        time.sleep(3)  # let every writer import the app before the start signal
        began = time.perf_counter()
        start.set()
    outs = [results.get() for _ in procs]
    for p in procs:
        p.join()
    return {"writers": outs, "import": imported, "seconds": time.perf_counter() - began}


def _check(
    url: str, plan: dict[str, Any], outs: list[dict[str, Any]], start_version: int
) -> tuple[int, list[str]]:
    """Lost updates of a phase, and what each one was."""
    from sqlmodel import Session, col, select

    from crm_impl.core.db import get_engine
    from crm_impl.pipeline.models import Deal, DealProduct, StageDefinition

    lost: list[str] = []
    ok = sorted((v, kind, payload) for out in outs for kind, v, payload in out["shared_ok"])
    versions = [v for v, _, _ in ok]
    with Session(get_engine(url)) as s:
        keys = {sid: key for sid, key in s.exec(select(StageDefinition.id, StageDefinition.key)).all()}
        shared = s.get(Deal, plan["shared"])
        assert shared is not None
        if len(set(versions)) != len(versions):
            lost.append(f"{len(versions) - len(set(versions))} shared writes succeeded from the same version")
        if ok and shared.version != start_version + len(ok):
            lost.append(f"shared deal version {shared.version}, expected {start_version + len(ok)}")
        edits = [p for _, kind, p in ok if kind == "edit"]
        if edits and (shared.title, shared.value) != (edits[-1][0], edits[-1][1].quantize(Decimal("0.01"))):
            lost.append(f"shared deal is {shared.title!r}/{shared.value}, newest edit {edits[-1]}")
        saves = [p for _, kind, p in ok if kind == "products"]
        lines = sorted(
            (r.product_id, int(r.quantity))
            for r in s.exec(select(DealProduct).where(col(DealProduct.deal_id) == plan["shared"])).all()
        )
        if saves and lines != [tuple(x) for x in saves[-1]]:
            lost.append(f"shared deal products {lines}, newest save {saves[-1]}")
        for out in outs:
            for deal_id, stage in out["last_move"].items():
                row = s.get(Deal, int(deal_id))
                if row is None or keys[row.stage_id] != stage:
                    lost.append(f"deal {deal_id} in {row and keys[row.stage_id]}, last move to {stage}")
    return len(lost), lost


def _version(url: str, deal_id: int) -> int:
    from sqlmodel import Session

    from crm_impl.core.db import get_engine
    from crm_impl.pipeline.models import Deal

    with Session(get_engine(url)) as s:
        row = s.get(Deal, deal_id)
        return int(row.version) if row is not None else 0


def _report(title: str, result: dict[str, Any], lost: tuple[int, list[str]]) -> None:
    outs = result["writers"]
    total: Counter[str] = Counter()
    for out in outs:
        total.update(out["stats"])
    retries = [o["retries"] for o in outs]
    imp = result["import"]
    if imp is not None:
        retries.append(imp.get("retries"))
    known = [r for r in retries if r is not None]
    writes = sum(total.values())
    print(f"  {title}: {writes} writes in {result['seconds']:.1f} s")
    print(
        f"    successes {total['success']}, conflicts {total['conflict']}, "
        f"errors shown: busy {total['busy_shown']}, other {total['other_shown']}; "
        f'raw errors {total["raw"]} ("locked" {total["locked"]})'
    )
    print(f"    lost updates {lost[0]}" + "".join(f"\n      - {x}" for x in lost[1][:5]))
    print(
        "    busy retries "
        + (str(sum(known)) if known else "n/a (crm_impl.core.db has no busy_retries() counter)")
    )
    print(
        f"    longest wait of one write {max(o['wait'] for o in outs):.2f} s; "
        f"longest write-lock hold: writers {max(o['hold'] or 0 for o in outs) * 1000:.0f} ms"
        + (f", import {imp['hold']:.1f} s" if imp is not None else "")
    )
    if imp is not None:
        state = (
            imp.get("error") or f"{imp.get('created', 0):,} deals created, {imp.get('rejected', 0)} rejected"
        )
        print(f"    import: {state} in {imp['seconds']:.1f} s")
    samples = sorted({s for o in outs for s in o["samples"]})
    for sample in samples[:5]:
        print(f"      e.g. {sample}")


def _pg_admin_url() -> str | None:
    url = os.environ.get("CRM_IMPL_BENCH_PG_URL") or os.environ.get("CRM_IMPL_TEST_PG_URL")
    if not url:
        print("PostgreSQL: skipped (set CRM_IMPL_BENCH_PG_URL or CRM_IMPL_TEST_PG_URL)")
        return None
    from sqlalchemy import create_engine, text

    from crm_impl.core.db import normalize_url

    url = normalize_url(url)
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 5})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
    except Exception as err:
        print(f"PostgreSQL: skipped, {url.split('@')[-1]} is unreachable ({type(err).__name__})")
        return None
    return url


def run_backend(name: str, url: str, args: argparse.Namespace, csv_path: Path) -> None:
    from crm_impl.core.db import dispose_engines

    t0 = time.perf_counter()
    plan = _setup(url, args.writers)
    plan.update(writes=args.writes, move_pause=args.move_pause)
    dispose_engines()  # the children open their own connections
    print(f"{name}: {args.writers} writers, set up in {time.perf_counter() - t0:.1f} s")
    start_version = _version(url, plan["shared"])
    mixed = _run_writers(url, plan, "mixed", args.writers, None)
    _report(
        f"(1) mixed, {args.writes} writes per writer",
        mixed,
        _check(url, plan, mixed["writers"], start_version),
    )
    if args.import_rows > 0:
        start_version = _version(url, plan["shared"])
        during = _run_writers(url, plan, "import", args.writers, csv_path)
        _report(
            f"(2) moves during a {args.import_rows:,}-row import",
            during,
            _check(url, plan, during["writers"], start_version),
        )
    dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=200, help="writes per writer in phase (1)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="0 skips phase (2)")
    parser.add_argument("--move-pause", type=float, default=0.05, help="seconds between moves in (2)")
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    args = parser.parse_args()
    from bench.import_deals import _fresh, generate

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        csv_path = tmp / "deals.csv"
        if args.import_rows > 0:
            generate(csv_path, args.import_rows)
        if args.backend in ("both", "sqlite"):
            run_backend("SQLite", _fresh(None, tmp, "concurrency"), args, csv_path)
        if args.backend in ("both", "postgresql"):
            admin = _pg_admin_url()
            if admin is not None:
                url = _fresh(admin, tmp, "concurrency")
                try:
                    run_backend("PostgreSQL", url, args, csv_path)
                finally:
                    _drop(admin, url)


def _drop(admin: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    # WITH (FORCE) may not end a server process of another role (autovacuum on the fresh
    # import): then wait for it and drop without force; a leftover database is only reported
    for attempt, sql in enumerate(
        [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'] + [f'DROP DATABASE IF EXISTS "{name}"'] * 5
    ):
        try:
            with eng.connect() as conn:
                conn.execute(text(sql))
            break
        except Exception as err:  # noqa: BLE001 - cleaning up after the measurements
            if attempt == 5:
                print(f"PostgreSQL: could not drop {name} ({type(err).__name__}); drop it by hand")
            time.sleep(5)
    eng.dispose()


if __name__ == "__main__":
    main()
