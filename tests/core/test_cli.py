"""The CLI package: the root app hands one context object to every domain module; no module-level
state (two runs against two databases in one process stay apart), no import cycle."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.db import get_engine
from crm_impl.core.models import AuditEntry, UserAccount

CLI_DIR = Path(__file__).resolve().parents[2] / "crm_impl" / "cli"
DOMAIN_MODULES = ["core", "pipeline", "rollout", "defects", "budget", "training", "adoption", "dq", "imports"]


def _cli_imports(module: str) -> set[str]:
    tree = ast.parse((CLI_DIR / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crm_impl.cli"):
            found |= (
                {node.module}
                if node.module != "crm_impl.cli"
                else {f"crm_impl.cli.{a.name}" for a in node.names}
            )
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("crm_impl.cli")}
    return found


def test_domain_modules_import_only_the_context():
    for module in DOMAIN_MODULES:
        assert _cli_imports(module) <= {"crm_impl.cli.context"}, module
    assert _cli_imports("context") == set()


def test_no_module_level_state():
    for module in ["__init__", "app", "context", *DOMAIN_MODULES]:
        tree = ast.parse((CLI_DIR / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                value = node.value
                # allowed at module level: constants, enums, Typer apps (command tables)
                assert not isinstance(value, ast.Dict | ast.List | ast.Set), (module, ast.unparse(node))


def test_every_command_answers_help():
    runner = CliRunner()
    commands = [
        [],
        ["init"],
        ["demo"],
        ["import"],
        ["export"],
        ["user"],
        ["user", "add"],
        ["user", "list"],
        ["user", "set-password"],
        ["user", "unlock"],
        ["report"],
        ["report", "pipeline"],
        ["report", "forecast"],
        ["report", "plan"],
        ["report", "defects"],
        ["report", "budget"],
        ["budget"],
        ["budget", "snapshot"],
        ["report", "adoption"],
        ["report", "dq"],
        ["dq"],
        ["dq", "snapshot"],
        ["adoption"],
        ["adoption", "rebuild-usage"],
    ]
    for args in commands:
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output


def test_two_databases_in_one_process_stay_apart(tmp_path):
    runner = CliRunner()
    before = os.environ.get("CRM_IMPL_DATABASE_URL")
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    for url in urls:
        assert runner.invoke(app, ["--database-url", url, "init"]).exit_code == 0
    added = runner.invoke(
        app,
        ["--database-url", urls[0], "user", "add", "ada", "--role", "admin", "--password", "long-enough-1"],
    )
    assert added.exit_code == 0, added.output
    listed = [
        json.loads(runner.invoke(app, ["--database-url", url, "--json", "user", "list"]).output)
        for url in urls
    ]
    assert [[u["username"] for u in users] for users in listed] == [["ada"], []]
    assert os.environ.get("CRM_IMPL_DATABASE_URL") == before  # the CLI leaves the process alone


def test_global_and_command_json_and_acting_user(db_url, make_user):
    make_user("rep", "sales_rep")
    make_user("boss", "admin")
    runner = CliRunner()
    base = ["--database-url", db_url]
    refused = runner.invoke(
        app, [*base, "--as", "rep", "user", "add", "eve", "--role", "admin", "--password", "long-enough-1"]
    )
    assert refused.exit_code == 1
    assert "not allowed to manage users" in refused.output
    unknown = runner.invoke(app, [*base, "--as", "nobody", "user", "list"])
    assert unknown.exit_code == 1
    for args in (
        [
            *base,
            "--as",
            "boss",
            "--json",
            "user",
            "add",
            "eve",
            "--role",
            "sales_rep",
            "--password",
            "long-enough-1",
        ],
        [
            *base,
            "--as",
            "boss",
            "user",
            "add",
            "fay",
            "--role",
            "sales_rep",
            "--password",
            "long-enough-1",
            "--json",
        ],
    ):
        created = runner.invoke(app, args)
        assert created.exit_code == 0, created.output
        assert json.loads(created.output)["roles"] == ["sales_rep"]
    text = runner.invoke(app, [*base, "--as", "boss", "user", "list"])
    assert text.exit_code == 0 and "eve" in text.output and not text.output.lstrip().startswith("[")
    polish = runner.invoke(app, [*base, "--lang", "pl", "--as", "rep", "user", "list"])
    assert polish.exit_code == 1
    assert "not allowed" not in polish.output  # the message is in Polish
    with Session(get_engine(db_url)) as session:
        names = set(session.exec(select(UserAccount.username)).all())
        audits = session.exec(select(AuditEntry).where(AuditEntry.entity == "user")).all()
    assert names == {"rep", "boss", "eve", "fay"}
    assert [(a.username, a.action) for a in audits] == [("boss", "create"), ("boss", "create")]


def test_report_pipeline_on_an_empty_database(db_url):
    runner = CliRunner()
    result = runner.invoke(
        app, ["--database-url", db_url, "--json", "report", "pipeline", "--today", "2026-03-01"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["deals"] == {"open": 0, "won": 0, "lost": 0}
    assert [s["open_deals"] for s in data["stages"]] == [0] * len(data["stages"])
