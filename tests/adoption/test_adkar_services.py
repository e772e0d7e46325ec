"""The ADKAR survey services on both databases: permission refused, bad input refused with a
translated message naming the field and nothing written (a score outside 1–5, a department that
does not exist, a person not in the project, one bad line of a batch), a version conflict, audit
entries; the CSV import through the engine's reader (form-tool headers, a bad line imports
nothing, a dry run writes nothing)."""

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.adoption.models import (
    AdkarResponse,
    AdkarResponseUpdate,
    AdkarRound,
    AdkarRoundCreate,
    AdkarScores,
)
from crm_impl.adoption.queries import registers as queries
from crm_impl.adoption.services import adkar
from crm_impl.core.auth import actor_for
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry, Person, ProjectCreate, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.rollout.services import projects

DAY = date(2026, 5, 4)


def _user(session: Session, name: str, role: str) -> Actor:
    user = UserAccount(username=name, roles=[role], display_name=name)
    session.add(user)
    session.flush()
    return actor_for(user)


def _counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in SQLModel.metadata.sorted_tables
        if t.name in {"adkar_round", "adkar_response", "audit_entry"}
    }


@pytest.fixture
def w(session: Session):  # type: ignore[no-untyped-def]
    project = projects.create_project(session=session, actor=SYSTEM, data=ProjectCreate(name="Rollout"))
    people = [
        Person(
            full_name="Anna Nowak", side="client", department="Sales", licensed_user=True, email="anna@x.pl"
        ),
        Person(full_name="Jan Kowal", side="client", department="Sales", licensed_user=True),
        Person(full_name="Ewa Lis", side="client", department="Logistics", licensed_user=True),
        Person(full_name="Outsider", side="vendor", department="Elsewhere", licensed_user=False),
    ]
    session.add_all(people)
    session.flush()
    pm = _user(session, "pm", "pm_client")
    rnd = adkar.create_round(
        session=session,
        actor=pm,
        project_id=int(project.id or 0),
        data=AdkarRoundCreate(title="R1", survey_date=DAY),
    )
    session.commit()
    return {
        "project": int(project.id or 0),
        "people": [int(p.id or 0) for p in people],
        "pm": pm,
        "round": int(rnd.id or 0),
        "trainer": _user(session, "trainer", "trainer"),
    }


def _line(department: str | None = None, person: int | None = None, scores=(4, 4, 4, 4, 4)) -> AdkarScores:  # type: ignore[no-untyped-def]
    a, d, k, ab, r = scores
    return AdkarScores(
        department=department,
        person_id=person,
        awareness=a,
        desire=d,
        knowledge=k,
        ability=ab,
        reinforcement=r,
    )


def test_a_person_and_an_anonymous_department_row_are_recorded_and_audited(session, w):
    anna = w["people"][0]
    row = adkar.record_response(session=session, actor=w["pm"], round_id=w["round"], data=_line(person=anna))
    anon = adkar.record_response(
        session=session,
        actor=w["pm"],
        round_id=w["round"],
        data=_line(department="logistics", scores=(3, 3, 3, 3, 3)),
    )
    session.commit()
    assert row.department == "Sales"  # the person's own department
    assert anon.person_id is None and anon.department == "Logistics"  # matched case-insensitively
    audits = session.exec(select(AuditEntry).where(AuditEntry.entity == "adkar_response")).all()
    assert [(a.action, a.username) for a in audits] == [("create", "pm"), ("create", "pm")]


def test_someone_without_the_right_is_refused_and_nothing_is_written(session, w):
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        adkar.record_response(
            session=session, actor=w["trainer"], round_id=w["round"], data=_line(person=w["people"][0])
        )
    with pytest.raises(PermissionDenied):
        adkar.create_round(
            session=session,
            actor=w["trainer"],
            project_id=w["project"],
            data=AdkarRoundCreate(title="x", survey_date=DAY),
        )
    assert _counts(session) == before


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        (_line(department="Sales", scores=(4, 6, 4, 4, 4)), "Desire", "between 1 and 5"),
        (_line(department="Sales", scores=(0, 4, 4, 4, 4)), "Awareness", "between 1 and 5"),
        (_line(department="Sales", scores=(4, 4, "x", 4, 4)), "Knowledge", "not a number"),
        (_line(department="Sales", scores=(4, 4, 4, 2.5, 4)), "Ability", "not a number"),
        (_line(department="Sales", scores=(4, 4, 4, 4, None)), "Reinforcement", "required"),
        (_line(department="Marketing"), "Department", "not a department"),
        (_line(department=None), "Department", "give the department"),
    ],
)
def test_bad_input_is_refused_naming_the_field(session, w, line, field, words):
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        adkar.record_response(session=session, actor=w["pm"], round_id=w["round"], data=line)
    assert field in err.value.message() and words in err.value.message()
    session.rollback()
    assert _counts(session) == before


def test_a_person_not_in_the_project_is_refused(session, w):
    outsider = w["people"][3]
    with pytest.raises(ValidationError) as err:
        adkar.record_response(
            session=session, actor=w["pm"], round_id=w["round"], data=_line(person=outsider)
        )
    assert "Person" in err.value.message() and "not one of this project's people" in err.value.message()
    with pytest.raises(ValidationError) as err:
        adkar.record_response(session=session, actor=w["pm"], round_id=w["round"], data=_line(person=999999))
    assert "not one of this project's people" in err.value.message()


