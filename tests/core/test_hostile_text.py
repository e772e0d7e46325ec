"""User text is data, never markup (issue 8, item 6).

Every user-editable text column of a demo database is overwritten with hostile Markdown (an
outside image, a phishing link, raw HTML, bold, a colour directive, LaTeX); then every page is
rendered. No element that renders Markdown (markdown, captions, headings, alerts, toasts, metric
labels and values, widget/expander/tab/page-link labels, tooltips, radio and pills options) may
carry the Markdown live, and the hostile text must still be shown, literally, somewhere on the
page (a table, st.text, a select box option, or escaped Markdown).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from google.protobuf.message import Message
from sqlalchemy import String, bindparam, create_engine, inspect, text
from sqlmodel import SQLModel
from streamlit.proto.Block_pb2 import Block as BlockProto
from streamlit.testing.v1 import AppTest

import crm_impl.tables  # noqa: F401  (every domain's tables in SQLModel.metadata)
from crm_impl.core.db import get_engine
from crm_impl.core.permissions import can
from crm_impl.core.ui.nav import PAGES, PageSpec
from tests.apptest import ROLE_LOGINS

LINK = "[click](https://evil.example)"
HOSTILE = f"![x](http://evil.example/p.png) {LINK} <img src=x onerror=alert(1)> **bold** :red[x] $x$"
# Longer texts (notes, descriptions) also start lines with Markdown block syntax.
HOSTILE_BLOCK = f"{HOSTILE}\n# heading\n- item\n1. first"

# Text columns that hold codes the program reads (not text a user writes), left as they are.
CODES = {
    "key",
    "kind",
    "status",
    "currency",
    "locale",
    "role",
    "letter",
    "side",
    "severity",
    "priority",
    "reproducibility",
    "environment",
    "decision",
    "system",
    "direction",
    "method",
    "frequency",
    "password_hash",
    "token_hash",
    "ticket_hash",
    "revoked_reason",
    "entity",
    "entity_id",
    "action",
    "from_status",
    "to_status",
    "nip",
    "external_ref",
    "lost_reason",  # a lost reason's key (its names are hostile)
    "category",  # a budget line's category key
}
LONG = {"notes", "description", "steps", "expected", "actual", "body", "comment", "remarks", "reason"}

# Protos whose every string is shown as plain text (or is not text at all).
PLAIN_PROTOS = {"Text", "Code", "Json", "Arrow", "ArrowVegaLiteChart", "Exception", "Html", "Empty"}
# Fields that render Markdown wherever they occur.
MD_FIELDS = {"label", "help", "body", "title", "captions", "text", "delta", "content", "delta_description"}
# ... and `options` where the options render Markdown (radio, select slider; pills are `content`).
MD_OPTIONS = {"Radio", "Slider"}
# Fields shown as plain text.
PLAIN_FIELDS = {"options", "default", "placeholder", "value"}

LIVE = [
    ("a link or image", re.compile(r"\]\(http")),
    ("bold", re.compile(r"(?<!\\)\*\*bold")),
    ("a colour directive", re.compile(r"(?<!\\):red\[x")),
    ("LaTeX", re.compile(r"(?<!\\)\$x")),
    ("a heading", re.compile(r"(^|\n)\s*# heading")),
]
ESCAPED = re.compile(r"\\([\\`*_{}\[\]<>()#+\-.!|~:$])")

# Pages that show no user text for an administrator on the demo data.
NO_USER_TEXT = {"pages/pipeline/imports.py"}
# Role-specific widgets (approve/triage/fix/verify forms, own work) as the role that gets them.
ROLE_PAGES = [
    ("management", "pages/rollout/changes.py"),
    ("pm_client", "pages/rollout/ideas.py"),
    ("pm_client", "pages/defects/defect.py"),
    ("tester", "pages/defects/defect.py"),
    ("tester", "pages/defects/releases.py"),
    ("tester", "pages/defects/my_work.py"),
    ("programmer", "pages/defects/defect.py"),
    ("programmer", "pages/defects/my_work.py"),
    ("sales_rep", "pages/pipeline/board.py"),
    ("sales_rep", "pages/pipeline/deal.py"),
    ("sales_rep", "pages/pipeline/client.py"),
    ("sales_manager", "pages/pipeline/settings.py"),
    ("trainer", "pages/training/sessions.py"),
]


def _is_text(kind: Any) -> bool:
    """String and Text, also behind a TypeDecorator (SQLModel's AutoString)."""
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def user_text_columns() -> list[tuple[str, str]]:
    columns = []
    for table in SQLModel.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        for column in table.c:
            if _is_text(column.type) and column.name not in CODES:
                columns.append((table.name, column.name))
    return columns


def make_hostile(url: str) -> None:
    """Every user text column of every row becomes hostile (unique per row). The demo logins
    keep their usernames (the AppTest harness signs in by them); their display names and every
    other account's username are hostile."""
    engine = create_engine(url)
    present = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table, column in user_text_columns():
            if table not in present:  # a model whose migration is not there yet
                continue
            value = HOSTILE_BLOCK if column in LONG else HOSTILE
            keep = " AND username NOT IN :logins" if (table, column) == ("user_account", "username") else ""
            statement = text(
                f'UPDATE "{table}" SET "{column}" = :v || \' #\' || CAST(id AS TEXT) '  # noqa: S608
                f'WHERE "{column}" IS NOT NULL{keep}'
            )
            if keep:
                statement = statement.bindparams(bindparam("logins", expanding=True))
            conn.execute(
                statement, {"v": value, "logins": list(ROLE_LOGINS.values())} if keep else {"v": value}
            )
        conn.execute(text("UPDATE risk SET key = NULL"))  # preset risks show their title
    engine.dispose()


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The AppTest harness's database (overrides tests.apptest.demo_url), made hostile."""
    path = tmp_path / "hostile.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    make_hostile(url)
    monkeypatch.setenv("CRM_IMPL_DATABASE_URL", url)
    monkeypatch.setenv("CRM_IMPL_DEMO_MODE", "true")
    yield url
    get_engine(url).dispose()


def nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from nodes(child)


def strings(message: Message, markdown: bool, proto_name: str) -> Iterator[tuple[bool, str]]:
    """(renders Markdown?, string) for every string field of `message`, recursively."""
    for field, value in message.ListFields():
        values = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else [value]
        for item in values:
            if isinstance(item, Message):
                yield from strings(item, markdown, proto_name)
            elif isinstance(item, str):
                if field.name in MD_FIELDS or (field.name == "options" and proto_name in MD_OPTIONS):
                    yield markdown, item
                elif field.name in PLAIN_FIELDS:
                    yield False, item


def shown(at: AppTest) -> tuple[list[str], list[str]]:
    """(Markdown strings, plain strings) the page rendered."""
    md: list[str] = []
    plain: list[str] = []
    for node in nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if isinstance(proto, BlockProto):
            kind = proto.WhichOneof("type")
            if kind:
                md.extend(s for _, s in strings(getattr(proto, kind), True, kind))
            continue
        name = proto.DESCRIPTOR.name
        if name in {"Arrow"}:
            value = node.value if hasattr(node, "value") else None
            if isinstance(value, pd.DataFrame):
                plain.extend(str(v) for v in value.astype(str).to_numpy().ravel())
                plain.extend(str(c) for c in value.columns)
            continue
        if name in PLAIN_PROTOS:
            plain.extend(s for _, s in strings(proto, False, name) if s)
            if name == "Text":
                plain.append(proto.body)
            continue
        for is_md, s in strings(proto, name != "Text", name):
            (md if is_md else plain).append(s)
        if name == "Metric":
            md.append(proto.body)
    return md, plain


def check(at: AppTest, where: str, expect_text: bool = True) -> None:
    assert not at.exception, at.exception
    incidents = [e.value for e in at.error if "incident" in e.value]
    assert not incidents, f"{where}: the page failed: {incidents}"
    md, plain = shown(at)
    live = [(what, s) for s in md for what, pattern in LIVE if pattern.search(s)]
    assert not live, f"{where}: user text rendered as Markdown ({len(live)}): {live[:5]}"
    mangled = [s for s in plain if "\\[click\\]" in s]
    assert not mangled, f"{where}: escaped Markdown in plain text (shows backslashes): {mangled[:3]}"
    if expect_text:
        literal = [s for s in plain if LINK in s] + [s for s in md if LINK in ESCAPED.sub(r"\1", s)]
        assert literal, f"{where}: the hostile text is not shown anywhere"


def admin_pages() -> list[PageSpec]:
    return [p for p in PAGES if can(["admin"], p.action)]


@pytest.mark.parametrize("spec", admin_pages(), ids=lambda s: s.path)
def test_every_page_shows_hostile_text_as_text(app_as: Callable[..., AppTest], spec: PageSpec) -> None:
    at = app_as("admin", spec.path)
    check(at, f"admin {spec.path}", expect_text=spec.path not in NO_USER_TEXT)


@pytest.mark.parametrize(("role", "page"), ROLE_PAGES, ids=lambda v: str(v))
def test_role_specific_widgets_show_hostile_text_as_text(
    app_as: Callable[..., AppTest], role: str, page: str
) -> None:
    check(app_as(ROLE_LOGINS[role], page), f"{role} {page}")


def test_sign_in_page(app_as: Callable[..., AppTest]) -> None:
    check(app_as(None), "sign-in", expect_text=False)


def test_the_check_sees_live_markdown() -> None:
    """The patterns catch what they must and pass what is escaped."""
    from crm_impl.core.ui.common import plain

    assert all(p.search(HOSTILE_BLOCK) for what, p in LIVE)
    assert not any(p.search(plain(HOSTILE_BLOCK)) for what, p in LIVE)
    assert LINK in ESCAPED.sub(r"\1", plain(HOSTILE))


def _show_errors() -> None:
    """An AppTest script: the UI's error display with errors that quote hostile user text."""
    from types import SimpleNamespace

    import streamlit as st

    from crm_impl.core.errors import RowError, ValidationError
    from crm_impl.core.ui import common
    from crm_impl.defects.services.lifecycle import DefectFailed
    from crm_impl.defects.services.releases import GateReason, ReleaseBlocked
    from tests.core.test_hostile_text import HOSTILE

    typed = ValidationError("error.choice", field="field.stage", value=HOSTILE)
    errors = [
        typed,  # a typed value quoted back
        RowError(3, typed, HOSTILE),  # a grid row named by its (another user's) name
        DefectFailed(7, HOSTILE, typed),  # a bulk change naming the defect by its title
        ReleaseBlocked(
            SimpleNamespace(name=HOSTILE),  # type: ignore[arg-type]
            "ready",
            [GateReason("open_severe", 7, HOSTILE, "critical")],
        ),
    ]
    for err in errors:
        common.show_failure(err, where="test")
        st.error(common.error_text(err))


def test_error_messages_quote_user_text_as_text() -> None:
    at = AppTest.from_function(_show_errors, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    bodies = [e.value for e in at.error]
    assert len(bodies) == 8
    for body in bodies:
        live = [what for what, pattern in LIVE if pattern.search(body)]
        assert not live, (live, body)
        assert LINK in ESCAPED.sub(r"\1", body), body  # still says what the user wrote
    assert bodies[0].startswith("Stage: “")  # the field is translated, not escaped as a key


def test_messages_outside_the_ui_keep_user_text_as_it_is() -> None:
    """The CLI, logs and the import report's table show a message as plain text: unescaped."""
    from crm_impl.core.errors import ValidationError

    message = ValidationError("error.choice", field="field.stage", value=HOSTILE).message()
    assert HOSTILE in message


def _show_detected_file() -> None:
    """An AppTest script: what the import page says about an uploaded file whose columns are
    named with hostile text."""
    from types import SimpleNamespace

    from crm_impl.importers import ui
    from tests.core.test_hostile_text import HOSTILE

    source = SimpleNamespace(file_format="csv", encoding="", delimiter=";", total_rows=3, header=[HOSTILE])
    ui.detected(source)  # type: ignore[arg-type]


def test_an_import_files_column_names_are_text() -> None:
    at = AppTest.from_function(_show_detected_file, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    check(at, "import: columns found")
