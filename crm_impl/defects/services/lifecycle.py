"""A defect's lifecycle (slide 9; Bugzilla's VERIFIED after RESOLVED): the transition matrix,
defined once as data, which `transition` enforces and `allowed_transitions` offers.

    new -> confirmed -> assigned -> in_progress -> fixed -> in_retest -> verified -> closed
    in_retest / verified / closed -> reopened -> assigned (PM) or in_progress (the programmer)
    new / confirmed / assigned / in_progress / reopened -> rejected / duplicate / wont_fix (PM)
    assigned / in_progress -> assigned: the PM reassigns

Who may move a defect is the permission action of the step plus, for some steps, who the actor
is: the programmer the defect is assigned to (in progress, fixed), a vendor-side tester
(verified). What the step needs is checked at the step: a programmer to assign to, the release
containing the fix, a retest release containing it, a resolution comment, the duplicated defect,
a retest record and (real data) the client tester's sign-off before closing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import DomainError, PermissionDenied, ValidationError, user_text
from crm_impl.core.models import UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.defects.models import (
    OPEN_STATUSES,
    RESOLVED_WITHOUT_FIX,
    STATUSES,
    Defect,
    DefectChange,
    DefectTransition,
    DefectUpdate,
)
from crm_impl.defects.services import _common as c
from crm_impl.defects.services.defects import update_defect
from crm_impl.rollout.services.checks import an_id

Who = Literal["any", "assignee", "vendor_tester"]


@dataclass(frozen=True)
class Rule:
    """What one step needs: the permission action, and who among its holders may take it."""

    action: str
    who: Who = "any"


_TRIAGE_FROM = ("new", "confirmed", "assigned", "in_progress", "reopened")

TRANSITIONS: dict[tuple[str, str], Rule] = {
    ("new", "confirmed"): Rule("defect.report"),
    ("confirmed", "assigned"): Rule("defect.assign"),
    ("assigned", "assigned"): Rule("defect.assign"),
    ("in_progress", "assigned"): Rule("defect.assign"),
    ("reopened", "assigned"): Rule("defect.assign"),
    ("assigned", "in_progress"): Rule("defect.fix", "assignee"),
    ("reopened", "in_progress"): Rule("defect.fix", "assignee"),
    ("in_progress", "fixed"): Rule("defect.fix", "assignee"),
    ("fixed", "in_retest"): Rule("defect.verify"),
    ("in_retest", "verified"): Rule("defect.verify", "vendor_tester"),
    ("verified", "closed"): Rule("defect.verify"),
    ("in_retest", "reopened"): Rule("defect.verify"),
    ("verified", "reopened"): Rule("defect.verify"),
    ("closed", "reopened"): Rule("defect.verify"),
    **{(s, to): Rule("defect.triage") for s in _TRIAGE_FROM for to in RESOLVED_WITHOUT_FIX},
}
ENDED = ("closed", *RESOLVED_WITHOUT_FIX)  # closed_at is set when a defect reaches one of these


def _who_refusal(session: Session, actor: Actor, defect: Defect, to: str, rule: Rule) -> DomainError | None:
    """Why this actor (who holds the step's action) may still not take it; None if they may."""
    if rule.who == "assignee" and (actor.id is None or actor.id != defect.assignee_id):
        return PermissionDenied("error.defect_not_assignee", to_status=c.status_label(to))
    if rule.who == "vendor_tester" and c.side_of(session, actor) != "vendor":
        return PermissionDenied("error.defect_vendor_tester")
    return None


def _rule_for(session: Session, actor: Actor, defect: Defect, to: str) -> Rule:
    rule = TRANSITIONS.get((defect.status, to))
    if rule is None:
        raise ValidationError(
            "error.defect_transition",
            field="defects.field.status",
            from_status=c.status_label(defect.status),
            to_status=c.status_label(to),
        )
    require(actor, rule.action)
    refusal = _who_refusal(session, actor, defect, to, rule)
    if refusal is not None:
        raise refusal
    return rule


def allowed_transitions(*, session: Session, actor: Actor, defect: Defect) -> list[str]:
    """The statuses this actor may move `defect` to now, in lifecycle order (what the page
    offers). What a step needs besides (a release, a comment, the sign-off) is checked when it
    is taken, with a message naming it."""
    allowed = []
    for to in STATUSES:
        rule = TRANSITIONS.get((defect.status, to))
        if rule and actor.can(rule.action) and _who_refusal(session, actor, defect, to, rule) is None:
            allowed.append(to)
    return allowed


def _programmer(session: Session, value: Any) -> int:
    field = "defects.field.assignee"
    user_id = an_id(value, field)
    if user_id is None:
        raise ValidationError("error.required", field=field)
    user = session.get(UserAccount, user_id)
    if user is None or not user.is_active or "programmer" not in (user.roles or []):
        raise ValidationError("error.defect_assignee", field=field)
    return user_id


def _retested_after_last_fix(session: Session, defect_id: int) -> bool:
    """A verified entry after the last fixed one (a fix is never closed without a retest)."""
    history = session.exec(
        select(DefectChange.to_status)
        .where(DefectChange.defect_id == defect_id)
        .order_by(col(DefectChange.at), col(DefectChange.id))
    ).all()
    last_fix = max((i for i, s in enumerate(history) if s == "fixed"), default=-1)
    return "verified" in history[last_fix + 1 :]


def _step_changes(
    session: Session, defect: Defect, to: str, data: DefectTransition
) -> tuple[dict[str, Any], int | None, str]:
    """The defect's field changes, the release of the history entry and its comment."""
    project_id = defect.project_id
    comment = validation.text(data.comment, "defects.field.comment", max_len=5000, required=False)
    changes: dict[str, Any] = {}
    release_id = None
    if to not in ("fixed", "verified"):  # those two name the release in their own field
        release_id = c.release_of(session, data.release_id, project_id, "defects.field.release")
    if to == "assigned":
        changes["assignee_id"] = _programmer(session, data.assignee_id)
    elif to == "fixed":
        release_id = c.release_of(
            session, data.release_id, project_id, "defects.field.fixed_in_release", required=True
        )
        changes["fixed_in_release_id"] = release_id
    elif to == "verified":
        release_id = c.release_of(
            session, data.release_id, project_id, "defects.field.release", required=True
        )
        fixed_in = defect.fixed_in_release_id
        if release_id is None or fixed_in is None or not c.same_or_later(session, release_id, fixed_in):
            raise ValidationError("error.defect_fix_not_in_release", field="defects.field.release")
    elif to == "closed":
        if not _retested_after_last_fix(session, int(defect.id or 0)):
            raise ValidationError("error.defect_no_retest")
        if defect.environment == "real_data" and defect.client_signoff_by_id is None:
            raise ValidationError("error.defect_needs_signoff")
    elif to == "reopened":
        # the fix did not hold: a new fix (and for real data a new sign-off) is needed
        changes |= {"fixed_in_release_id": None, "client_signoff_by_id": None, "client_signoff_at": None}
        changes |= {"resolution": ""}
    elif to in RESOLVED_WITHOUT_FIX:
        changes["resolution"] = validation.text(data.comment, "defects.field.resolution", max_len=5000)
        if to == "duplicate":
            original = c.defect_of(session, data.duplicate_of_id, project_id, "defects.field.duplicate_of")
            if original.id == defect.id:
                raise ValidationError("error.defect_duplicate_of", field="defects.field.duplicate_of")
            changes["duplicate_of_id"] = original.id
    return changes, release_id, comment


def transition(
    *, session: Session, actor: Actor, defect_id: int, expected_version: int | None, data: DefectTransition
) -> Defect:
    """Move a defect one step: history entry (who, when, from, to, comment, release), audit
    entry, updated_at and closed_at; refused with nothing written if the step is not allowed."""
    defect = writes.get(session, Defect, defect_id, "defect")
    writes.expect_version(defect.version, expected_version)
    to = validation.choice(data.to_status, "defects.field.status", STATUSES)
    _rule_for(session, actor, defect, to)
    changes, release_id, comment = _step_changes(session, defect, to, data)
    now = utcnow()
    from_status = defect.status
    changes |= {"status": to, "updated_at": now}
    if to in ENDED:
        changes["closed_at"] = now
    elif to in OPEN_STATUSES:
        changes["closed_at"] = None
    writes.update_versioned(
        session=session,
        actor=actor,
        row=defect,
        expected_version=expected_version,
        changes=changes,
        entity="defect",
        project_id=defect.project_id,
        action="transition",
    )
    session.add(
        DefectChange(
            defect_id=defect_id,
            at=now,
            by_id=actor.id,
            from_status=from_status,
            to_status=to,
            release_id=release_id,
            comment=comment or changes.get("resolution", ""),
        )
    )
    writes.flush(session)
    return defect


def client_signoff(*, session: Session, actor: Actor, defect_id: int, expected_version: int | None) -> Defect:
    """The client-side tester confirms on real data that a real-data defect's fix holds (needed
    before it closes and before its release is ready for go-live)."""
    require(actor, "defect.signoff")
    if c.side_of(session, actor) != "client":
        raise PermissionDenied("error.defect_client_tester")
    defect = writes.get(session, Defect, defect_id, "defect")
    writes.expect_version(defect.version, expected_version)
    if defect.environment != "real_data" or defect.status not in ("in_retest", "verified"):
        raise ValidationError("error.defect_signoff_state")
    now = utcnow()
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=defect,
        expected_version=expected_version,
        changes={"client_signoff_by_id": actor.id, "client_signoff_at": now, "updated_at": now},
        entity="defect",
        project_id=defect.project_id,
        action="signoff",
    )


