"""The ADKAR survey (issue 11, Prosci): survey rounds and their responses — permission -> validation
-> write through crm_impl.core.writes (audited) -> nothing committed here.

A round is one survey on one date. A response is one person's five scores (Awareness, Desire,
Knowledge, Ability, Reinforcement, whole numbers 1–5), or an anonymous row of a department. A
person must be one of the project's people (`queries.registers.project_people`) and answers a
round once; their department is taken from their record. A department must be one of the
project's people's departments. A batch of responses (a grid, a CSV file) is checked as a whole
before the first row is written: one bad line writes nothing and is named by its row.

CSV import (`import_csv`): columns department and/or person (name, e-mail or id), date, and the
five scores (awareness … reinforcement, or A, D, K, A, R as a form tool exports them). The shared
import engine reads the file (encoding, delimiter, formula and markup cells refused, day-first
dates); each date becomes the project's round of that date, created when missing. Every row is
checked before the first is written; a bad row writes nothing at all (a survey round is imported
whole or not at all), and the report names each bad line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.adoption.models import (
    ADKAR_ELEMENTS,
    AdkarResponse,
    AdkarResponseUpdate,
    AdkarRound,
    AdkarRoundCreate,
    AdkarRoundUpdate,
    AdkarScores,
)
from crm_impl.adoption.queries import registers as queries
from crm_impl.adoption.registers_vocabulary import ADKAR_SCORES
from crm_impl.core import audit, validation, writes
from crm_impl.core.errors import RowError, ValidationError
from crm_impl.core.i18n import t
from crm_impl.core.permissions import Actor, require
from crm_impl.importers import reading
from crm_impl.importers.cleaning import FieldSpec, clean
from crm_impl.importers.report import ImportReport
from crm_impl.importers.report import RowError as ImportRowError
from crm_impl.rollout.services import checks as chk

MANAGE = "adoption.manage"
IMPORT_ENTITY = "adkar_responses"


def field(name: str) -> str:
    return f"adoption.field.{name}"


def score(value: Any, element: str) -> int:
    """One ADKAR score: a whole number 1–5 (blank is refused: every element is answered)."""
    if chk.is_blank(value):
        raise ValidationError("error.required", field=field(element))
    number = chk.integer(value, field(element))
    low, high = ADKAR_SCORES
    if not low <= number <= high:
        raise ValidationError("error.out_of_range", field=field(element), low=low, high=high)
    return number


ROUND_FIELDS = chk.Fields(
    AdkarRoundUpdate,
    {
        "title": lambda v: validation.text(v, field("round_title"), max_len=120),
        "survey_date": lambda v: chk.a_date(v, field("survey_date"), required=True),
        "notes": lambda v: validation.text(v, field("notes"), max_len=5000, required=False),
    },
)


def _scorer(element: str) -> chk.Cleaner:
    return lambda value: score(value, element)


SCORE_FIELDS = chk.Fields(AdkarResponseUpdate, {e: _scorer(e) for e in ADKAR_ELEMENTS})


# ---- rounds ---------------------------------------------------------------------------------------


def create_round(*, session: Session, actor: Actor, project_id: int, data: AdkarRoundCreate) -> AdkarRound:
    require(actor, MANAGE)
    chk.project(session, project_id)
    values = ROUND_FIELDS.clean(data.model_dump())
    row = AdkarRound(project_id=project_id, created_by_id=actor.id, **values)
    return writes.create(session=session, actor=actor, row=row, entity="adkar_round", project_id=project_id)


def update_round(
    *, session: Session, actor: Actor, round_id: int, expected_version: int | None, data: AdkarRoundUpdate
) -> AdkarRound:
    require(actor, MANAGE)
    row = writes.get(session, AdkarRound, round_id, "adkar_round")
    writes.expect_version(row.version, expected_version)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=ROUND_FIELDS.clean(data.changes()),
        entity="adkar_round",
        project_id=row.project_id,
    )


# ---- responses ------------------------------------------------------------------------------------


class _Context:
    """What a response is checked against, loaded once per call: the project's people (id ->
    department, name) and its departments (case-insensitive)."""

    def __init__(self, session: Session, project_id: int) -> None:
        people = queries.project_people(session, project_id)
        self.department = dict(zip(people["id"].astype(int), people["department"], strict=True))
        self.name = dict(zip(people["id"].astype(int), people["name"], strict=True))
        self.departments = {d.casefold(): d for d in people["department"] if d}


def _clean_line(line: AdkarScores, ctx: _Context) -> dict[str, Any]:
    person_id = chk.an_id(line.person_id, field("person"))
    typed = validation.text(line.department, field("department"), max_len=80, required=False)
    if person_id is not None:
        if person_id not in ctx.department:
            raise ValidationError(
                "adoption.error.person_not_in_project", field=field("person"), value=person_id
            )
        department = ctx.department[person_id]
        if not department:
            raise ValidationError(
                "adoption.error.person_no_department", field=field("person"), name=ctx.name[person_id]
            )
        if typed and typed.casefold() != department.casefold():
            raise ValidationError(
                "adoption.error.department_mismatch",
                field=field("department"),
                value=typed,
                name=ctx.name[person_id],
                department=department,
            )
    else:
        if not typed:
            raise ValidationError("adoption.error.department_or_person", field=field("department"))
        found = ctx.departments.get(typed.casefold())
        if found is None:
            raise ValidationError("adoption.error.unknown_department", field=field("department"), value=typed)
        department = found
    scores = {e: score(getattr(line, e), e) for e in ADKAR_ELEMENTS}
    return {"department": department, "person_id": person_id, **scores}


def _answered(session: Session, round_id: int) -> set[int]:
    query = select(AdkarResponse.person_id).where(
        AdkarResponse.round_id == round_id, col(AdkarResponse.person_id).is_not(None)
    )
    return {int(i) for i in session.exec(query).all() if i is not None}


def _check_lines(
    session: Session, rnd: AdkarRound, lines: Sequence[AdkarScores], ctx: _Context
) -> list[dict[str, Any]]:
    """Every line cleaned, or RowError naming the first bad one (1-based)."""
    answered = _answered(session, int(rnd.id or 0))
    cleaned: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        try:
            values = _clean_line(line, ctx)
            pid = values["person_id"]
            if pid is not None and pid in answered:
                raise ValidationError(
                    "adoption.error.person_answered", field=field("person"), name=ctx.name[pid]
                )
        except ValidationError as err:
            raise RowError(n, err) from err
        if pid is not None:
            answered.add(pid)
        cleaned.append(values)
    return cleaned


def _create(session: Session, actor: Actor, rnd: AdkarRound, values: dict[str, Any]) -> AdkarResponse:
    return writes.create(
        session=session,
        actor=actor,
        row=AdkarResponse(round_id=int(rnd.id or 0), **values),
        entity="adkar_response",
        project_id=rnd.project_id,
    )


def record_response(*, session: Session, actor: Actor, round_id: int, data: AdkarScores) -> AdkarResponse:
    """One response (a form): a person's scores or a department's anonymous ones."""
    require(actor, MANAGE)
    rnd = writes.get(session, AdkarRound, round_id, "adkar_round")
    ctx = _Context(session, rnd.project_id)
    values = _clean_line(data, ctx)
    pid = values["person_id"]
    if pid is not None and pid in _answered(session, round_id):
        raise ValidationError("adoption.error.person_answered", field=field("person"), name=ctx.name[pid])
    return _create(session, actor, rnd, values)


def record_responses(
    *, session: Session, actor: Actor, round_id: int, lines: Sequence[AdkarScores]
) -> list[AdkarResponse]:
    """A batch of responses (the bulk-entry grid): all checked before the first is written."""
    require(actor, MANAGE)
    rnd = writes.get(session, AdkarRound, round_id, "adkar_round")
    if not lines:
        raise ValidationError("error.required", field=field("responses"))
    cleaned = _check_lines(session, rnd, lines, _Context(session, rnd.project_id))
    return [_create(session, actor, rnd, values) for values in cleaned]


def update_response(
    *,
    session: Session,
    actor: Actor,
    response_id: int,
    expected_version: int | None,
    data: AdkarResponseUpdate,
) -> AdkarResponse:
    """Correct a response's scores (version-checked); who answered stays as it was."""
    require(actor, MANAGE)
    row = writes.get(session, AdkarResponse, response_id, "adkar_response")
    rnd = writes.get(session, AdkarRound, row.round_id, "adkar_round")
    writes.expect_version(row.version, expected_version)
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=SCORE_FIELDS.clean(data.changes()),
        entity="adkar_response",
        project_id=rnd.project_id,
    )


