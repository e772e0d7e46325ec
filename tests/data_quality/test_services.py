"""The data-quality services and CLI on SQLite and PostgreSQL: snapshots (idempotent per day,
audited, permission), settings (validated, version-checked, audited), `crm-impl report dq
--json`, and the Maven CRM scan against figures computed here from the raw CSV with pandas."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from crm_impl.cli.app import build_app
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry
from crm_impl.data_quality import queries, services
from crm_impl.data_quality.models import DqSettings, DqSettingsUpdate, DqSnapshot
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline import importing as imports
from crm_impl.pipeline.models import AccountCreate, ContactCreate
from crm_impl.pipeline.services import deals as pipeline
from tests.conftest import MAVEN, ROOT


def _seed(engine, actor):  # type: ignore[no-untyped-def]
    with UnitOfWork(engine) as uow:
        acc = pipeline.create_account(
            session=uow.session,
            actor=actor,
            data=AccountCreate(name="Budex", nip="5260250274", sector="retail", city="Kraków"),
        )
        pipeline.create_contact(
            session=uow.session,
            actor=actor,
            data=ContactCreate(
                account_id=int(acc.id or 0), full_name="Test", email="test@example.com", phone="111111111"
            ),
        )
        uow.commit()


def test_snapshot_is_idempotent_per_day_and_audited(engine, session, make_user):
    manager = make_user("manager", "sales_manager")
    _seed(engine, manager)
    with UnitOfWork(engine) as uow:
        first = services.take_snapshot(session=uow.session, actor=manager, day=date(2025, 3, 1))
        uow.commit()
    with UnitOfWork(engine) as uow:
        again = services.take_snapshot(session=uow.session, actor=manager, day=date(2025, 3, 1))
        uow.commit()
    assert first.taken and not again.taken
    assert session.exec(select(func.count()).select_from(DqSnapshot)).one() == len(first.rows) == 28
    assert again.overall == first.overall and first.overall is not None and first.overall < 100
    audits = session.exec(select(AuditEntry).where(AuditEntry.entity == "dq_snapshot")).all()
    assert len(audits) == 1 and audits[0].after["day"] == "2025-03-01"
    trend = queries.snapshots(session)
    assert set(trend["day"].dt.date) == {date(2025, 3, 1)}


def test_snapshot_and_settings_need_dq_manage(engine, session, make_user):
    rep = make_user("rep", "sales_rep")
    with UnitOfWork(engine) as uow, pytest.raises(PermissionDenied):
        services.take_snapshot(session=uow.session, actor=rep)
    with UnitOfWork(engine) as uow, pytest.raises(PermissionDenied):
        services.update_settings(
            session=uow.session, actor=rep, expected_version=1, data=DqSettingsUpdate(stale_days=5)
        )
    with UnitOfWork(engine) as uow, pytest.raises(PermissionDenied):
        queries.report(session=uow.session, actor=rep)
    assert session.exec(select(func.count()).select_from(DqSnapshot)).one() == 0


def test_settings_validated_version_checked_and_audited(engine, session, make_user):
    pm = make_user("pm", "pm_client")
    for bad in (
        DqSettingsUpdate(stale_days=0),
        DqSettingsUpdate(required_deal=["nope"]),
        DqSettingsUpdate(sectors=" \n "),
    ):
        with UnitOfWork(engine) as uow, pytest.raises(ValidationError):
            services.update_settings(session=uow.session, actor=pm, expected_version=1, data=bad)
    assert session.get(DqSettings, 1) is None  # nothing written
    with UnitOfWork(engine) as uow:
        row = services.update_settings(
            session=uow.session,
            actor=pm,
            expected_version=1,
            data=DqSettingsUpdate(stale_days=7, sectors="Retail\nIT"),
        )
        uow.commit()
        assert (row.stale_days, row.sectors, row.version) == (7, ["retail", "it"], 2)
    with UnitOfWork(engine) as uow, pytest.raises(ConflictError):
        services.update_settings(
            session=uow.session, actor=pm, expected_version=1, data=DqSettingsUpdate(stale_days=9)
        )
    with UnitOfWork(engine) as uow:
        assert queries.load(uow.session).context.settings.stale_days == 7
    assert (
        session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "dq_settings")
        ).one()
        == 2
    )


def test_cli_report_and_snapshot_json(db_url, engine, make_user):
    manager = make_user("manager", "sales_manager")
    _seed(engine, manager)
    runner = CliRunner()
    out = runner.invoke(build_app(), ["--database-url", db_url, "report", "dq", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    rules = {r["rule"]: r for r in data["rules"]}
    assert rules["contact.placeholder_email"]["failing"] == 1
    assert rules["contact.phone_fake"]["failing"] == 1
    assert rules["account.nip_invalid"]["failing"] == 0
    scores = {(s["entity"], s["dimension"]): s for s in data["scores"]}
    assert scores["contact", "plausibility"]["score"] == 0.0
    assert scores["account", "plausibility"]["score"] == 100.0
    assert data["records"] == 2 and data["failing_records"] == 1
    assert {i["rule"] for i in data["top_issues"]} >= {
        "contact.placeholder_email",
        "contact.placeholder_name",
    }
    snap = runner.invoke(
        build_app(), ["--database-url", db_url, "dq", "snapshot", "--json", "--day", "2025-01-02"]
    )
    again = runner.invoke(
        build_app(), ["--database-url", db_url, "dq", "snapshot", "--json", "--day", "2025-01-02"]
    )
    assert json.loads(snap.output)["taken"] is True and json.loads(again.output)["taken"] is False
    bad = runner.invoke(build_app(), ["--database-url", db_url, "dq", "snapshot", "--day", "yesterday"])
    assert bad.exit_code == 1


MAPPING = ROOT / "examples" / "mappings" / "maven-crm.toml"


def test_maven_scan_finds_what_is_really_there(engine, make_user):
    """Imported with the mapping but without its value mappings (sector "technolgy", product
    "GTXPro"): the scan finds the deals without an account, the misspelt sector (with
    "technology" suggested); the product the catalogue lacks is refused by the importer, and
    scanning the deal file's product names against the catalogue finds every such deal."""
    actor = make_user("importer", "sales_manager")
    mapping = mapping_mod.load(MAPPING)
    del mapping.entities["accounts"].values["sector"]
    del mapping.entities["deals"].values["product"]
    for entity, name in (
        ("accounts", "accounts.csv"),
        ("products", "products.csv"),
        ("users", "sales_teams.csv"),
        ("deals", "sales_pipeline.csv"),
    ):
        with UnitOfWork(engine) as uow:
            imports.run_import(
                session=uow.session,
                actor=actor,
                entity=entity,
                data=MAVEN / name,
                mapping=mapping,
                dry_run=False,
            )
            uow.commit()
    raw_deals = pd.read_csv(MAVEN / "sales_pipeline.csv")
    raw_accounts = pd.read_csv(MAVEN / "accounts.csv")
    catalogue = set(pd.read_csv(MAVEN / "products.csv")["product"])
    imported = raw_deals[raw_deals["product"].isin(catalogue)]  # the importer refuses the rest
    with UnitOfWork(engine) as uow:
        data = queries.load(uow.session, today=date(2017, 12, 31))
    found = queries.run(data)
    counts = found.rules.set_index("rule")["failing"]
    lost = imported["deal_stage"] == "Lost"
    assert counts["deal.no_account"] == int((imported["account"].isna() & ~lost).sum()) > 0
    assert counts["account.sector_unknown"] == int((raw_accounts["sector"] == "technolgy").sum()) > 0
    sector = found.issues[found.issues["rule"] == "account.sector_unknown"]
    assert set(sector["value"]) == {"technolgy"} and set(sector["hint"]) == {"technology"}
    assert counts["deal.product_unknown"] == 0  # stored deals only reference catalogue products
    # the deal file itself, scanned before importing: its product names against the catalogue
    from_file = raw_deals.rename(columns={"opportunity_id": "ref"}).assign(id=range(len(raw_deals)))
    file_scan = queries.rules.scan({"deal": from_file[["id", "product"]]}, data.context)
    product = file_scan.issues[file_scan.issues["rule"] == "deal.product_unknown"]
    assert len(product) == int((~raw_deals["product"].isin(catalogue)).sum()) == 1480
    assert set(product["value"]) == {"GTXPro"} and set(product["hint"]) == {"GTX Pro"}
