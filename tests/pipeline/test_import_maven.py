"""The four Maven CRM files import completely with examples/mappings/maven-crm.toml, on SQLite
and PostgreSQL, and the pipeline report then matches figures computed here with plain pandas."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlmodel import func, select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.models import AuditEntry, UserAccount
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import Account, Deal, DealProduct, Product, StageChange
from crm_impl.pipeline.queries.report import pipeline_report
from tests.conftest import MAVEN, ROOT

MAPPING = ROOT / "examples" / "mappings" / "maven-crm.toml"
FILES = [
    ("accounts", "accounts.csv"),
    ("products", "products.csv"),
    ("users", "sales_teams.csv"),
    ("deals", "sales_pipeline.csv"),
]


def _import_all(engine, actor):  # type: ignore[no-untyped-def]
    mapping = mapping_mod.load(MAPPING)
    reports = {}
    for entity, name in FILES:
        with UnitOfWork(engine) as uow:
            reports[entity] = imports.run_import(
                session=uow.session,
                actor=actor,
                entity=entity,
                data=MAVEN / name,
                mapping=mapping,
                dry_run=False,
                filename=name,
            )
            uow.commit()
    return reports


def _expected() -> dict:
    """The report's figures from the CSVs, with pandas only."""
    deals = pd.read_csv(MAVEN / "sales_pipeline.csv")
    products = pd.read_csv(MAVEN / "products.csv")
    price = products.set_index("product")["sales_price"]
    deals["product"] = deals["product"].replace({"GTXPro": "GTX Pro"})
    is_open = deals["deal_stage"].isin(["Prospecting", "Engaging"])
    value = deals["close_value"].where(
        (deals["close_value"] > 0) | (deals["deal_stage"] == "Won"), deals["product"].map(price)
    )
    won = deals[deals["deal_stage"] == "Won"]
    n_won, n_lost = len(won), int((deals["deal_stage"] == "Lost").sum())
    cycle = (
        pd.to_datetime(won["close_date"], format="%d-%m-%Y")
        - pd.to_datetime(won["engage_date"], format="%d-%m-%Y")
    ).dt.days.mean()
    win_rate = n_won / (n_won + n_lost)
    dated = pd.concat(
        [pd.to_datetime(deals[c], format="%d-%m-%Y") for c in ("engage_date", "close_date")]
    ).dropna()
    prob = deals["deal_stage"].map({"Prospecting": 0.05, "Engaging": 0.10})
    open_accounts = deals[is_open & deals["account"].notna()].groupby("deal_stage")["account"].nunique()
    return {
        "open": int(is_open.sum()),
        "won": n_won,
        "lost": n_lost,
        "win_rate": win_rate,
        "won_value": float(won["close_value"].sum()),
        "pipeline_value": float(value[is_open].sum()),
        "weighted_value": float((value * prob)[is_open].sum()),
        "cycle": float(cycle),
        "velocity": int(is_open.sum()) * won["close_value"].mean() * win_rate / cycle,
        "stale": int((deals["deal_stage"] == "Engaging").sum()),  # last touched in 2017
        "prospect_accounts": int(open_accounts["Prospecting"]),
        "contact_made_accounts": int(open_accounts["Engaging"]),
        "agents": pd.read_csv(MAVEN / "sales_teams.csv"),
        "undated": int((deals["engage_date"].isna() & deals["close_date"].isna()).sum()),
        "trend_months": len(pd.period_range(dated.min(), dated.max(), freq="M")),
    }


