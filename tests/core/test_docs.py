"""Documentation keeps up: every setting and every CLI command is described in README.md or docs/."""

from pathlib import Path

import typer.main

from crm_impl.cli import app
from crm_impl.core.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")])


def _commands(group, prefix=""):  # type: ignore[no-untyped-def]
    for name, cmd in getattr(group, "commands", {}).items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")
        else:
            yield full


def test_every_setting_is_documented():
    for name in SETTINGS:
        assert f"CRM_IMPL_{name.upper()}" in DOCS, name


def test_every_cli_command_is_documented():
    missing = [c for c in _commands(typer.main.get_command(app)) if f"crm-impl {c}" not in DOCS]
    assert not missing, missing


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
