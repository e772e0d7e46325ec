"""Every entity in the import registry under generated CSV files (hostile text, odd encodings,
separators and line endings, empty cells, missing or extra columns, huge numbers, dates out of
range), on SQLite and PostgreSQL: the import gives a report or a translated DomainError, never a
traceback, and a refused input — an error, a strict run with a bad row, a dry run — writes
nothing (every table's row count unchanged).

In CI each entity gets 1,000 generated files, split over the two backends (500 each)."""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import crm_impl
import crm_impl.tables  # noqa: F401  (every table)
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import DomainError
from crm_impl.core.models import Project
from crm_impl.core.permissions import APP_ROLES
from crm_impl.importers import engine as import_engine
from crm_impl.importers import registry
from crm_impl.importers.mapping import Mapping
from tests.properties.strategies import hostile_text, known_crash

for _mod in pkgutil.iter_modules(crm_impl.__path__):  # every domain registers its entities
    if _mod.ispkg:
        try:
            importlib.import_module(f"crm_impl.{_mod.name}.importing")
        except ModuleNotFoundError as err:
            if err.name != f"crm_impl.{_mod.name}.importing":
                raise

ENTITIES = registry.entities()
WORDS = [
    "new",
    "open",
    "closed",
    "won",
    "lost",
    "high",
    "low",
    "critical",
    "major",
    "minor",
    "Warszawa",
    "prospecting",
    "engaging",
    "importer",
    "admin",
    "P",
    "1.0",
    "PLN",
    "EUR",
    "yes",
    "no",
    "true",
    "0",
]
HALF = max(
    (settings.default.max_examples if settings.default else 100) // 2, 1
)  # per backend: two halves make the profile's count


def _nip(digits: list[int]) -> str:
    check = sum(d * w for d, w in zip(digits, (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True)) % 11
    return "".join(map(str, digits)) + str(check % 10)


def _cell(kind: str) -> st.SearchStrategy[str]:
    """A value for a field of `kind`: mostly plausible, often hostile, sometimes empty."""
    plausible: st.SearchStrategy[str]
    if kind in ("money", "signed_money", "number"):
        plausible = st.one_of(
            st.decimals(-(10**15), 10**15, places=2).map(str),
            st.decimals(0, 10**6, places=2).map(lambda d: f"{d:,.2f}".replace(",", " ").replace(".", ",")),
            st.sampled_from(["1E+999999999999", "-0", "1e308", "12,5", "1.234.567,89"]),
        )
    elif kind == "date":
        plausible = st.one_of(
            st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat),
            st.dates(date(1850, 1, 1), date(2300, 12, 31)).map(lambda d: d.strftime("%d.%m.%Y")),
            st.sampled_from(["31-02-2017", "2017-02-29", "1677-09-21", "2262-04-12 00:00:00", "0000-00-00"]),
        )
    elif kind == "email":
        plausible = st.emails().map(str)
    elif kind == "nip":
        plausible = st.lists(st.integers(0, 9), min_size=9, max_size=9).map(_nip)
    elif kind == "phone":
        plausible = st.from_regex(r"\+?[0-9 ()-]{5,15}", fullmatch=True)
    else:
        plausible = st.sampled_from(WORDS)
    return st.one_of(plausible, plausible, hostile_text, st.just(""))


@st.composite
def import_files(draw: st.DrawFn, entity: str) -> bytes:
    specs = registry.fields(entity)
    names = [f.name for f in specs if f.required or draw(st.booleans())]
    if names and draw(st.integers(0, 9)) == 0:  # a required column missing now and then
        names.pop(draw(st.integers(0, len(names) - 1)))
    if draw(st.integers(0, 9)) == 0:
        names.append(draw(st.sampled_from(["extra", "", "Name", names[0] if names else "x"])))
    names = draw(st.permutations(names))
    kinds = {f.name: f.kind for f in specs}
    rows = [[draw(_cell(kinds.get(n, "text"))) for n in names] for _ in range(draw(st.integers(0, 5)))]
    if rows and draw(st.integers(0, 5)) == 0:  # a ragged row
        rows[0] = rows[0][: draw(st.integers(0, len(rows[0])))] + ["spare"] * draw(st.integers(0, 2))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator=newline).writerows([names, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1250"]))
    return out.getvalue().encode(encoding, errors="replace")


def _counts(engine: Engine) -> dict[str, int]:
    tables = SQLModel.metadata.sorted_tables
    query = " UNION ALL ".join(f"SELECT '{t.name}', count(*) FROM \"{t.name}\"" for t in tables)
    with engine.connect() as conn:
        return {str(name): int(n) for name, n in conn.execute(text(query))}


@pytest.fixture
def importer(engine: Engine, make_user):  # type: ignore[no-untyped-def]
    """A user with every role (so every entity's permission), and one project to import into."""
    with Session(engine) as s:
        s.add(Project(name="P"))
        s.commit()
    return make_user("importer", *APP_ROLES)


def _run(engine: Engine, actor: Any, entity: str, data: bytes, *, dry_run: bool, strict: bool) -> bool:
    """True when the input was refused (a DomainError, a dry run, a strict run with a bad row):
    then nothing may have been written. Otherwise the valid rows and the import's audit entry
    are committed."""
    with UnitOfWork(engine) as uow:
        try:
            report = import_engine.run_import(
                session=uow.session,
                actor=actor,
                entity=entity,
                data=data,
                mapping=Mapping(),
                dry_run=dry_run,
                strict=strict,
                filename=f"{entity}.csv",
            )
        except DomainError as err:
            assert err.message()
            return True
        except Exception as err:
            if known_crash(err):
                return True
            raise
        for row_error in report.errors:
            assert row_error.message()
        if dry_run or (strict and report.error_count):
            assert not report.written
            uow.commit()  # commits nothing: a refused run must not have flushed a row either
            return True
        uow.commit()
        return False


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_import_entity_refuses_cleanly_and_writes_nothing_when_refused(
    entity: str, engine: Engine, importer: Any
) -> None:
    @settings(max_examples=HALF)
    @given(data=import_files(entity), dry_run=st.booleans(), strict=st.booleans())
    def check(data: bytes, dry_run: bool, strict: bool) -> None:
        before = _counts(engine)
        if _run(engine, importer, entity, data, dry_run=dry_run, strict=strict):
            assert _counts(engine) == before, (entity, data[:200])

    check()


def test_the_registry_has_every_domains_entities() -> None:
    assert {"accounts", "contacts", "products", "users", "deals", "settlements", "defects"} <= set(ENTITIES)
