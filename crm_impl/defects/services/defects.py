"""Filing and editing defects, comments, likely duplicates and saved filters (issue 9)."""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlmodel import Session, col, select

from crm_impl.core import saved_filters as saved
from crm_impl.core import validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.defects.models import (
    ENVIRONMENTS,
    PRIORITIES,
    REPRODUCIBILITY,
    SEVERITIES,
    Defect,
    DefectChange,
    DefectComment,
    DefectCreate,
    DefectUpdate,
    SavedFilter,
)
from crm_impl.defects.services import _common as c
from crm_impl.rollout.services import checks as chk

# The field of each editable value (its i18n key) and how long a text may be.
_TEXTS = {"title": 200, "steps": 10_000, "expected": 5000, "actual": 5000, "module": 80, "links": 4000}
_CHOICES: dict[str, tuple[str, ...]] = {
    "severity": SEVERITIES,
    "priority": PRIORITIES,
    "reproducibility": REPRODUCIBILITY,
    "environment": ENVIRONMENTS,
}
_RELEASES = {"found_in_release_id": "found_in_release", "target_release_id": "target_release"}
# What a saved filter may hold (the defect list's filters).
FILTER_KEYS = (
    "status",
    "severity",
    "priority",
    "module",
    "environment",
    "release",
    "found_in_release",
    "target_release",
    "fixed_in_release",
    "assignee",
    "reporter",
    "mine",
    "text",
    "sort",
)
DEFECT_FILTERS = saved.FilterPage("defects.list", "defect.read", FILTER_KEYS)


def clean_fields(session: Session, project_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Every given field of DefectCreate / DefectUpdate cleaned, or a ValidationError naming it."""
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        field = f"defects.field.{_RELEASES.get(name, name.removesuffix('_id'))}"
        if name in _TEXTS:
            cleaned[name] = validation.text(value, field, max_len=_TEXTS[name], required=name == "title")
        elif name in _CHOICES:
            cleaned[name] = validation.choice(value, field, _CHOICES[name])
        elif name in _RELEASES:
            cleaned[name] = c.release_of(session, value, project_id, field)
        elif name == "requirement_id":
            cleaned[name] = c.requirement_of(session, value, project_id, field)
        else:
            raise ValidationError("error.unknown_field", value=name)
    return cleaned


def report_defect(*, session: Session, actor: Actor, project_id: int, data: DefectCreate) -> Defect:
    """File a defect (status new, reported by the actor) and its first history entry."""
    require(actor, "defect.report")
    chk.project(session, project_id)
    values = clean_fields(session, project_id, data.model_dump())
    now = utcnow()
    defect = Defect(
        project_id=project_id, reporter_id=actor.id, status="new", created_at=now, updated_at=now, **values
    )
    writes.create(session=session, actor=actor, row=defect, entity="defect", project_id=project_id)
    session.add(DefectChange(defect_id=int(defect.id or 0), at=now, by_id=actor.id, to_status="new"))
    writes.flush(session)
    return defect


def update_defect(
    *, session: Session, actor: Actor, defect_id: int, expected_version: int | None, data: DefectUpdate
) -> Defect:
    """Edit a defect's fields (status, assignee and the fix release move by `transition`)."""
    require(actor, "defect.report")
    defect = writes.get(session, Defect, defect_id, "defect")
    writes.expect_version(defect.version, expected_version)
    values = clean_fields(session, defect.project_id, data.changes())
    if not values:
        return defect
    values["updated_at"] = utcnow()
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=defect,
        expected_version=expected_version,
        changes=values,
        entity="defect",
        project_id=defect.project_id,
    )


def add_comment(*, session: Session, actor: Actor, defect_id: int, body: str) -> DefectComment:
    require(actor, "defect.read")
    defect = writes.get(session, Defect, defect_id, "defect")
    comment = DefectComment(
        defect_id=int(defect.id or 0),
        by_id=actor.id,
        at=utcnow(),
        body=validation.text(body, "defects.field.comment", max_len=5000),
    )
    return writes.create(
        session=session, actor=actor, row=comment, entity="defect_comment", project_id=defect.project_id
    )


