"""Documentation keeps up: every setting and every CLI command is described in README.md or docs/,
and the documents stand alone: no link leaves the repository for ../shared, and every relative link
points at a file of the repository."""

import re
from pathlib import Path

import typer.main

from crm_impl.cli import app
from crm_impl.core.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md")), *sorted(ROOT.glob("examples/**/README.md"))]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in DOC_FILES)
# [text](target) and ![alt](target); the target ends at the first space or closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


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


def _broken_links(text: str, folder: Path) -> list[str]:
    """Relative link targets in `text` (a document in `folder`) that are not files or folders of
    the repository; anchors and web addresses are not checked."""
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # https:, mailto:, an anchor in the same file
        path = (folder / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    return broken


def test_the_documents_exist_and_are_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in ("docs/architecture.md", "docs/lecture.md", "docs/CONTRIBUTING.md"):
        assert (ROOT / doc).is_file(), doc
        assert f"]({doc})" in readme, doc


def test_no_document_points_outside_the_repository_at_shared():
    offending = [
        f"{doc.relative_to(ROOT)}:{number}"
        for doc in DOC_FILES
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
        if "../shared" in line or "shared/datasets" in line
    ]
    assert not offending, offending


def test_every_relative_link_points_at_a_file_of_the_repository():
    broken = {
        str(doc.relative_to(ROOT)): _broken_links(doc.read_text(encoding="utf-8"), doc.parent)
        for doc in DOC_FILES
    }
    assert not {doc: links for doc, links in broken.items() if links}


def test_the_link_check_finds_a_broken_link():
    text = (
        "[ok](architecture.md) ![img](img/overview.png) [gone](no-such-file.md#x) "
        "[web](https://example.com) [here](#speed) [out](../../x.md) [up](../README.md)"
    )
    assert _broken_links(text, ROOT / "docs") == ["no-such-file.md#x", "../../x.md"]


def test_the_vendored_maven_data_is_in_the_repository():
    data = ROOT / "examples" / "data" / "maven-crm"
    for name in ("accounts.csv", "products.csv", "sales_pipeline.csv", "sales_teams.csv", "README.md"):
        assert (data / name).is_file(), name
    assert (data / "sales_pipeline.csv").read_bytes().startswith(b"opportunity_id,sales_agent,product,")