def delete_response(
    *, session: Session, actor: Actor, response_id: int, expected_version: int | None
) -> None:
    require(actor, MANAGE)
    row = writes.get(session, AdkarResponse, response_id, "adkar_response")
    rnd = writes.get(session, AdkarRound, row.round_id, "adkar_round")
    writes.expect_version(row.version, expected_version)
    writes.delete(session=session, actor=actor, row=row, entity="adkar_response", project_id=rnd.project_id)


# ---- CSV import -------------------------------------------------------------------------------------

IMPORT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("department", "text", False, 80),
    FieldSpec("person", "text", False, 254),
    FieldSpec("date", "date", True),
    *(FieldSpec(e, "number", True) for e in ADKAR_ELEMENTS),
)
# a column may carry the field's name, its Polish name, or a form tool's one-letter header (the
# second "A" of A, D, K, A, R reads as "A_2")
ALIASES = {
    "department": "department",
    "dział": "department",
    "person": "person",
    "osoba": "person",
    "e-mail": "person",
    "email": "person",
    "date": "date",
    "data": "date",
    "a": "awareness",
    "d": "desire",
    "k": "knowledge",
    "a_2": "ability",
    "r": "reinforcement",
    **{e: e for e in ADKAR_ELEMENTS},
    "świadomość": "awareness",
    "pragnienie": "desire",
    "wiedza": "knowledge",
    "umiejętność": "ability",
    "wzmocnienie": "reinforcement",
}