def similar_defects(
    *,
    session: Session,
    project_id: int,
    title: str,
    steps: str = "",
    limit: int = 5,
    cutoff: float = 60,
    exclude_id: int | None = None,
) -> list[tuple[int, str, int]]:
    """Likely duplicates of a defect being filed: (id, title, score 0-100), best first.

    rapidfuzz on the texts folded (lower case, Polish diacritics removed: "błąd" = "blad"):
    the title's score is the mean of the token-set and token-sort ratios (a title contained in a
    longer one scores high, but not 100); when both sides have steps, the steps' token-set
    ratio counts for a third. Defects already marked as duplicates are left out (their original
    is the better suggestion)."""
    query_title = c.fold(title).strip()
    if not query_title:
        return []
    found = session.exec(
        select(Defect.id, Defect.title, Defect.steps).where(
            Defect.project_id == project_id, col(Defect.status) != "duplicate"
        )
    ).all()
    rows = [(int(r[0] or 0), str(r[1]), str(r[2] or "")) for r in found if r[0] != exclude_id]
    if not rows:
        return []
    titles = [c.fold(r[1]) for r in rows]
    by_set = process.cdist(
        [query_title], titles, scorer=fuzz.token_set_ratio, processor=utils.default_process
    )[0]
    by_sort = process.cdist(
        [query_title], titles, scorer=fuzz.token_sort_ratio, processor=utils.default_process
    )[0]
    scores = [(float(a) + float(b)) / 2 for a, b in zip(by_set, by_sort, strict=True)]
    query_steps = c.fold(steps).strip()
    if query_steps:
        steps_scores = process.cdist(
            [query_steps],
            [c.fold(r[2]) for r in rows],
            scorer=fuzz.token_set_ratio,
            processor=utils.default_process,
        )[0]
        scores = [
            (2 * s + float(x)) / 3 if str(r[2] or "").strip() else s
            for s, x, r in zip(scores, steps_scores, rows, strict=True)
        ]
    ranked = sorted(
        ((int(r[0] or 0), str(r[1]), round(s)) for r, s in zip(rows, scores, strict=True) if s >= cutoff),
        key=lambda hit: (-hit[2], hit[0]),
    )
    return ranked[:limit]


def save_filter(
    *,
    session: Session,
    actor: Actor,
    name: str,
    criteria: dict[str, Any],
    expected_version: int | None = None,
) -> SavedFilter:
    """Save the actor's own named filter; saving the same name again updates it (the generic
    store of crm_impl.core.saved_filters, page "defects.list")."""
    require(actor, "defect.read")
    existing = saved.find_own(session=session, actor=actor, page=DEFECT_FILTERS, name=name)
    if existing is None:
        return saved.create_filter(
            session=session,
            actor=actor,
            page=DEFECT_FILTERS,
            data=saved.SavedFilterCreate(name=name, criteria=criteria),
        )
    return saved.update_filter(
        session=session,
        actor=actor,
        page=DEFECT_FILTERS,
        filter_id=int(existing.id or 0),
        expected_version=expected_version,
        data=saved.SavedFilterUpdate(criteria=criteria),
    )


def delete_filter(*, session: Session, actor: Actor, filter_id: int) -> None:
    saved.delete_filter(session=session, actor=actor, page=DEFECT_FILTERS, filter_id=filter_id)


def saved_filters(*, session: Session, actor: Actor) -> list[SavedFilter]:
    """The actor's own saved filters, by name."""
    return list(
        session.exec(
            select(SavedFilter)
            .where(SavedFilter.user_id == actor.id, SavedFilter.page_key == DEFECT_FILTERS.key)
            .order_by(col(SavedFilter.name))
        ).all()
    )