def test_a_department_other_than_the_persons_is_refused(session, w):
    with pytest.raises(ValidationError) as err:
        adkar.record_response(
            session=session,
            actor=w["pm"],
            round_id=w["round"],
            data=_line(department="Logistics", person=w["people"][0]),
        )
    assert "not the department of Anna Nowak (Sales)" in err.value.message()


def test_one_bad_line_of_a_batch_writes_nothing_and_names_the_row(session, w):
    anna, jan, _ewa, _ = w["people"]
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        adkar.record_responses(
            session=session,
            actor=w["pm"],
            round_id=w["round"],
            lines=[_line(person=anna), _line(person=jan), _line(department="Sales", scores=(4, 4, 4, 4, 9))],
        )
    assert err.value.message().startswith("Row 3:") and "Nothing was saved" in err.value.message()
    session.rollback()
    assert _counts(session) == before


def test_a_person_answers_a_round_once(session, w):
    anna = w["people"][0]
    with pytest.raises(ValidationError) as err:
        adkar.record_responses(
            session=session, actor=w["pm"], round_id=w["round"], lines=[_line(person=anna)] * 2
        )
    assert "Row 2:" in err.value.message() and "already answered" in err.value.message()
    session.rollback()
    adkar.record_response(session=session, actor=w["pm"], round_id=w["round"], data=_line(person=anna))
    session.commit()
    with pytest.raises(ValidationError):
        adkar.record_response(session=session, actor=w["pm"], round_id=w["round"], data=_line(person=anna))


def test_a_stale_edit_is_a_conflict(session, w):
    row = adkar.record_response(
        session=session, actor=w["pm"], round_id=w["round"], data=_line(person=w["people"][0])
    )
    session.commit()
    adkar.update_response(
        session=session,
        actor=w["pm"],
        response_id=int(row.id or 0),
        expected_version=1,
        data=AdkarResponseUpdate(desire=2),
    )
    session.commit()
    with pytest.raises(ConflictError):
        adkar.update_response(
            session=session,
            actor=w["pm"],
            response_id=int(row.id or 0),
            expected_version=1,
            data=AdkarResponseUpdate(desire=5),
        )
    session.rollback()
    assert session.get(AdkarResponse, row.id).desire == 2
    with pytest.raises(ValidationError):
        adkar.update_response(
            session=session,
            actor=w["pm"],
            response_id=int(row.id or 0),
            expected_version=2,
            data=AdkarResponseUpdate(desire=7),
        )


CSV = (
    "Dział;Osoba;Data;A;D;K;A;R\n"
    "Sales;anna@x.pl;04.05.2026;4;4;2;3;4\n"
    ";Jan Kowal;04.05.2026;5;5;5;4;4\n"
    "Logistics;;2026-06-01;3;4;4;4;4\n"
)


def test_csv_import_reads_form_tool_headers_and_makes_the_rounds(session, w):
    dry = adkar.import_csv(
        session=session, actor=w["pm"], project_id=w["project"], data=CSV.encode(), dry_run=True
    )
    assert dry.valid_rows == 3 and dry.error_count == 0 and not dry.written
    assert session.exec(select(func.count()).select_from(AdkarResponse)).one() == 0
    report = adkar.import_csv(
        session=session, actor=w["pm"], project_id=w["project"], data=CSV.encode(), dry_run=False
    )
    session.commit()
    assert report.written and report.created == 3
    rounds = session.exec(select(AdkarRound).order_by(AdkarRound.survey_date)).all()
    assert [r.survey_date for r in rounds] == [DAY, date(2026, 6, 1)]  # 4 May is the existing round
    resp = queries.responses(session, w["project"])
    anna = resp.loc[resp["person_id"] == w["people"][0]].iloc[0]
    assert (anna["round_id"], anna["knowledge"], anna["ability"]) == (
        w["round"],
        2,
        3,
    )  # the second A is Ability
    assert resp["person_id"].isna().sum() == 1
    assert session.exec(select(AuditEntry).where(AuditEntry.entity == "import")).one().after["created"] == 3


def test_csv_import_with_a_bad_line_imports_nothing_and_names_the_line(session, w):
    bad = CSV + "Marketing;;04.05.2026;4;4;4;4;4\nSales;;04.05.2026;4;7;4;4;4\n=cmd();;04.05.2026;4;4;4;4;4\n"
    before = _counts(session)
    report = adkar.import_csv(
        session=session, actor=w["pm"], project_id=w["project"], data=bad.encode(), dry_run=False
    )
    assert not report.written and report.error_count == 3 and report.valid_rows == 3
    lines = {e.line for e in report.errors}
    assert lines == {5, 6, 7}
    messages = " ".join(e.message() for e in report.errors)
    assert "“Marketing” is not a department" in messages
    session.rollback()
    assert _counts(session) == before


def test_csv_import_needs_the_right(session, w):
    with pytest.raises(PermissionDenied):
        adkar.import_csv(session=session, actor=w["trainer"], project_id=w["project"], data=CSV.encode())
