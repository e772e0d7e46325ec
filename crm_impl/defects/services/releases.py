"""Releases and the go-live gate, test runs (failed cases -> defects in one step) and the
client tester's acceptance on real data (issue 9, slide 9).

The release gate. A release cannot be marked ready for go-live (nor released) while
  1. a blocker or critical defect of the project is open (OPEN_STATUSES) and is targeted at this
     release, at no release, or at an earlier one (by date: released on, else planned) — a
     severe defect nobody moved to a later release blocks the go-live;
  2. a fix contained in it is unverified: fixed in this release and still fixed / in retest;
  3. a real-data defect fixed in it lacks the client tester's sign-off (fixed, in retest or
     verified without it).
Each defect is named once, by the first rule it breaks. `release_gate` returns the reasons the
page shows; `set_release_status(..., "ready")` refuses with the same reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import ConflictError, PermissionDenied, ValidationError, user_text
from crm_impl.core.i18n import t
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.defects.models import (
    ACCEPTANCE_DECISIONS,
    ENVIRONMENTS,
    OPEN_STATUSES,
    RELEASE_STATUSES,
    Acceptance,
    AcceptanceCreate,
    Defect,
    DefectCreate,
    Release,
    ReleaseCreate,
    ReleaseUpdate,
    TestRun,
    TestRunCreate,
)
from crm_impl.defects.services import _common as c
from crm_impl.defects.services.defects import report_defect
from crm_impl.rollout.models import Requirement
from crm_impl.rollout.services import checks as chk

SEVERE = ("blocker", "critical")
GATED = ("ready", "released")  # statuses a release reaches only through the gate


def _release_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaners = {
        "name": lambda v: validation.text(v, "defects.field.name", max_len=40),
        "planned_date": lambda v: chk.a_date(v, "defects.field.planned_date"),
        "released_on": lambda v: chk.a_date(v, "defects.field.released_on"),
        "notes": lambda v: validation.text(v, "defects.field.notes", max_len=2000, required=False),
    }
    unknown = set(values) - set(cleaners)
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(unknown)))
    return {name: cleaners[name](value) for name, value in values.items()}


def create_release(*, session: Session, actor: Actor, project_id: int, data: ReleaseCreate) -> Release:
    require(actor, "release.manage")
    chk.project(session, project_id)
    values = _release_values(data.model_dump())
    chk.unique_name(
        session, Release, "name", values["name"], project_id=project_id, field="defects.field.name"
    )
    release = Release(project_id=project_id, status="planned", **values)
    return writes.create(session=session, actor=actor, row=release, entity="release", project_id=project_id)


def update_release(
    *, session: Session, actor: Actor, release_id: int, expected_version: int | None, data: ReleaseUpdate
) -> Release:
    require(actor, "release.manage")
    release = writes.get(session, Release, release_id, "release")
    writes.expect_version(release.version, expected_version)
    values = _release_values(data.changes())
    if "name" in values:
        chk.unique_name(
            session,
            Release,
            "name",
            values["name"],
            project_id=release.project_id,
            field="defects.field.name",
            exclude_id=release.id,
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=release,
        expected_version=expected_version,
        changes=values,
        entity="release",
        project_id=release.project_id,
    )


@dataclass(frozen=True)
class GateReason:
    """One defect that keeps a release from going live, and why (`kind`: open_severe,
    unverified_fix, missing_signoff)."""

    kind: str
    defect_id: int
    title: str
    severity: str

    def message(self) -> str:
        severity = t(f"defects.severity.{self.severity}")
        title = user_text(self.title)
        return t(f"defects.gate.{self.kind}", id=self.defect_id, title=title, severity=severity)


def _earlier_or_same(release: Release, target: Release | None) -> bool:
    """Whether a defect targeted at `target` is due by `release` (no target: due now)."""
    if target is None or target.id == release.id:
        return True
    ours, theirs = c.release_date(release), c.release_date(target)
    return ours is not None and theirs is not None and theirs <= ours


def release_gate(*, session: Session, release_id: int) -> list[GateReason]:
    """Why `release_id` cannot go live yet (empty: it can), in the order of the module's rules."""
    release = writes.get(session, Release, release_id, "release")
    releases = {
        r.id: r for r in session.exec(select(Release).where(Release.project_id == release.project_id))
    }
    defects = session.exec(
        select(Defect).where(Defect.project_id == release.project_id).order_by(col(Defect.id))
    ).all()
    reasons: dict[str, list[GateReason]] = {"unverified_fix": [], "missing_signoff": [], "open_severe": []}
    for d in defects:
        did = int(d.id or 0)
        fixed_here = d.fixed_in_release_id == release.id
        if fixed_here and d.status in ("fixed", "in_retest"):
            kind = "unverified_fix"
        elif (
            fixed_here
            and d.environment == "real_data"
            and d.status in ("fixed", "in_retest", "verified")
            and d.client_signoff_by_id is None
        ):
            kind = "missing_signoff"
        elif (
            d.severity in SEVERE
            and d.status in OPEN_STATUSES
            and _earlier_or_same(release, releases.get(d.target_release_id))
        ):
            kind = "open_severe"
        else:
            continue
        reasons[kind].append(GateReason(kind, did, d.title, d.severity))
    return reasons["open_severe"] + reasons["unverified_fix"] + reasons["missing_signoff"]


