"""Checks shared by the defects services: the acting user's person and side, references that
must belong to the project, release order, labels in both languages for error messages."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from sqlmodel import Session

from crm_impl.core import writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import LANGUAGES, catalogue
from crm_impl.core.models import Person, UserAccount
from crm_impl.core.permissions import Actor
from crm_impl.defects.models import Defect, Release
from crm_impl.rollout.models import Requirement
from crm_impl.rollout.services.checks import an_id


def both(key: str) -> dict[str, str]:
    """A label in every language, so a DomainError shows it in the reader's language."""
    return {lang: catalogue(lang).get(key, key) for lang in LANGUAGES}


def status_label(status: str) -> dict[str, str]:
    return both(f"defects.status.{status}")


def person_of(session: Session, actor: Actor) -> Person | None:
    """The person linked to the acting user's account, if any."""
    if actor.id is None:
        return None
    user = session.get(UserAccount, actor.id)
    return session.get(Person, user.person_id) if user and user.person_id else None


def side_of(session: Session, actor: Actor) -> str | None:
    """ "vendor" or "client" from the actor's Person; None when the account has no person."""
    person = person_of(session, actor)
    return person.side if person is not None else None


def release_of(
    session: Session, value: Any, project_id: int, field: str, *, required: bool = False
) -> int | None:
    """A release id of this project (blank -> None unless required)."""
    release_id = an_id(value, field)
    if release_id is None:
        if required:
            raise ValidationError("error.required", field=field)
        return None
    release = session.get(Release, release_id)
    if release is None or release.project_id != project_id:
        raise ValidationError("error.defect_other_project", field=field, value=release_id)
    return release_id


def requirement_of(session: Session, value: Any, project_id: int, field: str) -> int | None:
    requirement_id = an_id(value, field)
    if requirement_id is None:
        return None
    requirement = session.get(Requirement, requirement_id)
    if requirement is None or requirement.project_id != project_id:
        raise ValidationError("error.defect_other_project", field=field, value=requirement_id)
    return requirement_id


def defect_of(session: Session, value: Any, project_id: int, field: str) -> Defect:
    defect_id = an_id(value, field)
    if defect_id is None:
        raise ValidationError("error.required", field=field)
    defect = session.get(Defect, defect_id)
    if defect is None or defect.project_id != project_id:
        raise ValidationError("error.defect_other_project", field=field, value=defect_id)
    return defect


def release_date(release: Release) -> date | None:
    """When a release reaches users: released on, else planned."""
    return release.released_on or release.planned_date


def same_or_later(session: Session, release_id: int, than_id: int) -> bool:
    """Whether release `release_id` is `than_id` or comes after it by date (released on, else
    planned). Two different releases with a date missing have no known order: not later."""
    if release_id == than_id:
        return True
    release = writes.get(session, Release, release_id, "release")
    than = writes.get(session, Release, than_id, "release")
    ours, theirs = release_date(release), release_date(than)
    return ours is not None and theirs is not None and ours >= theirs


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ß": "ss"})


def fold(text: str) -> str:
    """Lower-case text with diacritics removed: "Zażółć gęślą jaźń" -> "zazolc gesla jazn"."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
