"""The usage log import and the usage frame on both databases: users matched by username or
e-mail, unknown users and bad cells named per row (strict: nothing written), sign-ins and views
counted but not stored, a log imported twice adds nothing the second time, the permission, and
the one event frame that unions in-app use (audit entries) with the imported events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crm_impl.adoption import importing
from crm_impl.adoption.models import ActivityEvent, UsageImport
from crm_impl.adoption.queries import usage as queries
from crm_impl.adoption.services import usage as services
from crm_impl.core import audit
from crm_impl.core.auth import actor_for
from crm_impl.core.errors import PermissionDenied, ValidationError
from crm_impl.core.models import AuditEntry, Person, Project, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.importers import mapping as mapping_mod

LOG = """user,timestamp,action,entity
ala,2026-03-02 09:15:00,create,deal
ALA@budmax.pl,2026-03-02T10:00:00+01:00,update,deal
bartek.k@budmax.pl,02/Mar/2026:11:30:00 +0100,update,contact
ala,2026-03-03 08:00,login,
bartek,2026-03-03 08:05,view,deal
ala,2026-03-02 09:15:00,create,deal
"""


@pytest.fixture
def w(session: Session):  # type: ignore[no-untyped-def]
    project = Project(name="Rollout", go_live_date=date(2026, 3, 1))
    ala = Person(full_name="Ala Nowak", email="ala@budmax.pl", department="Sales", licensed_user=True)
    bartek = Person(
        full_name="Bartek Kowal", email="bartek.k@budmax.pl", department="Sales", licensed_user=True
    )
    session.add_all([project, ala, bartek])
    session.flush()
    session.add_all(
        [
            UserAccount(username="ala", roles=["sales_rep"], person_id=ala.id),
            UserAccount(username="bartek", roles=["sales_rep"], email="bk@other.pl", person_id=bartek.id),
            UserAccount(username="robot", roles=["sales_rep"]),  # no person
        ]
    )
    session.commit()
    admin = UserAccount(username="admin", roles=["admin"])
    pm = UserAccount(username="pm", roles=["pm_client"])
    session.add_all([admin, pm])
    session.commit()
    return {
        "project": int(project.id or 0),
        "ala": int(ala.id or 0),
        "bartek": int(bartek.id or 0),
        "admin": actor_for(admin),
        "pm": actor_for(pm),
    }


def _import(session: Session, actor: Actor, text: str, **kw):  # type: ignore[no-untyped-def]
    report = importing.import_log(
        session=session,
        actor=actor,
        data=text.encode(),
        source=kw.pop("source", "crm-web"),
        dry_run=kw.pop("dry_run", False),
        filename="access.csv",
        **kw,
    )
    if report.written:
        session.commit()
    return report


def _events(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ActivityEvent)).one())


def test_import_maps_users_skips_non_use_and_duplicates(session, w):
    report = _import(session, w["admin"], LOG)
    assert report.error_count == 0, [e.message() for e in report.errors]
    assert report.created == 3  # ala create, ala update (by e-mail), bartek update (by person e-mail)
    assert report.skipped == 3  # the login, the view, and the repeated first line
    assert report.extra == {"not_use": 2, "repeated_in_file": 1}
    rows = session.exec(select(ActivityEvent).order_by(ActivityEvent.at)).all()
    assert [(r.person_id, r.action, r.entity, r.source) for r in rows] == [
        (w["ala"], "create", "deal", "crm-web"),
        (w["ala"], "update", "deal", "crm-web"),
        (w["bartek"], "update", "contact", "crm-web"),
    ]
    # a time without an offset is local time (Europe/Warsaw, UTC+1 in March)
    assert rows[0].at == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    assert rows[2].at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    batch = session.exec(select(UsageImport)).one()
    assert (batch.source, batch.file_name, batch.added, batch.skipped_duplicates) == (
        "crm-web",
        "access.csv",
        3,
        1,
    )
    entries = session.exec(select(AuditEntry).where(AuditEntry.entity.in_(["usage_import", "import"]))).all()
    assert {e.entity for e in entries} == {"usage_import", "import"}


def test_the_same_log_imported_twice_adds_nothing(session, w):
    _import(session, w["admin"], LOG)
    again = _import(session, w["admin"], LOG)
    assert again.created == 0 and again.error_count == 0
    assert again.skipped == 6 and again.extra["already_imported"] == 3
    assert _events(session) == 3
    batches = session.exec(select(UsageImport).order_by(UsageImport.id)).all()
    assert [(b.added, b.skipped_duplicates) for b in batches] == [(3, 1), (0, 4)]
    # a longer export overlapping the first one: only the new line is added
    longer = LOG + "bartek,2026-03-04 12:00,update,deal\n"
    assert _import(session, w["admin"], longer).created == 1
    assert _events(session) == 4
    # the same events from another source are other events
    assert _import(session, w["admin"], LOG, source="mobile").created == 3


def test_bad_rows_are_named_and_strict_writes_nothing(session, w):
    bad = (
        "user,timestamp,action,entity\n"
        "ala,2026-03-02 09:15,create,deal\n"
        "zenon,2026-03-02 09:15,create,deal\n"
        "robot,2026-03-02 09:15,create,deal\n"
        "ala,yesterday,update,deal\n"
        "ala,2026-03-02 09:20,delete,deal\n"
        "ala,2199-01-01 00:00,update,deal\n"
    )
    report = _import(session, w["admin"], bad, strict=True)
    assert not report.written and report.error_count == 5
    by_line = {e.line: e for e in report.errors}
    assert set(by_line) == {3, 4, 5, 6, 7}
    assert by_line[3].column == "user" and "zenon" in by_line[3].message()
    assert "not linked to a person" in by_line[4].message()
    assert by_line[5].column == "timestamp" and "not a time" in by_line[5].message()
    assert by_line[6].column == "action" and "create, update, view, login, logout" in by_line[6].message()
    assert "in the future" in by_line[7].message()
    session.rollback()
    assert _events(session) == 0 and session.exec(select(UsageImport)).first() is None
    dry = _import(session, w["admin"], bad, dry_run=True)
    assert dry.error_count == 5 and dry.created == 1 and _events(session) == 0
    loose = _import(session, w["admin"], bad)  # without --strict the valid row is written
    assert loose.written and loose.created == 1 and _events(session) == 1


def test_a_value_map_turns_the_other_systems_words_into_actions(session, w):
    web = "remote_user;time;method\nala;02/Mar/2026:09:00:00 +0100;POST\nala;02/Mar/2026:09:01:00 +0100;GET\n"
    mapping = mapping_mod.loads(
        '[usage.columns]\nuser = "remote_user"\ntimestamp = "time"\naction = "method"\n'
        '[usage.values.action]\nPOST = "create"\nGET = "view"\n'
    )
    report = _import(session, w["admin"], web, mapping=mapping)
    assert (report.created, report.skipped, report.error_count) == (1, 1, 0)


def test_import_needs_the_permission(session, w):
    with pytest.raises(PermissionDenied):
        _import(session, w["pm"], LOG)  # a PM reads adoption but runs no imports
    with pytest.raises(PermissionDenied):
        services.start_import(session=session, actor=w["pm"], project_id=w["project"], source="x")
    assert _events(session) == 0


def test_services_refuse_bad_input(session, w):
    with pytest.raises(ValidationError):
        services.start_import(session=session, actor=SYSTEM, project_id=w["project"], source="  ")
    with pytest.raises(ValidationError):
        services.start_import(session=session, actor=SYSTEM, project_id=9999, source="crm-web")
    batch = services.start_import(session=session, actor=SYSTEM, project_id=w["project"], source="crm-web")
    naive = {
        "person_id": [w["ala"]],
        "at": [datetime(2026, 3, 2, 9)],
        "action": ["create"],
        "entity": [""],
        "source": ["crm-web"],
        "fingerprint": ["x" * 64],
    }
    with pytest.raises(ValidationError):
        services.add_events(session=session, actor=SYSTEM, batch=batch, columns=naive)
    with pytest.raises(ValidationError):
        services.add_events(
            session=session,
            actor=SYSTEM,
            batch=batch,
            columns={**naive, "at": [datetime(2026, 3, 2, tzinfo=UTC)], "action": ["login"]},
        )
    assert _events(session) == 0


def test_the_usage_frame_unions_in_app_use_and_imported_events(session, w):
    _import(session, w["admin"], LOG)
    ala_user = session.exec(select(UserAccount).where(UserAccount.username == "ala")).one()
    actor = actor_for(ala_user)
    at = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for entity, action in [("deal", "create"), ("deal", "move"), ("activity", "done"), ("user", "login")]:
        entry = audit.record(session=session, actor=actor, entity=entity, entity_id=1, action=action)
        entry.at = at
    other = Project(name="Other")
    session.add(other)
    session.flush()
    entry = audit.record(
        session=session, actor=actor, entity="defect", entity_id=1, action="create", project_id=other.id
    )
    entry.at = at
    session.commit()
    daily = queries.daily(session, w["project"]).sort_values(["person_id", "source"]).reset_index(drop=True)
    rows = [(r.person_id, r.day.date(), r.source, r.created, r.updated) for r in daily.itertuples()]
    assert rows == [
        (
            w["ala"],
            date(2026, 3, 2),
            "app",
            1,
            2,
        ),  # create, move, done; the sign-in and the other project's defect not
        (w["ala"], date(2026, 3, 2), "crm-web", 1, 1),
        (w["bartek"], date(2026, 3, 2), "crm-web", 0, 1),
    ]
    everyone = queries.people(session).set_index("name")
    assert everyone.loc["Ala Nowak", "role"] == "sales_rep" and everyone.loc["Ala Nowak", "licensed_user"]
    report = queries.report(session, w["project"], today=date(2026, 3, 6))
    assert report["summary"]["mau"] == 2 and report["summary"]["licensed"] == 2
    assert {r["source"] for r in report["by_source"]} == {"app", "crm-web"}
    training_use = queries.app_use_by_user(session, [int(ala_user.id or 0)])
    assert training_use["actions"].tolist() == [4]  # training counts in-app use of every project