class ReleaseBlocked(ValidationError):
    """A release refused "ready for go-live": the message names every blocking defect."""

    key = "error.release_gate"

    def __init__(self, release: Release, status: str, reasons: list[GateReason]) -> None:
        super().__init__(
            "error.release_gate",
            release=release.name,
            status=c.both(f"defects.release_status.{status}"),
            defect_ids=[r.defect_id for r in reasons],
        )
        self.reasons = reasons

    def message(self) -> str:
        from crm_impl.core.i18n import get_locale

        labels = self.params["status"]
        text = t("defects.gate.separator").join(r.message() for r in self.reasons)
        release = user_text(self.params["release"])
        return t(self.key, release=release, status=labels[get_locale()], reasons=text)


def set_release_status(
    *, session: Session, actor: Actor, release_id: int, expected_version: int | None, status: str
) -> Release:
    """Move a release to planned / in test / ready (for go-live) / released; ready and released
    only through the gate. Released without a release date gets today's."""
    require(actor, "release.manage")
    release = writes.get(session, Release, release_id, "release")
    writes.expect_version(release.version, expected_version)
    status = validation.choice(status, "defects.field.release_status", RELEASE_STATUSES)
    if status in GATED:
        reasons = release_gate(session=session, release_id=release_id)
        if reasons:
            raise ReleaseBlocked(release, status, reasons)
    changes: dict[str, Any] = {"status": status}
    if status == "released" and release.released_on is None:
        changes["released_on"] = utcnow().date()
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=release,
        expected_version=expected_version,
        changes=changes,
        entity="release",
        project_id=release.project_id,
        action="transition",
    )


def record_test_run(*, session: Session, actor: Actor, project_id: int, data: TestRunCreate) -> TestRun:
    """A tester's run on a release: the side is the tester's (from their person), the counts
    of cases passed / failed / blocked are whole numbers >= 0."""
    require(actor, "testrun.record")
    chk.project(session, project_id)
    side = c.side_of(session, actor)
    if side is None:
        raise ValidationError("error.defect_needs_person")
    run = TestRun(
        project_id=project_id,
        release_id=int(
            c.release_of(session, data.release_id, project_id, "defects.field.release", required=True) or 0
        ),
        tester_id=actor.id,
        side=side,
        environment=validation.choice(data.environment, "defects.field.environment", ENVIRONMENTS),
        run_on=chk.a_date(data.run_on, "defects.field.run_on") or utcnow().date(),
        passed=chk.integer(data.passed, "defects.field.passed", low=0, high=1_000_000),
        failed=chk.integer(data.failed, "defects.field.failed", low=0, high=1_000_000),
        blocked=chk.integer(data.blocked, "defects.field.blocked", low=0, high=1_000_000),
        notes=validation.text(data.notes, "defects.field.notes", max_len=5000, required=False),
    )
    return writes.create(session=session, actor=actor, row=run, entity="test_run", project_id=project_id)


def defects_from_failed_cases(
    *, session: Session, actor: Actor, test_run_id: int, titles: list[str]
) -> list[Defect]:
    """One defect per failed case's title, found in the run's release on the run's environment;
    every title is checked before the first is filed, so a bad one files none."""
    require(actor, "defect.report")
    run = writes.get(session, TestRun, test_run_id, "test_run")
    clean = [validation.text(title, "defects.field.title", max_len=200) for title in titles]
    if not clean:
        raise ValidationError("error.no_titles", field="defects.field.failed_cases")
    return [
        report_defect(
            session=session,
            actor=actor,
            project_id=run.project_id,
            data=DefectCreate(title=title, found_in_release_id=run.release_id, environment=run.environment),
        )
        for title in clean
    ]


def business_processes(*, session: Session, project_id: int) -> list[str]:
    """The business processes named by the project's requirements (what acceptance is per)."""
    rows = session.exec(
        select(Requirement.business_process).where(Requirement.project_id == project_id).distinct()
    ).all()
    return sorted({str(p).strip() for p in rows if str(p or "").strip()})


def record_acceptance(
    *,
    session: Session,
    actor: Actor,
    project_id: int,
    data: AcceptanceCreate,
    expected_version: int | None = None,
) -> Acceptance:
    """The client-side tester's decision on one business process in one release, on real data.
    Recording the same process and release again updates the decision; the form passes the
    version it showed (none shown while one exists: someone recorded it meanwhile -> conflict)."""
    require(actor, "acceptance.record")
    if c.side_of(session, actor) != "client":
        raise PermissionDenied("error.acceptance_client_tester")
    chk.project(session, project_id)
    release_id = int(
        c.release_of(session, data.release_id, project_id, "defects.field.release", required=True) or 0
    )
    process = validation.text(data.business_process, "defects.field.business_process", max_len=120)
    if process not in business_processes(session=session, project_id=project_id):
        raise ValidationError(
            "error.acceptance_process", field="defects.field.business_process", value=process
        )
    decision = validation.choice(data.decision, "defects.field.decision", ACCEPTANCE_DECISIONS)
    remarks = validation.text(
        data.remarks, "defects.field.remarks", max_len=5000, required=decision != "accepted"
    )
    existing = session.exec(
        select(Acceptance).where(Acceptance.release_id == release_id, Acceptance.business_process == process)
    ).first()
    if existing is None:
        row = Acceptance(
            project_id=project_id,
            release_id=release_id,
            business_process=process,
            decision=decision,
            remarks=remarks,
            by_id=actor.id,
            at=utcnow(),
        )
        return writes.create(
            session=session, actor=actor, row=row, entity="acceptance", project_id=project_id
        )
    if expected_version is None:
        raise ConflictError()
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=existing,
        expected_version=expected_version,
        changes={"decision": decision, "remarks": remarks, "by_id": actor.id, "at": utcnow()},
        entity="acceptance",
        project_id=project_id,
    )
