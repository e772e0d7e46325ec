"""Stock levels from the ERP (issue 12, slide 7): the import (the example file with its Polish
mapping, row errors naming line and column with nothing written, an idempotent re-import, a
changed day kept in the audit), what is available per product, the pure shortages metric, the
warning when a deal moves into Offer with more offered than available, the deal page and the
board as a user sees them, and `crm-impl import stock`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core import clock
from crm_impl.core.db import UnitOfWork, get_engine
from crm_impl.core.i18n import fmt_date, fmt_number, set_locale, t
from crm_impl.core.models import AuditEntry
from crm_impl.core.permissions import SYSTEM
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline import demo as pipeline_demo
from crm_impl.pipeline import importing
from crm_impl.pipeline.metrics import stock as stock_metrics
from crm_impl.pipeline.models import (
    AccountCreate,
    Deal,
    DealCreate,
    DealProduct,
    DealProductLine,
    Product,
    StageDefinition,
    StockLevel,
)
from crm_impl.pipeline.queries import stock as stock_queries
from crm_impl.pipeline.services import deals as pipeline

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data" / "erp" / "stock.csv"
MAPPING = ROOT / "examples" / "mappings" / "erp-stock-pl.toml"
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # the day after the example file's report


def _import(engine, actor, data: bytes, *, mapping=None, dry_run=False, strict=False):
    with clock.at(MORNING), UnitOfWork(engine) as uow:
        report = importing.run_import(
            session=uow.session,
            actor=actor,
            entity="stock",
            data=data,
            mapping=mapping,
            dry_run=dry_run,
            strict=strict,
            filename="stock.csv",
        )
        uow.commit()
    return report


def _stock_rows(engine) -> list[tuple]:
    with Session(engine) as s:
        return [
            (r.product_id, r.warehouse, r.as_of, float(r.on_hand), float(r.reserved), r.imported_at)
            for r in s.exec(select(StockLevel).order_by(col(StockLevel.id))).all()
        ]


def _available(engine) -> dict[str, tuple[float, date]]:
    with Session(engine) as s:
        names = {p.id: p.name for p in s.exec(select(Product)).all()}
        df = stock_queries.available(session=s)
    return {names[r.product_id]: (r.available, r.as_of.date()) for r in df.itertuples()}


@pytest.fixture
def manager(make_user):
    return make_user("boss", "sales_manager")


@pytest.fixture
def catalogue(engine, manager) -> dict[str, int]:
    """The demo company's catalogue, imported as the demo's sales manager does."""
    lines = ["name,series,price"] + [f"{n},{s},{p}.00" for n, s, p in pipeline_demo.CATALOGUE]
    with UnitOfWork(engine) as uow:
        importing.run_import(
            session=uow.session,
            actor=manager,
            entity="products",
            data="\n".join(lines).encode(),
            dry_run=False,
        )
        uow.commit()
    with Session(engine) as s:
        return {p.name: int(p.id or 0) for p in s.exec(select(Product)).all()}


def test_the_example_file_imports_into_the_demo_catalogue_and_again_changes_nothing(
    engine, manager, catalogue
):
    mapping = mapping_mod.load(MAPPING)
    report = _import(engine, manager, EXAMPLE.read_bytes(), mapping=mapping)
    assert report.written and report.errors == [] and report.created == 15
    available = _available(engine)
    assert set(available) == set(catalogue)  # every catalogue product has a figure
    # WAW 1 200 - 350 plus KRK 640 - 0; "1 200,00" read with the decimal comma
    assert available["Cement CEM II 25 kg"] == (1490.0, date(2026, 12, 1))
    assert available["Roof tile Classic"][0] == 15500.0  # KRK fully reserved counts 0
    assert available["Rebar B500 12 mm"][0] == 1.5
    before = _stock_rows(engine)

    again = _import(engine, manager, EXAMPLE.read_bytes(), mapping=mapping)
    assert (again.created, again.updated, again.skipped, again.rejected) == (0, 0, 15, 0)
    assert _stock_rows(engine) == before  # not even the import time moves
    with Session(engine) as s:
        runs = s.exec(
            select(AuditEntry).where(AuditEntry.entity == "import", AuditEntry.entity_id == "stock")
        ).all()
        changed = s.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "stock_level")
        ).one()
    assert [r.after["created"] for r in runs] == [15, 0] and changed == 0


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_written(engine, manager, catalogue):
    data = (
        "Indeks;Magazyn;Stan;Rezerwacja;Na dzień\n"
        "CEM-II-25;WAW;100,00;0;01.12.2026\n"  # line 2: fine
        "CEM-XX;WAW;100,00;0;01.12.2026\n"  # line 3: unknown product code
        "GK-125;WAW;-5,00;0;01.12.2026\n"  # line 4: negative quantity
        "GK-125;KRK;5,00;-1;01.12.2026\n"  # line 5: negative reservation
        "OKNO-120;WAW;5,00;0;31.02.2026\n"  # line 6: no such day
        "OKNO-120;KRK;5,00;0;24.12.2026\n"  # line 7: not counted yet
        "cem-ii-25;waw;7,00;0;01.12.2026\n"  # line 8: line 2 again (case does not matter)
    ).encode()
    mapping = mapping_mod.load(MAPPING)
    mapping.entities["stock"].values["product"]["cem-ii-25"] = "Cement CEM II 25 kg"
    strict = _import(engine, manager, data, mapping=mapping, strict=True)
    found = {(e.line, e.column): e.key for e in strict.errors}
    assert found == {
        (3, "Indeks"): "imports.error.unknown_ref",
        (4, "Stan"): "imports.error.negative",
        (5, "Rezerwacja"): "imports.error.negative",
        (6, "Na dzień"): "imports.error.date",
        (7, "Na dzień"): "stock.import.error.future",
        (8, "Indeks"): "imports.error.duplicate_in_file",
    }
    assert not strict.written and _stock_rows(engine) == []
    set_locale("pl")
    try:
        by_line = {e.line: e.message() for e in strict.errors}
        assert by_line[3].startswith("Nieznany produkt „CEM-XX”.")
        assert "przyszłości" in by_line[7]
    finally:
        set_locale("en")
    assert "cannot be negative" in next(e.message() for e in strict.errors if e.line == 4)

    dry = _import(engine, manager, data, mapping=mapping, dry_run=True)
    assert dry.rejected == 6 and not dry.written and _stock_rows(engine) == []
    lenient = _import(engine, manager, data, mapping=mapping)
    assert lenient.created == 1 and lenient.rejected == 6
    assert [(r[1], r[3]) for r in _stock_rows(engine)] == [("WAW", 100.0)]


def test_a_new_day_is_the_current_figure_and_a_corrected_day_keeps_its_history(engine, manager, catalogue):
    head = "product,warehouse,on_hand,reserved,as_of\n"
    _import(engine, manager, (head + "Tile adhesive C2,WAW,50,10,2026-11-30\n").encode())
    newer = head + "Tile adhesive C2,WAW,20,5,2026-12-01\nTile adhesive C2,KRK,8,,2026-12-01\n"
    report = _import(engine, manager, newer.encode())
    assert report.created == 2
    assert _available(engine)["Tile adhesive C2"] == (23.0, date(2026, 12, 1))  # 20-5 + 8-0; not 40
    corrected = _import(engine, manager, (head + "Tile adhesive C2,waw,18,5,2026-12-01\n").encode())
    assert (corrected.created, corrected.updated) == (0, 1)
    assert _available(engine)["Tile adhesive C2"][0] == 21.0
    assert len(_stock_rows(engine)) == 3  # 30 Nov stays as history
    with Session(engine) as s:
        (entry,) = s.exec(select(AuditEntry).where(AuditEntry.entity == "stock_level")).all()
    assert entry.before == {"on_hand": "20.00"} and entry.after == {"on_hand": "18.00"}


def test_shortages_per_line_with_unknown_stock_as_no_data():
    lines = pd.DataFrame(
        {
            "deal_id": [1, 1, 1, 2, 2],
            "product_id": [10, 11, 12, 10, 13],
            "product": ["Cement", "Tiles", "Windows", "Cement", "Rebar"],
            "quantity": [120.0, 5.0, 3.0, 40.0, 10.0],
        }
    )
    stock = pd.DataFrame(
        {
            "product_id": [10, 11, 13],
            "available": [80.0, 5.0, -4.0],  # 13: more reserved than on hand
            "as_of": pd.to_datetime(["2026-12-01", "2026-11-30", "2026-12-01"]),
        }
    )
    out = stock_metrics.shortages(lines, stock)
    assert list(out["product"]) == list(lines["product"])  # same lines, same order
    assert out["offered"].tolist() == [120.0, 5.0, 3.0, 40.0, 10.0]
    assert out["shortfall"].tolist()[:2] == [40.0, 0.0] and np.isnan(out["shortfall"].iloc[2])
    assert out["shortfall"].iloc[3] == 0.0 and out["shortfall"].iloc[4] == 10.0  # nothing can be given
    assert out["short"].tolist() == [True, False, False, False, True]
    assert out["known"].tolist() == [True, True, False, True, True]  # Windows: no data, not 0
    assert np.isnan(out["available"].iloc[2]) and pd.isna(out["as_of"].iloc[2])
    assert stock_metrics.short_lines(lines, stock)["product"].tolist() == ["Cement", "Rebar"]
    none = stock_metrics.shortages(lines, stock.iloc[0:0])
    assert not none["short"].any() and none["available"].isna().all()


def _deal_with(engine, rep, lines: dict[int, float]) -> int:
    with UnitOfWork(engine) as uow:
        account = pipeline.create_account(session=uow.session, actor=rep, data=AccountCreate(name="Budmax"))
        deal = pipeline.create_deal(
            session=uow.session, actor=rep, data=DealCreate(title="Hala", value=1000, account_id=account.id)
        )
        pipeline.set_deal_products(
            session=uow.session,
            actor=rep,
            deal_id=int(deal.id or 0),
            expected_version=None,
            items=[DealProductLine(product_id=p, quantity=q) for p, q in lines.items()],
        )
        uow.commit()
        return int(deal.id or 0)


def test_moving_into_offer_names_the_products_short_of_stock(engine, manager, catalogue, make_user):
    rep = make_user("rep", "sales_rep")
    cement, tiles, windows = (
        catalogue[n] for n in ("Cement CEM II 25 kg", "Roof tile Classic", "PVC window 120x150")
    )
    _import(engine, manager, EXAMPLE.read_bytes(), mapping=mapping_mod.load(MAPPING))
    with Session(engine) as s:  # windows: the ERP knows nothing of them
        for row in s.exec(select(StockLevel).where(StockLevel.product_id == windows)).all():
            s.delete(row)
        s.commit()
    deal_id = _deal_with(engine, rep, {cement: 2000, tiles: 100, windows: 500})
    with Session(engine) as s:
        assert stock_queries.offer_shortages(session=s, actor=rep, deal_id=deal_id).empty  # still a prospect
        lines = stock_queries.deal_stock(session=s, actor=rep, deal_id=deal_id).set_index("product")
    assert lines.loc["Cement CEM II 25 kg", "shortfall"] == 510.0  # 2 000 offered, 1 490 available
    assert not lines.loc["Roof tile Classic", "short"]
    assert not lines.loc["PVC window 120x150", "known"]
    with UnitOfWork(engine) as uow:
        version = uow.session.get(Deal, deal_id).version
        pipeline.move_deal(
            session=uow.session, actor=rep, deal_id=deal_id, expected_version=version, to_stage_key="offer"
        )
        uow.commit()
    with Session(engine) as s:
        short = stock_queries.offer_shortages(session=s, actor=rep, deal_id=deal_id)
    assert short["product"].tolist() == ["Cement CEM II 25 kg"]  # windows: no data, not short
    assert short["available"].tolist() == [1490.0]


# ---- the pages, on the demo company --------------------------------------------------------------


def _demo_short_deal(url: str) -> tuple[int, str, str]:
    """The demo's deal in Offer with a product short of stock: id, title, that product."""
    engine = get_engine(url)
    with Session(engine) as s:
        offer = s.exec(select(StageDefinition).where(StageDefinition.key == "offer")).one()
        ids = s.exec(select(Deal.id).where(Deal.stage_id == offer.id)).all()
        for deal_id in ids:
            short = stock_queries.deal_stock(session=s, actor=SYSTEM, deal_id=int(deal_id or 0))
            short = short[short["short"]]
            if len(short):
                deal = s.get(Deal, deal_id)
                return int(deal_id or 0), deal.title, str(short["product"].iloc[0])
    raise AssertionError("the demo has no deal in Offer short of stock")


