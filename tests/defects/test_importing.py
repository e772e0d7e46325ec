"""Moving in from another tracker: the shipped Bugzilla and Jira mappings on the sample exports in
examples/data/trackers (dry run names the bad rows by line and column, strict writes nothing,
a clean import writes the expected defects, statuses and history, importing again duplicates
nothing), and the export frame. SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import PermissionDenied
from crm_impl.core.exporting import export_bytes
from crm_impl.core.models import AuditEntry, Project, UserAccount
from crm_impl.core.permissions import SYSTEM, Actor
from crm_impl.defects import importing
from crm_impl.defects.models import Defect, DefectChange, Release
from crm_impl.importers import mapping as mapping_mod
from crm_impl.importers.report import ImportReport
from tests.conftest import ROOT

DATA = ROOT / "examples" / "data" / "trackers"
MAPPINGS = ROOT / "examples" / "mappings"
PEOPLE = (
    ("pwisniewski", "Paweł Wiśniewski", "pawel.wisniewski@softronik.pl", "programmer"),
    ("mdabrowski", "Michał Dąbrowski", "michal.dabrowski@softronik.pl", "programmer"),
    ("azielinska", "Anna Zielińska", "anna.zielinska@softronik.pl", "tester"),
    ("glewandowski", "Grzegorz Lewandowski", "grzegorz.lewandowski@budmax.pl", "tester"),
    ("kwojcik", "Katarzyna Wójcik", "katarzyna.wojcik@softronik.pl", "pm_vendor"),
)
# line -> column of every bad row of the samples (header = line 1)
BAD = {
    "bugzilla": {
        16: {"Status"},  # ASIGNED
        17: {"Severity"},  # critcal
        18: {"Assignee"},  # unknown person
        19: {"Summary"},  # empty
        20: {"Summary"},  # a formula
        21: {"Bug ID"},  # 1210 twice
        22: {"Opened", "Priority"},  # 31.02.2026, P6
    },
    "jira": {
        # the first Jira row's description spans three lines: the next row starts on line 5
        14: {"Issue Type"},  # a Story
        15: {"Priority"},  # Urgent
        16: {"Assignee"},  # Zenon Nieznany
        17: {"Status"},  # Blocked
        18: {"Resolved"},  # hour 25
    },
}
GOOD = {"bugzilla": 14, "jira": 10}


@pytest.fixture
def project(engine: Engine) -> int:
    with Session(engine) as s:
        p = Project(name="Budmax CRM 2026")
        s.add(p)
        for username, name, email, role in PEOPLE:
            s.add(UserAccount(username=username, display_name=name, email=email, roles=[role]))
        s.commit()
        return int(p.id or 0)


def _run(
    engine: Engine, tracker: str, *, dry_run: bool, strict: bool = False, actor: Actor = SYSTEM
) -> ImportReport:
    with UnitOfWork(engine) as uow:
        report = importing.run_import(
            session=uow.session,
            actor=actor,
            entity="defects",
            data=DATA / f"{tracker}.csv",
            mapping=mapping_mod.load(MAPPINGS / f"{tracker}.toml"),
            dry_run=dry_run,
            strict=strict,
            filename=f"{tracker}.csv",
        )
        if report.written:
            uow.commit()
    return report


def _count(engine: Engine, model: type) -> int:  # type: ignore[type-arg]
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _lines(report: ImportReport) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in report.errors:
        out.setdefault(e.line, set()).add(e.column)
    return out


def test_jira_sample_line_numbers() -> None:
    # the expected lines above follow the file: header, a three-line first row, one per other row
    text = (DATA / "jira.csv").read_text(encoding="utf-8").splitlines()
    assert text[13].startswith("As a rep I want a dark mode,CRM-111")


@pytest.mark.parametrize("tracker", ["bugzilla", "jira"])
def test_dry_run_names_bad_rows_and_writes_nothing(engine: Engine, project: int, tracker: str) -> None:
    report = _run(engine, tracker, dry_run=True)
    assert _lines(report) == BAD[tracker]
    assert report.rejected == len(BAD[tracker])
    assert report.valid_rows == report.created == GOOD[tracker]
    assert report.extra["releases_created"] == 4
    assert not report.written
    assert _count(engine, Defect) == _count(engine, Release) == _count(engine, DefectChange) == 0


def test_unknown_values_suggest_the_closest(engine: Engine, project: int) -> None:
    report = _run(engine, "bugzilla", dry_run=True)
    by_line = {e.line: e for e in report.errors}
    assert by_line[16].suggestion == "ASSIGNED" and "Did you mean" in by_line[16].message()
    assert by_line[17].suggestion == "critical"
    assert by_line[18].key == "imports.error.unknown_ref" and by_line[18].value == "jan.obcy@example.com"
    assert by_line[21].params["first"] == 11  # Bug 1210 was first on line 11


@pytest.mark.parametrize("tracker", ["bugzilla", "jira"])
def test_strict_refuses_the_whole_file(engine: Engine, project: int, tracker: str) -> None:
    report = _run(engine, tracker, dry_run=False, strict=True)
    assert not report.written and report.created == 0 and report.rejected == len(BAD[tracker])
    assert _count(engine, Defect) == _count(engine, Release) == 0


BUGZILLA_STATUSES = {
    "1201": ("fixed", "critical", "P1", "test_data", "1.0", "1.1", "1.1"),
    "1203": ("confirmed", "major", "P3", "test_data", "1.0", "1.2", None),  # normal -> major
    "1204": ("in_progress", "blocker", "P1", "real_data", "1.1", "1.2", None),  # keyword realdata
    "1205": ("wont_fix", "minor", "P4", "test_data", "1.0", None, None),  # RESOLVED WONTFIX
    "1206": ("duplicate", "critical", "P2", "real_data", "1.0", "1.1", None),
    "1208": ("new", "major", "P3", "test_data", "1.1", None, None),  # UNCONFIRMED, Normal -> P3
    "1209": ("rejected", "minor", "P4", "test_data", "1.0", "1.1", None),  # WORKSFORME
    "1210": ("closed", "critical", "P1", "test_data", "1.0", "1.1", "1.1"),
    "1214": ("confirmed", "trivial", "P5", "test_data", "1.1", "2.0", None),  # enhancement
}
JIRA_STATUSES = {
    "CRM-101": ("closed", "major", "P2", "test_data", "1.0", "1.1", "1.1"),
    "CRM-102": ("in_progress", "critical", "P1", "real_data", "1.0", "1.2", None),
    "CRM-103": ("in_retest", "major", "P3", "test_data", "1.0", "1.1", "1.1"),
    "CRM-105": ("reopened", "major", "P2", "real_data", "1.1", "1.2", None),
    "CRM-106": ("wont_fix", "major", "P3", "test_data", "1.1", None, None),
    "CRM-107": ("duplicate", "critical", "P1", "test_data", "1.1", "1.1", None),
    "CRM-108": ("rejected", "minor", "P4", "test_data", "1.1", None, None),
}


def _by_key(engine: Engine) -> dict[str, tuple[object, ...]]:
    with Session(engine) as s:
        names = {r.id: r.name for r in s.exec(select(Release)).all()}
        out: dict[str, tuple[object, ...]] = {}
        for d in s.exec(select(Defect)).all():
            key = d.links.splitlines()[0].split(" ", 1)[1]
            out[key] = (
                d.status,
                d.severity,
                d.priority,
                d.environment,
                names.get(d.found_in_release_id),
                names.get(d.target_release_id),
                names.get(d.fixed_in_release_id),
            )
        return out


@pytest.mark.parametrize(("tracker", "expected"), [("bugzilla", BUGZILLA_STATUSES), ("jira", JIRA_STATUSES)])
def test_import_writes_defects_history_and_releases(
    engine: Engine, project: int, tracker: str, expected: dict[str, tuple[object, ...]]
) -> None:
    report = _run(engine, tracker, dry_run=False)
    assert report.written and report.created == GOOD[tracker] and report.rejected == len(BAD[tracker])
    assert _count(engine, Defect) == GOOD[tracker]
    got = _by_key(engine)
    for key, row in expected.items():
        assert got[key] == row, key
    with Session(engine) as s:
        assert sorted(s.exec(select(Release.name)).all()) == ["1.0", "1.1", "1.2", "2.0"]
        # releases through the service: each has its own audit entry; the run has one
        assert s.exec(select(func.count()).where(col(AuditEntry.entity) == "release")).one() == 4
        assert s.exec(select(func.count()).where(col(AuditEntry.entity) == "import")).one() == 1
        history = s.exec(select(DefectChange)).all()
        assert len(history) == GOOD[tracker]
        statuses = {d.id: d.status for d in s.exec(select(Defect)).all()}
        for h in history:
            assert h.from_status is None and h.to_status == statuses[h.defect_id]
            assert h.comment.startswith("imported: " + ("Bugzilla " if tracker == "bugzilla" else "Jira "))
        users = {u.username: u.id for u in s.exec(select(UserAccount)).all()}
        first = s.exec(select(Defect).order_by(col(Defect.id))).first()
        assert first is not None
        assert first.assignee_id == users["pwisniewski"] and first.reporter_id == users["azielinska"]
        polish = s.exec(select(Defect.title).where(col(Defect.title).like("%ł%"))).all()
        assert polish  # diacritics kept as typed
        closed = s.exec(
            select(Defect).where(col(Defect.status).in_(["closed", "rejected", "wont_fix"]))
        ).all()
        assert closed and all(d.closed_at is not None for d in closed)


@pytest.mark.parametrize("tracker", ["bugzilla", "jira"])
def test_importing_twice_duplicates_nothing(engine: Engine, project: int, tracker: str) -> None:
    _run(engine, tracker, dry_run=False)
    again = _run(engine, tracker, dry_run=False)
    assert again.created == 0 and again.skipped == GOOD[tracker]
    assert "releases_created" not in again.extra
    assert _count(engine, Defect) == GOOD[tracker] and _count(engine, Release) == 4


def test_both_trackers_share_releases(engine: Engine, project: int) -> None:
    _run(engine, "bugzilla", dry_run=False)
    jira = _run(engine, "jira", dry_run=False)
    assert "releases_created" not in jira.extra  # 1.0 … 2.0 matched by name
    assert _count(engine, Defect) == GOOD["bugzilla"] + GOOD["jira"]


def test_import_needs_release_management(engine: Engine, project: int, make_user) -> None:  # type: ignore[no-untyped-def]
    sales = make_user("boss", "sales_manager")  # may run imports, may not manage releases
    with pytest.raises(PermissionDenied):
        _run(engine, "bugzilla", dry_run=True, actor=sales)


def test_export_frame_round_trips(engine: Engine, project: int) -> None:
    _run(engine, "jira", dry_run=False)
    with Session(engine) as s:
        frame = importing.export_frame(session=s, actor=SYSTEM, project_id=project)
    assert list(frame.columns) == list(importing.EXPORT_COLUMNS) and len(frame) == GOOD["jira"]
    assert set(frame["status"]) <= {
        "closed",
        "in_progress",
        "in_retest",
        "new",
        "reopened",
        "wont_fix",
        "duplicate",
        "rejected",
    }
    data = export_bytes({"defects": frame}, "csv")
    assert "Przypisanie leada do oddziału".encode() in data
    again = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert len(again) == len(frame)
    # the export imports again without a mapping (field names as columns); keys are new
    with UnitOfWork(engine) as uow:
        report = importing.run_import(
            session=uow.session, actor=SYSTEM, entity="defects", data=data, dry_run=True
        )
    assert report.rejected == 0 and report.created == GOOD["jira"]
    assert export_bytes({"defects": frame}, "xlsx")[:2] == b"PK"