def test_maven_imports_completely_and_report_matches_pandas(engine, session, make_user, monkeypatch):
    monkeypatch.setenv(
        "CRM_IMPL_CURRENCY", "USD"
    )  # the Maven company sells in dollars; the report adds one currency
    actor = make_user("importer", "sales_manager")
    reports = _import_all(engine, actor)
    for entity, _name in FILES:
        assert reports[entity].rejected == 0, reports[entity].errors[:3]
        assert reports[entity].written
    exp = _expected()
    assert reports["deals"].created == 8800
    assert session.exec(select(func.count()).select_from(Deal)).one() == 8800
    assert session.exec(select(func.count()).select_from(Account)).one() == 85
    assert session.exec(select(func.count()).select_from(Product)).one() == 7
    assert session.exec(select(func.count()).select_from(DealProduct)).one() == 8800
    # every won or lost deal: created -> Contact made, closed -> Completed/Lost; open Engaging
    # ones one entry; the 500 Prospecting deals have no date at all: no recorded entry
    assert (
        session.exec(select(func.count()).select_from(StageChange)).one()
        == 8800 - exp["undated"] + exp["won"] + exp["lost"]
    )
    team = exp["agents"]
    names = set(session.exec(select(UserAccount.display_name)).all())
    assert set(team["sales_agent"]) | set(team["manager"]) <= names
    sector = session.exec(select(Account.sector).where(Account.name == "Acme Corporation")).one()
    assert sector == "technology"  # value mapping fixed the misspelling
    runs = session.exec(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "import")
    ).one()
    assert runs == 4  # one audit entry per run, not per row

    report = pipeline_report(session=session, actor=actor, today=date.today())
    assert report["deals"] == {"open": exp["open"], "won": exp["won"], "lost": exp["lost"]}
    assert report["win_rate"] == pytest.approx(exp["win_rate"], abs=1e-4)
    assert report["won_value"] == pytest.approx(exp["won_value"])
    assert report["pipeline_value"] == pytest.approx(exp["pipeline_value"])
    assert report["weighted_value"] == pytest.approx(exp["weighted_value"], abs=0.01)
    assert report["avg_sales_cycle_days"] == pytest.approx(exp["cycle"], abs=0.01)
    assert report["velocity_per_day"] == pytest.approx(exp["velocity"], rel=1e-3)
    assert report["stale_deals"] == exp["stale"]
    # an undated deal is no "new deal this month": the trend runs from the first to the last
    # date in the file, and the 500 are counted and named as left out
    assert report["undated_deals"] == exp["undated"] == 500
    assert report["trend_months"] == exp["trend_months"]
    assert report["new_this_month"] == 0
    flow = {f["key"]: f for f in report["flow"]}
    assert (flow["prospect"]["entered"], flow["prospect"]["reached"]) == (500, 8800)
    assert flow["contact_made"]["entered"] == 8300
    # of the deals that left Contact made, the share that went forward (won) rather than to Lost
    assert flow["contact_made"]["left"] == exp["won"] + exp["lost"]
    assert flow["contact_made"]["conversion"] == pytest.approx(exp["win_rate"], abs=1e-4)
    stages = {s["key"]: s for s in report["stages"]}
    assert stages["prospect"]["open_accounts"] == exp["prospect_accounts"]
    assert stages["contact_made"]["open_accounts"] == exp["contact_made_accounts"]


def test_maven_deal_without_the_product_value_mapping_suggests_the_catalogue_name(engine, make_user):
    actor = make_user("importer", "sales_manager")
    mapping = mapping_mod.load(MAPPING)
    with UnitOfWork(engine) as uow:
        for entity, name in FILES[:3]:
            imports.run_import(
                session=uow.session,
                actor=actor,
                entity=entity,
                data=MAVEN / name,
                mapping=mapping,
                dry_run=False,
            )
        uow.commit()
    del mapping.entities["deals"].values["product"]
    with UnitOfWork(engine) as uow:
        report = imports.run_import(
            session=uow.session,
            actor=actor,
            entity="deals",
            data=MAVEN / "sales_pipeline.csv",
            mapping=mapping,
        )
    bad = [e for e in report.errors if e.column == "product"]
    assert report.rejected == 1480 and len(bad) == 1480
    assert bad[0].value == "GTXPro" and bad[0].suggestion == "GTX Pro"
    assert "Did you mean “GTX Pro”?" in bad[0].message()
    assert bad[0].line == 3  # header is line 1; Z063OYW0 is the second deal


def test_reimport_skips_existing_deals(engine, session, make_user):
    actor = make_user("importer", "sales_manager")
    _import_all(engine, actor)
    with UnitOfWork(engine) as uow:
        again = imports.run_import(
            session=uow.session,
            actor=actor,
            entity="deals",
            data=MAVEN / "sales_pipeline.csv",
            mapping=mapping_mod.load(MAPPING),
            dry_run=False,
        )
        uow.commit()
    assert again.created == 0 and again.skipped == 8800 and again.rejected == 0
    assert session.exec(select(func.count()).select_from(Deal)).one() == 8800