def _columns(header: list[str]) -> dict[str, str]:
    """field -> the file's column; both department and person may be given, one is needed."""
    sources: dict[str, str] = {}
    for column in header:
        name = ALIASES.get(column.strip().casefold())
        if name and name not in sources:
            sources[name] = column
    missing = [f.name for f in IMPORT_FIELDS if f.required and f.name not in sources]
    if "department" not in sources and "person" not in sources:
        missing.insert(0, "department")
    if missing:
        raise ValidationError(
            "imports.error.missing_columns", columns=", ".join(missing), found=", ".join(header)
        )
    return sources


def _people_lookup(session: Session, project_id: int) -> dict[str, int | None]:
    """A person as a file names them: id, e-mail or full name (case-insensitive); a name two
    people share maps to None (ambiguous)."""
    people = queries.project_people(session, project_id)
    found: dict[str, int | None] = {}
    for pid, name, email in zip(people["id"].astype(int), people["name"], people["email"], strict=True):
        found[str(pid)] = pid
        if email:
            found[str(email).casefold()] = pid
        key = str(name).casefold()
        found[key] = None if key in found and found[key] != pid else pid
    return found


def _existing_rounds(session: Session, project_id: int, days: set[date]) -> dict[date, AdkarRound]:
    """The project's round of each date (the first one when a date has several)."""
    if not days:
        return {}
    rows = session.exec(
        select(AdkarRound)
        .where(AdkarRound.project_id == project_id, col(AdkarRound.survey_date).in_(days))
        .order_by(col(AdkarRound.id).desc())
    ).all()
    return {r.survey_date: r for r in rows}