def _products_grid(at):
    return next(df.value for df in at.dataframe if "available" in df.value.columns)


@pytest.mark.parametrize("locale", ["en", "pl"])
def test_the_deal_page_shows_what_is_available_and_warns_about_the_short_product(app_as, demo_url, locale):
    deal_id, title, product = _demo_short_deal(demo_url)
    at = app_as("sales_manager", None, locale=locale)
    at.switch_page("pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal_id)
    at.run()
    assert not at.exception, at.exception
    with Session(get_engine(demo_url)) as s:
        lines = stock_queries.deal_stock(session=s, actor=SYSTEM, deal_id=deal_id)
    set_locale(locale)
    try:  # what the user reads in the Available column: the ERP's figure, or "no data"
        expected = {
            int(r.product_id): t("stock.no_data") if np.isnan(r.available) else fmt_number(r.available)
            for r in lines.itertuples()
        }
        as_of = {int(r.product_id): fmt_date(r.as_of) for r in lines.itertuples() if r.known}
    finally:
        set_locale("en")
    grid = _products_grid(at)
    assert dict(zip(grid["product_id"].astype(int), grid["available"], strict=True)) == expected
    assert {
        int(p): d for p, d in zip(grid["product_id"], grid["stock_as_of"], strict=True) if p in as_of
    } == as_of
    short_word = "More is offered than the ERP has available" if locale == "en" else "W ofercie jest więcej"
    warnings = [w.value for w in at.warning if short_word in w.value]
    assert warnings and product in warnings[0].replace("\\", "")


def test_the_deal_page_for_every_role_renders_the_stock(app_as, demo_url):
    deal_id, _title, _product = _demo_short_deal(demo_url)
    for role in ("sales_rep", "management", "pm_client", "tester"):
        at = app_as(role, None)
        at.switch_page("pages/pipeline/deal.py")
        at.query_params["deal"] = str(deal_id)
        at.run()
        assert not at.exception, (role, at.exception)
        refused = any("permission" in e.value for e in at.error)
        if refused:
            assert not at.dataframe
            continue
        assert "available" in _products_grid(at).columns, role


def _one_stage_before_offer(url: str) -> tuple[int, str]:
    """The biggest deal in Needs analysis with a product, made short of stock: id, product."""
    engine = get_engine(url)
    with Session(engine) as s:
        stage = s.exec(select(StageDefinition).where(StageDefinition.key == "needs_analysis")).one()
        deal = s.exec(
            select(Deal)
            .where(Deal.stage_id == stage.id, col(Deal.id).in_(select(DealProduct.deal_id)))
            .order_by(col(Deal.value).desc())
        ).first()
        line = s.exec(select(DealProduct).where(DealProduct.deal_id == deal.id)).first()
        product = s.get(Product, line.product_id)
        for row in s.exec(select(StockLevel).where(StockLevel.product_id == product.id)).all():
            s.delete(row)
        s.flush()
        half = line.quantity / 2
        s.add(
            StockLevel(product_id=product.id, warehouse="WAW", as_of=date.today(), on_hand=half, reserved=0)
        )
        s.commit()
        return int(deal.id or 0), product.name


def test_moving_a_deal_into_offer_on_the_deal_page_warns(app_as, demo_url):
    deal_id, product = _one_stage_before_offer(demo_url)
    at = app_as("sales_manager", None)
    at.switch_page("pages/pipeline/deal.py")
    at.query_params["deal"] = str(deal_id)
    at.run()
    at.selectbox(key=f"move_to_{deal_id}").select("offer").run()
    preview = [w.value for w in at.warning if "Moving to Offer" in w.value]
    assert preview and product in preview[0].replace("\\", "")
    at.button(key=f"move_{deal_id}").click().run()
    assert not at.exception, at.exception
    moved = [w.value for w in at.warning if "is now in Offer" in w.value]
    assert moved and product in moved[0].replace("\\", "")


def test_moving_a_deal_into_offer_on_the_board_warns(app_as, demo_url):
    deal_id, product = _one_stage_before_offer(demo_url)
    at = app_as("sales_manager", "pages/pipeline/board.py")
    assert not at.exception, at.exception
    at.button(key=f"next_{deal_id}").click().run()
    assert not at.exception, at.exception
    moved = [w.value for w in at.warning if "is now in Offer" in w.value]
    assert moved and product in moved[0].replace("\\", "")
    with Session(get_engine(demo_url)) as s:
        deal = s.get(Deal, deal_id)
        assert s.get(StageDefinition, deal.stage_id).key == "offer"


def test_cli_imports_stock_with_the_polish_mapping(db_url, engine, catalogue, tmp_path):
    runner = CliRunner()
    base = ["--database-url", db_url, "import", "stock", str(EXAMPLE), "--mapping", str(MAPPING)]
    with clock.at(MORNING):
        first = runner.invoke(app, [*base, "--json"])
        assert first.exit_code == 0, first.output
        assert json.loads(first.output)["created"] == 15
        again = runner.invoke(app, base)
    assert again.exit_code == 0 and "0 new, 0 updated, 15 unchanged" in again.output
    bad = tmp_path / "stany.csv"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("GK-125", "GK-999"), encoding="utf-8")
    with clock.at(MORNING):
        refused = runner.invoke(
            app, ["--database-url", db_url, "import", "stock", str(bad), "-m", str(MAPPING), "--strict"]
        )
    assert refused.exit_code == 2 and "line 10 Indeks" in refused.output and "GK-999" in refused.output
    assert len(_stock_rows(engine)) == 15