class DefectFailed(DomainError):
    """A bulk change refused because of one defect: "Defect #12 “title”: <what is wrong>"."""

    key = "error.defect_failed"

    def __init__(self, defect_id: int, title: str, cause: DomainError) -> None:
        super().__init__("error.defect_failed", id=defect_id, title=title)
        self.cause = cause

    def message(self) -> str:
        from crm_impl.core.i18n import t

        title = user_text(self.params["title"])
        return t(self.key, id=self.params["id"], title=title, message=self.cause.message())


def bulk_change(
    *,
    session: Session,
    actor: Actor,
    defect_ids: Sequence[int],
    data: DefectUpdate | DefectTransition,
    expected_versions: dict[int, int] | None = None,
) -> int:
    """The same field change or transition for many defects (PMs), all in the caller's one
    transaction: the first defect that cannot take it stops the change, names itself
    (DefectFailed) and the caller's rollback leaves every defect as it was. `expected_versions`
    (id -> version the list was loaded with) refuses defects changed in between."""
    require(actor, "defect.triage")
    versions = expected_versions or {}
    done = 0
    for defect_id in dict.fromkeys(defect_ids):
        defect = writes.get(session, Defect, defect_id, "defect")
        try:
            if isinstance(data, DefectTransition):
                transition(
                    session=session,
                    actor=actor,
                    defect_id=defect_id,
                    expected_version=versions.get(defect_id),
                    data=data,
                )
            else:
                update_defect(
                    session=session,
                    actor=actor,
                    defect_id=defect_id,
                    expected_version=versions.get(defect_id),
                    data=data,
                )
        except DomainError as err:
            raise DefectFailed(defect_id, defect.title, err) from err
        done += 1
    return done
