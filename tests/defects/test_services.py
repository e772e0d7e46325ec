"""The defects services' rules beyond the matrix: bad input refused naming the field with
nothing written, a fix never closed without a retest, real-data sign-off, the release gate,
bulk change all-or-nothing, stale versions, failed cases -> defects, acceptance, duplicates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from crm_impl.core.errors import ConflictError, DomainError, PermissionDenied, ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.core.models import AuditEntry, UserAccount, utcnow
from crm_impl.defects import services
from crm_impl.defects.models import (
    Acceptance,
    AcceptanceCreate,
    Defect,
    DefectChange,
    DefectCreate,
    DefectTransition,
    DefectUpdate,
    Release,
    ReleaseCreate,
    ReleaseUpdate,
    TestRunCreate,
)
from tests.defects.fixtures import World


def _counts(session: Session) -> dict[str, int]:
    session.flush()
    return {
        t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
        for t in SQLModel.metadata.sorted_tables
        if t.name not in {"login_throttle", "data_version"}
    }


def _refused(session: Session, call, error=ValidationError, field: str | None = None) -> DomainError:  # type: ignore[no-untyped-def]
    before = _counts(session)
    with pytest.raises(error) as caught:
        call()
    assert _counts(session) == before
    if field is not None:
        assert caught.value.params.get("field") == field
    return caught.value


def _move(world: World, who: str, defect: Defect, to: str, **extra) -> Defect:  # type: ignore[no-untyped-def]
    return services.transition(
        session=world.session,
        actor=world[who],
        defect_id=int(defect.id or 0),
        expected_version=defect.version,
        data=DefectTransition(to_status=to, **extra),
    )


# ---- filing and editing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "  "}, "defects.field.title"),
        ({"title": "x" * 201}, "defects.field.title"),
        ({"title": "ok", "severity": "fatal"}, "defects.field.severity"),
        ({"title": "ok", "priority": "P9"}, "defects.field.priority"),
        ({"title": "ok", "environment": "production"}, "defects.field.environment"),
        ({"title": "ok", "reproducibility": "never"}, "defects.field.reproducibility"),
        ({"title": "ok", "found_in_release_id": "other"}, "defects.field.found_in_release"),
        ({"title": "ok", "target_release_id": 999_999}, "defects.field.target_release"),
    ],
)
def test_bad_defect_input_is_refused_naming_the_field(world: World, session: Session, values, field):  # type: ignore[no-untyped-def]
    if values.get("found_in_release_id") == "other":
        values = {**values, "found_in_release_id": world.other_release_id}
    err = _refused(
        session,
        lambda: services.report_defect(
            session=session, actor=world["tester"], project_id=world.project_id, data=DefectCreate(**values)
        ),
        field=field,
    )
    set_locale("pl")
    assert err.message() and "{" not in err.message()


def test_reporting_writes_the_defect_its_first_history_entry_and_an_audit_entry(
    world: World, session: Session
):
    defect = services.report_defect(
        session=session,
        actor=world["tester"],
        project_id=world.project_id,
        data=DefectCreate(
            title=" Invoice total wrong ", severity="critical", found_in_release_id=world.releases["1.0"]
        ),
    )
    assert (defect.title, defect.status, defect.reporter_id) == (
        "Invoice total wrong",
        "new",
        world["tester"].id,
    )
    history = session.exec(select(DefectChange).where(DefectChange.defect_id == defect.id)).all()
    assert [(h.from_status, h.to_status, h.by_id) for h in history] == [(None, "new", world["tester"].id)]
    audit = session.exec(select(AuditEntry).where(AuditEntry.entity == "defect")).all()
    assert [(a.action, a.entity_id) for a in audit] == [("create", str(defect.id))]
    _refused(
        session,
        lambda: services.report_defect(
            session=session,
            actor=world["programmer"],
            project_id=world.project_id,
            data=DefectCreate(title="x"),
        ),
        error=PermissionDenied,
    )


def test_update_is_version_checked_and_validated(world: World, session: Session):
    defect = world.defect_in("confirmed")
    version = defect.version
    services.update_defect(
        session=session,
        actor=world["pm"],
        defect_id=int(defect.id or 0),
        expected_version=version,
        data=DefectUpdate(severity="blocker", module="Invoicing"),
    )
    assert (defect.severity, defect.module, defect.version) == ("blocker", "Invoicing", version + 1)
    _refused(
        session,
        lambda: services.update_defect(
            session=session,
            actor=world["pm"],
            defect_id=int(defect.id or 0),
            expected_version=version,
            data=DefectUpdate(severity="minor"),
        ),
        error=ConflictError,
    )
    _refused(
        session,
        lambda: services.update_defect(
            session=session,
            actor=world["pm"],
            defect_id=int(defect.id or 0),
            expected_version=defect.version,
            data=DefectUpdate(target_release_id=world.other_release_id),
        ),
        field="defects.field.target_release",
    )


def test_a_stale_transition_is_refused(world: World, session: Session):
    defect = world.defect_in("new")
    stale = defect.version
    _move(world, "tester", defect, "confirmed")
    _refused(
        session,
        lambda: services.transition(
            session=session,
            actor=world["pm"],
            defect_id=int(defect.id or 0),
            expected_version=stale,
            data=DefectTransition(to_status="rejected", comment="no"),
        ),
        error=ConflictError,
    )


# ---- what the steps need ----------------------------------------------------------------------


def test_the_whole_way_with_history_audit_and_closed_at(world: World, session: Session):
    defect = services.report_defect(
        session=session,
        actor=world["tester"],
        project_id=world.project_id,
        data=DefectCreate(title="Login fails"),
    )
    _move(world, "tester", defect, "confirmed")
    _move(world, "pm", defect, "assigned", assignee_id=world["assignee"].id)
    _move(world, "assignee", defect, "in_progress")
    _move(world, "assignee", defect, "fixed", release_id=world.releases["1.1"], comment="null check")
    assert defect.fixed_in_release_id == world.releases["1.1"]
    _move(world, "tester", defect, "in_retest")
    _move(world, "tester", defect, "verified", release_id=world.releases["2.0"])
    assert defect.closed_at is None
    _move(world, "tester", defect, "closed")
    assert defect.closed_at is not None and defect.updated_at == defect.closed_at
    _move(world, "tester_client", defect, "reopened", comment="back on real data")
    assert (defect.closed_at, defect.fixed_in_release_id) == (None, None)
    history = session.exec(
        select(DefectChange).where(DefectChange.defect_id == defect.id).order_by(DefectChange.id)  # type: ignore[arg-type]
    ).all()
    assert [h.to_status for h in history] == [
        "new",
        "confirmed",
        "assigned",
        "in_progress",
        "fixed",
        "in_retest",
        "verified",
        "closed",
        "reopened",
    ]
    fixed = history[4]
    assert (fixed.by_id, fixed.release_id, fixed.comment) == (
        world["assignee"].id,
        world.releases["1.1"],
        "null check",
    )
    audits = session.exec(
        select(AuditEntry).where(AuditEntry.entity == "defect", AuditEntry.action == "transition")
    ).all()
    assert len(audits) == 8


def test_assign_only_to_an_active_programmer(world: World, session: Session):
    defect = world.defect_in("confirmed")
    for who in (None, world["tester"].id, 999_999):
        _refused(
            session,
            lambda who=who: _move(world, "pm", defect, "assigned", assignee_id=who),
            field="defects.field.assignee",
        )
    user = session.get(UserAccount, world["programmer"].id)
    assert user is not None
    user.is_active = False
    session.add(user)
    _refused(
        session,
        lambda: _move(world, "pm", defect, "assigned", assignee_id=world["programmer"].id),
        field="defects.field.assignee",
    )


def test_fixed_names_a_release_of_the_project(world: World, session: Session):
    defect = world.defect_in("in_progress")
    _refused(
        session, lambda: _move(world, "assignee", defect, "fixed"), field="defects.field.fixed_in_release"
    )
    _refused(
        session,
        lambda: _move(world, "assignee", defect, "fixed", release_id=world.other_release_id),
        field="defects.field.fixed_in_release",
    )
    err = _refused(
        session,
        lambda: _move(world, "programmer", defect, "fixed", release_id=world.releases["1.0"]),
        error=PermissionDenied,
    )
    assert "assigned" in err.message()


def test_verified_on_a_release_containing_the_fix_only(world: World, session: Session):
    defect = world.defect_in("in_retest", fixed_in_release_id=world.releases["1.1"])
    _refused(
        session,
        lambda: _move(world, "tester", defect, "verified", release_id=world.releases["1.0"]),
        field="defects.field.release",
    )
    _refused(session, lambda: _move(world, "tester", defect, "verified"), field="defects.field.release")
    _refused(
        session,
        lambda: _move(world, "tester_client", defect, "verified", release_id=world.releases["1.1"]),
        error=PermissionDenied,
    )
    _move(world, "tester", defect, "verified", release_id=world.releases["2.0"])
    assert defect.status == "verified"


def test_resolutions_need_a_comment_and_a_real_original(world: World, session: Session):
    defect = world.defect_in("new")
    other = world.defect_in("new", project_id=world.other_project_id)
    for to in ("rejected", "wont_fix", "duplicate"):
        _refused(session, lambda to=to: _move(world, "pm", defect, to), field="defects.field.resolution")
    for wrong in (None, defect.id, other.id, 999_999):
        _refused(
            session,
            lambda o=wrong: _move(world, "pm", defect, "duplicate", comment="same", duplicate_of_id=o),
            field="defects.field.duplicate_of",
        )
    original = world.defect_in("confirmed")
    _move(world, "pm", defect, "duplicate", comment="same as the other", duplicate_of_id=original.id)
    assert (defect.status, defect.resolution, defect.duplicate_of_id) == (
        "duplicate",
        "same as the other",
        original.id,
    )
    assert defect.closed_at is not None


def test_a_fix_is_never_closed_without_a_retest(world: World, session: Session):
    defect = world.defect_in("verified")
    # fixed again after the last verification (e.g. history moved in from another tracker)
    session.add(
        DefectChange(defect_id=int(defect.id or 0), at=utcnow() + timedelta(minutes=1), to_status="fixed")
    )
    err = _refused(session, lambda: _move(world, "tester", defect, "closed"))
    assert err.key == "error.defect_no_retest"
    fixed = world.defect_in("fixed")
    _refused(session, lambda: _move(world, "tester", fixed, "closed"))  # not a step at all


def test_real_data_needs_the_client_testers_signoff_before_closing(world: World, session: Session):
    defect = world.defect_in("verified", environment="real_data")
    assert (
        _refused(session, lambda: _move(world, "tester", defect, "closed")).key
        == "error.defect_needs_signoff"
    )

    def signoff(who: str):  # type: ignore[no-untyped-def]
        return services.client_signoff(
            session=session, actor=world[who], defect_id=int(defect.id or 0), expected_version=defect.version
        )

    for who in ("tester", "pm_client", "programmer"):
        _refused(session, lambda who=who: signoff(who), error=PermissionDenied)
    signoff("tester_client")
    assert defect.client_signoff_by_id == world["tester_client"].id
    _move(world, "tester", defect, "closed")
    assert defect.status == "closed"
    _move(world, "tester_client", defect, "reopened")
    assert (defect.client_signoff_by_id, defect.client_signoff_at) == (None, None)
    on_test_data = world.defect_in("verified")
    _refused(
        session,
        lambda: services.client_signoff(
            session=session,
            actor=world["tester_client"],
            defect_id=int(on_test_data.id or 0),
            expected_version=on_test_data.version,
        ),
    )


# ---- bulk change, comments, filters, duplicates ---------------------------------------------


def test_bulk_change_is_all_or_nothing_and_names_the_failing_defect(world: World, session: Session):
    good = [world.defect_in("confirmed"), world.defect_in("confirmed")]
    bad = world.defect_in("closed")
    ids = [int(d.id or 0) for d in (*good, bad)]
    session.commit()
    before = _counts(session)
    with pytest.raises(services.DefectFailed) as err:
        services.bulk_change(
            session=session,
            actor=world["pm"],
            defect_ids=ids,
            data=DefectTransition(to_status="assigned", assignee_id=world["assignee"].id),
        )
    assert err.value.params["id"] == bad.id and bad.title in err.value.message()
    session.rollback()  # what the caller's unit of work does
    assert _counts(session) == before
    assert {session.get(Defect, i).status for i in ids} == {"confirmed", "closed"}  # type: ignore[union-attr]
    assert (
        services.bulk_change(
            session=session,
            actor=world["pm"],
            defect_ids=ids[:2],
            data=DefectTransition(to_status="assigned", assignee_id=world["assignee"].id),
            expected_versions={d.id: d.version for d in good},  # type: ignore[misc]
        )
        == 2
    )
    assert (
        services.bulk_change(
            session=session, actor=world["pm"], defect_ids=ids, data=DefectUpdate(priority="P1")
        )
        == 3
    )
    assert {session.get(Defect, i).priority for i in ids} == {"P1"}  # type: ignore[union-attr]
    _refused(
        session,
        lambda: services.bulk_change(
            session=session, actor=world["tester"], defect_ids=ids, data=DefectUpdate(priority="P2")
        ),
        error=PermissionDenied,
    )


def test_comments_and_saved_filters(world: World, session: Session):
    defect = world.defect_in("new")
    comment = services.add_comment(
        session=session, actor=world["programmer"], defect_id=int(defect.id or 0), body=" Seen it "
    )
    assert comment.body == "Seen it"
    _refused(
        session,
        lambda: services.add_comment(
            session=session, actor=world["tester"], defect_id=int(defect.id or 0), body=" "
        ),
        field="defects.field.comment",
    )
    saved = services.save_filter(session=session, actor=world["tester"], name="Mine", criteria={"mine": True})
    again = services.save_filter(
        session=session,
        actor=world["tester"],
        name="Mine",
        criteria={"mine": True, "severity": ["blocker"]},
        expected_version=saved.version,
    )
    assert again.id == saved.id and again.criteria == {"mine": True, "severity": ["blocker"]}
    assert [f.name for f in services.saved_filters(session=session, actor=world["pm"])] == []
    _refused(
        session,
        lambda: services.save_filter(session=session, actor=world["tester"], name="X", criteria={"evil": 1}),
    )
    _refused(
        session,
        lambda: services.delete_filter(session=session, actor=world["pm"], filter_id=int(saved.id or 0)),
        error=PermissionDenied,
    )
    services.delete_filter(session=session, actor=world["tester"], filter_id=int(saved.id or 0))
    assert services.saved_filters(session=session, actor=world["tester"]) == []


def test_similar_defects_fold_polish_diacritics(world: World, session: Session):
    target = world.defect_in(
        "new", title="Błąd zapisu faktury korygującej", steps="Otwórz fakturę, zmień kwotę, zapisz"
    )
    world.defect_in("new", title="Raport sprzedaży pusty")
    world.defect_in("duplicate", title="Blad zapisu faktury korygujacej")
    hits = services.similar_defects(
        session=session,
        project_id=world.project_id,
        title="blad zapisu faktury korygujacej",
        steps="otworz fakture, zapisz",
    )
    assert [h[0] for h in hits] == [target.id]
    assert hits[0][2] >= 80
    assert services.similar_defects(session=session, project_id=world.project_id, title="  ") == []
    assert (
        services.similar_defects(
            session=session, project_id=world.other_project_id, title="Błąd zapisu faktury"
        )
        == []
    )


# ---- releases and the gate ------------------------------------------------------------------


def test_releases_are_validated_and_unique(world: World, session: Session):
    pm = world["pm"]
    release = services.create_release(
        session=session,
        actor=pm,
        project_id=world.project_id,
        data=ReleaseCreate(name="3.0", planned_date="2026-06-01"),  # type: ignore[arg-type]
    )
    assert (release.status, str(release.planned_date)) == ("planned", "2026-06-01")
    for data in (ReleaseCreate(name="1.0"), ReleaseCreate(name=" "), ReleaseCreate(name="x" * 41)):
        _refused(
            session,
            lambda d=data: services.create_release(
                session=session, actor=pm, project_id=world.project_id, data=d
            ),
        )
    _refused(
        session,
        lambda: services.create_release(
            session=session, actor=world["tester"], project_id=world.project_id, data=ReleaseCreate(name="4")
        ),
        error=PermissionDenied,
    )
    services.update_release(
        session=session,
        actor=pm,
        release_id=int(release.id or 0),
        expected_version=release.version,
        data=ReleaseUpdate(notes="big one"),
    )
    assert release.notes == "big one"
    _refused(
        session,
        lambda: services.set_release_status(
            session=session,
            actor=pm,
            release_id=int(release.id or 0),
            expected_version=release.version,
            status="gone",
        ),
        field="defects.field.release_status",
    )


def test_the_release_gate_names_exactly_the_blocking_defects(world: World, session: Session):
    r10, r11, r20 = (world.releases[n] for n in ("1.0", "1.1", "2.0"))
    blocker = world.defect_in("assigned", severity="blocker", target_release_id=r11)
    untargeted = world.defect_in("new", severity="critical")
    world.defect_in("new", severity="critical", target_release_id=r20)  # due later: does not block 1.1
    world.defect_in("new", severity="major", target_release_id=r11)  # not severe
    world.defect_in("closed", severity="blocker", target_release_id=r11)  # done
    world.defect_in("rejected", severity="blocker", target_release_id=r11)  # not a defect after all
    slipped = world.defect_in("confirmed", severity="blocker", target_release_id=r10)  # earlier, still open
    unverified = world.defect_in("in_retest", fixed_in_release_id=r11)
    unsigned = world.defect_in("verified", fixed_in_release_id=r11, environment="real_data")
    world.defect_in(
        "verified",
        fixed_in_release_id=r11,
        environment="real_data",
        client_signoff_by_id=world["tester_client"].id,
    )
    world.defect_in("in_retest", fixed_in_release_id=r10)  # fixed in another release
    reasons = services.release_gate(session=session, release_id=r11)
    assert [(r.kind, r.defect_id) for r in reasons] == [
        ("open_severe", blocker.id),
        ("open_severe", untargeted.id),
        ("open_severe", slipped.id),
        ("unverified_fix", unverified.id),
        ("missing_signoff", unsigned.id),
    ]
    release = session.get(Release, r11)
    assert release is not None
    version = release.version
    err = _refused(
        session,
        lambda: services.set_release_status(
            session=session, actor=world["pm"], release_id=r11, expected_version=version, status="ready"
        ),
        error=services.ReleaseBlocked,
    )
    message = err.message()
    for d in (blocker, untargeted, slipped, unverified, unsigned):
        assert f"#{d.id} “{d.title}”" in message
    assert err.params["defect_ids"] == [r.defect_id for r in reasons]
    set_locale("pl")
    assert "nie może jeszcze" in err.message() and f"#{blocker.id}" in err.message()
    set_locale("en")
    assert (release.status, release.version) == ("in_test", version)
    # the go-live gate does not stop other statuses
    services.set_release_status(
        session=session, actor=world["pm"], release_id=r11, expected_version=version, status="planned"
    )
    for d in (blocker, untargeted, slipped, unverified, unsigned):
        d.status = "closed"
        session.add(d)
    session.flush()
    assert services.release_gate(session=session, release_id=r11) == []
    services.set_release_status(
        session=session,
        actor=world["pm"],
        release_id=r11,
        expected_version=release.version,
        status="released",
    )
    assert release.status == "released" and release.released_on is not None


# ---- test runs and acceptance ---------------------------------------------------------------


def test_test_runs_take_the_testers_side_and_refuse_bad_counts(world: World, session: Session):
    run = services.record_test_run(
        session=session,
        actor=world["tester_client"],
        project_id=world.project_id,
        data=TestRunCreate(
            release_id=world.releases["1.1"], side="vendor", environment="real_data", passed=8, failed=2
        ),
    )
    assert (run.side, run.tester_id, run.passed, run.failed, run.blocked) == (
        "client",
        world["tester_client"].id,
        8,
        2,
        0,
    )
    for data, field in (
        (TestRunCreate(release_id=world.releases["1.1"], failed=-1), "defects.field.failed"),
        (TestRunCreate(release_id=world.releases["1.1"], blocked=-3), "defects.field.blocked"),
        (TestRunCreate(release_id=world.other_release_id), "defects.field.release"),
        (TestRunCreate(release_id=world.releases["1.1"], environment="prod"), "defects.field.environment"),
    ):
        _refused(
            session,
            lambda d=data: services.record_test_run(
                session=session, actor=world["tester"], project_id=world.project_id, data=d
            ),
            field=field,
        )


def test_failed_cases_become_defects_in_one_step(world: World, session: Session):
    run = services.record_test_run(
        session=session,
        actor=world["tester"],
        project_id=world.project_id,
        data=TestRunCreate(release_id=world.releases["1.1"], environment="real_data", passed=5, failed=2),
    )
    _refused(
        session,
        lambda: services.defects_from_failed_cases(
            session=session, actor=world["tester"], test_run_id=int(run.id or 0), titles=["Totals wrong", " "]
        ),
        field="defects.field.title",
    )
    _refused(
        session,
        lambda: services.defects_from_failed_cases(
            session=session, actor=world["tester"], test_run_id=int(run.id or 0), titles=[]
        ),
        field="defects.field.failed_cases",
    )
    made = services.defects_from_failed_cases(
        session=session,
        actor=world["tester"],
        test_run_id=int(run.id or 0),
        titles=["Totals wrong", "VAT rounding"],
    )
    assert [(d.title, d.found_in_release_id, d.environment, d.status) for d in made] == [
        ("Totals wrong", world.releases["1.1"], "real_data", "new"),
        ("VAT rounding", world.releases["1.1"], "real_data", "new"),
    ]


def test_acceptance_on_real_data_by_the_client_tester(world: World, session: Session):
    release = world.releases["1.1"]

    def record(who: str = "tester_client", version: int | None = None, **values):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = {
            "release_id": release,
            "business_process": "Invoicing",
            "decision": "accepted",
        }
        data |= values
        return services.record_acceptance(
            session=session,
            actor=world[who],
            project_id=world.project_id,
            data=AcceptanceCreate(**data),
            expected_version=version,
        )

    for who in ("tester", "pm_client"):
        _refused(session, lambda who=who: record(who), error=PermissionDenied)
    _refused(session, lambda: record(business_process="Payroll"), field="defects.field.business_process")
    _refused(session, lambda: record(decision="maybe"), field="defects.field.decision")
    _refused(session, lambda: record(release_id=world.other_release_id), field="defects.field.release")
    for decision in ("accepted_with_remarks", "rejected"):
        _refused(session, lambda d=decision: record(decision=d), field="defects.field.remarks")
    first = record()
    assert (first.decision, first.by_id) == ("accepted", world["tester_client"].id)
    _refused(
        session, lambda: record(decision="rejected", remarks="totals off"), error=ConflictError
    )  # no version: unseen
    again = record(version=first.version, decision="rejected", remarks="totals off")
    assert again.id == first.id and (again.decision, again.remarks) == ("rejected", "totals off")
    _refused(session, lambda: record(version=first.version - 1, decision="accepted"), error=ConflictError)
    assert len(session.exec(select(Acceptance)).all()) == 1
    other = record(business_process="Order to cash", decision="accepted_with_remarks", remarks="slow")
    assert other.id != first.id
