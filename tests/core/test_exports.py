"""Safe exports, everywhere: every download of every page goes through the formula-safe exporter.

A demo database whose names and titles are spreadsheet formulas ("=HYPERLINK(…)", "+…", "-…",
"@…") is opened as several roles; every download button a page draws is pressed (its bytes are
generated) and no text cell of the file may start like a formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import streamlit
from sqlalchemy import create_engine, text
from streamlit.delta_generator import DeltaGenerator

from crm_impl.core.exporting import FORMULA_START, export_bytes, safe_frame, to_csv_bytes
from crm_impl.core.ui.nav import PAGES

ROOT = Path(__file__).resolve().parents[2]
# text columns users type into, per table: every row gets a hostile value
HOSTILE_COLUMNS = {
    "account": ["name"],
    "deal": ["title"],
    "contact": ["full_name"],
    "product": ["name"],
    "person": ["full_name"],
    "user_account": ["display_name"],
    "phase": ["name"],
    "milestone": ["name"],
    "phase_baseline": ["name"],
    "business_goal": ["name", "kpi"],
    "goal_measurement": ["note"],
    "requirement": ["title", "business_process"],
    "idea": ["title"],
    "change_request": ["title"],
    "integration_interface": ["name"],
    "risk": ["title"],
    "role_assignment": ["responsibilities"],
    "audit_entry": ["entity_id"],
    "defect": ["title", "module"],
    "release": ["notes"],
    "budget_line": ["name"],
    "cost_posting": ["supplier", "description"],
    "benefit": ["name"],
    "benefit_measurement": ["note"],
}
PREFIXES = ("=", "+", "-", "@")
HOSTILE = re.compile(r"""^'?[=+\-@]HYPERLINK\("http://evil""")


def _hostile(prefix: str, table: str, column: str, row_id: int) -> str:
    return f'{prefix}HYPERLINK("http://evil.example/{table}/{column}/{row_id}","click")'


@pytest.fixture
def hostile_url(demo_url: str) -> str:
    engine = create_engine(demo_url)
    with engine.begin() as conn:
        for table, columns in HOSTILE_COLUMNS.items():
            ids = [r[0] for r in conn.execute(text(f"SELECT id FROM {table}"))]
            for column in columns:
                for row_id in ids:
                    value = _hostile(PREFIXES[row_id % 4], table, column, row_id)
                    conn.execute(
                        text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": value, "id": row_id}
                    )
    engine.dispose()
    return demo_url


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every download button drawn while the fixture is active: label, file name, mime, bytes."""
    seen: list[dict[str, Any]] = []
    original = DeltaGenerator.download_button

    def record(self: DeltaGenerator, label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        payload = data() if callable(data) else data
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        seen.append(
            {
                "label": label,
                "file_name": kwargs.get("file_name"),
                "mime": kwargs.get("mime"),
                "bytes": payload,
            }
        )
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    monkeypatch.setattr(streamlit, "download_button", lambda *a, **k: record(streamlit._main, *a, **k))
    yield seen


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return False
    return True


def _unsafe_cells(download: dict[str, Any]) -> tuple[list[str], int]:
    """(cells a spreadsheet would run, number of neutralised hostile cells)."""
    unsafe: list[str] = []
    defused = 0
    name = str(download["file_name"])
    if name.endswith(".csv"):
        frame = pd.read_csv(
            io.BytesIO(download["bytes"]), dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        cells = [str(c) for c in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
        unsafe = [c for c in cells if c.startswith(FORMULA_START) and not _is_number(c)]
        defused = sum(1 for c in cells if c.startswith("'") and HOSTILE.match(c))
    elif name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(download["bytes"]))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or (
                        cell.data_type == "s" and str(cell.value).startswith(FORMULA_START)
                    ):
                        unsafe.append(str(cell.value))
                    if cell.data_type == "s" and HOSTILE.match(str(cell.value)):
                        defused += 1
    return unsafe, defused


# role -> pages with a download that role opens (all pages are tried as the administrator)
ROLES = ("admin", "pm_client", "sales_rep")
DOWNLOAD_PAGES = sorted(
    p.path
    for p in PAGES
    # a page downloads itself or through its domain's ui module (e.g. `ui.exports(...)`)
    if re.search(r"csv_download|xlsx_download|download_button|ui\.exports\(", (ROOT / p.path).read_text())
)


@pytest.mark.parametrize("login", ROLES)
def test_every_download_of_every_page_is_formula_safe(
    login: str, hostile_url: str, app_as: Callable[..., Any], downloads: list[dict[str, Any]]
) -> None:
    problems: dict[str, list[str]] = {}
    defused_per_page: dict[str, int] = {}
    for page in DOWNLOAD_PAGES:
        downloads.clear()
        at = app_as(login, page)
        assert not at.exception, (page, [e.value for e in at.exception])
        for download in downloads:
            unsafe, defused = _unsafe_cells(download)
            if unsafe:
                problems.setdefault(f"{page} {download['file_name']}", []).extend(unsafe[:3])
            defused_per_page[page] = defused_per_page.get(page, 0) + defused
    assert problems == {}
    if login == "admin":
        # the test can fail: every page with a download exported at least one hostile cell
        assert {p for p in DOWNLOAD_PAGES if not defused_per_page.get(p)} <= NO_HOSTILE_TEXT, defused_per_page


# pages whose downloads carry no user-typed text in the demo (only numbers and keys)
NO_HOSTILE_TEXT = {"pages/pipeline/imports.py"}


def test_no_page_writes_a_spreadsheet_itself() -> None:
    """Only crm_impl/core/exporting.py turns frames into files; pages use common.csv_download."""
    sources = [*ROOT.glob("pages/**/*.py"), *ROOT.glob("crm_impl/**/*.py"), ROOT / "app.py"]
    allowed = {ROOT / "crm_impl/core/exporting.py"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if path not in allowed and re.search(r"\.to_csv\(|\.to_excel\(|ExcelWriter", path.read_text())
    ]
    assert offenders == []
    direct = [
        str(path.relative_to(ROOT))
        for path in sources
        if path != ROOT / "crm_impl/core/ui/common.py"
        and re.search(r"download_button\(", path.read_text())
        and "text/csv" in path.read_text()
    ]
    assert direct == []


def test_exporter_neutralises_every_formula_start() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "+48 600", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain", None],
            "amount": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    safe = safe_frame(frame)
    assert list(safe_frame(frame.rename(columns={"name": "=phase"})).columns) == ["'=phase", "amount"]
    assert list(safe["name"])[:7] == ["'=1+1", "'+48 600", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "plain"]
    assert list(safe["amount"]) == list(frame["amount"])  # numbers stay numbers
    csv = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=1+1" in csv
    unsafe, _ = _unsafe_cells({"file_name": "x.xlsx", "bytes": export_bytes({"s": frame}, "xlsx")})
    assert unsafe == []