def import_csv(
    *, session: Session, actor: Actor, project_id: int, data: bytes, dry_run: bool = True, filename: str = ""
) -> ImportReport:
    """Import survey results (see the module's docstring). Dry run: check, write nothing."""
    require(actor, MANAGE)
    chk.project(session, project_id)
    source = reading.open_source(data)
    sources = _columns(source.header)
    report = ImportReport(
        entity=IMPORT_ENTITY,
        file_format=source.file_format,
        encoding=source.encoding,
        delimiter=source.delimiter,
        dry_run=dry_run,
        strict=True,
    )
    ctx = _Context(session, project_id)
    people = _people_lookup(session, project_id)
    planned: list[tuple[int, date, dict[str, Any]]] = []
    seen: dict[tuple[date, int], int] = {}
    used = sorted(set(sources.values()))
    positions = [source.header.index(c) for c in used]
    for chunk in source.chunks():
        for err in chunk.errors:
            report.add(err)
        report.error_count += len(chunk.errors)
        report.total_rows += len(chunk.rows) + len(chunk.errors)
        if not chunk.rows:
            continue
        df = pd.DataFrame([[row[p] for p in positions] for row in chunk.rows], columns=used, dtype=object)
        c = clean(
            df,
            chunk.lines,
            list(IMPORT_FIELDS),
            sources,
            {},
            null_values=[""],
            decimal="auto",
            date_format="auto",
        )
        for err in c.sink.errors:
            report.add(err)
        empty = pd.Series("", index=df.index, dtype=object)
        person_text = c.values.get("person", empty)
        for i, line in enumerate(chunk.lines):  # a row's checks name its line; a survey is small
            idx = df.index[i]
            if bool(c.sink.bad[idx]):
                report.error_count += 1
                continue
            typed = str(person_text[idx])
            pid = people.get(typed.casefold(), -1) if typed else None
            try:
                if pid == -1 or (typed and pid is None):
                    key = (
                        "adoption.error.person_ambiguous"
                        if pid is None
                        else "adoption.error.unknown_person_name"
                    )
                    raise ValidationError(key, field=field("person"), value=typed)
                scores = {e: c.values[e][idx] for e in ADKAR_ELEMENTS}
                values = _clean_line(
                    AdkarScores(department=c.values.get("department", empty)[idx], person_id=pid, **scores),
                    ctx,
                )
                day = pd.Timestamp(c.values["date"][idx]).date()
                if pid is not None and (day, int(pid)) in seen:
                    raise ValidationError(
                        "adoption.error.person_twice",
                        field=field("person"),
                        name=ctx.name[int(pid)],
                        first=seen[day, int(pid)],
                    )
            except ValidationError as err:
                column = sources.get("person", "") if err.params.get("field") == field("person") else ""
                report.add(
                    ImportRowError(
                        line, column, "adoption.import.row_problem", typed, {"problem": err.message()}
                    )
                )
                report.error_count += 1
                continue
            if pid is not None:
                seen[day, int(pid)] = line
            planned.append((line, day, values))
    report.valid_rows = len(planned)
    if not planned and not report.error_count:
        raise ValidationError("imports.error.empty_file")
    existing = _existing_rounds(session, project_id, {day for _line, day, _values in planned})
    for line, day, values in planned:
        pid = values["person_id"]
        rnd = existing.get(day)
        if pid is not None and rnd is not None and pid in _answered(session, int(rnd.id or 0)):
            problem = ValidationError(
                "adoption.error.person_answered", field=field("person"), name=ctx.name[pid]
            )
            report.add(
                ImportRowError(
                    line,
                    sources.get("person", ""),
                    "adoption.import.row_problem",
                    ctx.name[pid],
                    {"problem": problem.message()},
                )
            )
            report.error_count += 1
    if not dry_run and not report.error_count:
        made: dict[date, AdkarRound] = dict(existing)
        for _line, day, values in planned:
            if day not in made:
                made[day] = create_round(
                    session=session,
                    actor=actor,
                    project_id=project_id,
                    data=AdkarRoundCreate(
                        title=t("adoption.adkar.imported_round", date=day.isoformat()), survey_date=day
                    ),
                )
            _create(session, actor, made[day], values)
        report.created = len(planned)
        report.written = True
        audit.record(
            session=session,
            actor=actor,
            entity="import",
            entity_id=IMPORT_ENTITY,
            action="import",
            after={
                "file": filename,
                "rows": report.total_rows,
                "created": report.created,
                "rounds": len(made),
            },
            project_id=project_id,
        )
    report.extra["rounds"] = len({day for _line, day, _values in planned})
    return report
