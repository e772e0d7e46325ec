"""Saved filters of every list page: a user's named set of filter values, stored per page
(`page_key`, e.g. "pipeline.deals", "defects.list"), optionally shared with everyone who may open
that page (others apply a shared filter; only its owner renames, changes or deletes it).

A domain describes its list once as a `FilterPage` (its key, the read action that opens it and
the names of its filters); the services below check that action, keep only those names and
refuse a bad name in the user's language. Applying a filter whose values went stale (an owner
or a stage that no longer exists) is the page's job: `keep_known` drops what is gone.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, or_
from sqlmodel import Field, Session, SQLModel, col, select

from crm_impl.core import validation, writes
from crm_impl.core.errors import NotFound, PermissionDenied, ValidationError
from crm_impl.core.models import Update, Versioned
from crm_impl.core.permissions import Actor, require

NAME_MAX = 80
CRITERIA_MAX = 20_000  # characters of JSON: a filter is a handful of values, not a data store
NAME_FIELD = "saved_filter.field.name"


class SavedFilter(Versioned, table=True):
    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "page_key", "name", name="uq_saved_filter_user_page_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    page_key: str = Field(max_length=60)
    name: str = Field(max_length=NAME_MAX)
    criteria: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    shared: bool = Field(default=False)


class SavedFilterCreate(SQLModel):
    name: str
    criteria: dict[str, Any]
    shared: bool = False


class SavedFilterUpdate(Update):
    name: str | None = None
    criteria: dict[str, Any] | None = None
    shared: bool | None = None


class SavedFilterPublic(SQLModel):
    id: int
    user_id: int
    page_key: str
    name: str
    criteria: dict[str, Any]
    shared: bool
    version: int
    mine: bool = True


@dataclass(frozen=True)
class FilterPage:
    """A list page whose filters can be saved: its key, the read action that opens it, and the
    names of its filter values (anything else in a saved filter is refused)."""

    key: str
    action: str
    fields: tuple[str, ...]


def _user(actor: Actor) -> int:
    if actor.id is None:
        raise ValidationError("error.no_user")
    return actor.id


def _name(session: Session, user_id: int, page: str, value: Any, current_id: int | None) -> str:
    name = validation.text(value, NAME_FIELD, max_len=NAME_MAX)
    clash = session.exec(
        select(SavedFilter.id).where(
            SavedFilter.user_id == user_id,
            SavedFilter.page_key == page,
            SavedFilter.name == name,
            SavedFilter.id != current_id,
        )
    ).first()
    if clash is not None:
        raise ValidationError("error.duplicate", field=NAME_FIELD, value=name)
    return name


def _criteria(page: FilterPage, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError("error.choice", field="saved_filter.field.criteria", value=type(value).__name__)
    unknown = set(value) - set(page.fields)
    if unknown:
        raise ValidationError("error.unknown_field", value=", ".join(sorted(map(str, unknown))))
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValidationError("saved_filter.error.values", field="saved_filter.field.criteria") from err
    if len(text) > CRITERIA_MAX:
        raise ValidationError("error.too_long", field="saved_filter.field.criteria", max=CRITERIA_MAX)
    loaded: dict[str, Any] = json.loads(text)  # exactly what the database will hand back
    return loaded


def _own(session: Session, actor: Actor, page: FilterPage, filter_id: int) -> SavedFilter:
    require(actor, page.action)
    row = writes.get(session, SavedFilter, filter_id, "saved_filter")
    if row.page_key != page.key:
        raise NotFound("error.not_found", entity="saved_filter", id=filter_id)
    if row.user_id != actor.id:
        raise PermissionDenied("saved_filter.error.not_own")
    return row


def list_filters(*, session: Session, actor: Actor, page: FilterPage) -> list[SavedFilterPublic]:
    """The actor's own filters of this page, then those others shared, each by name."""
    require(actor, page.action)
    rows = session.exec(
        select(SavedFilter)
        .where(
            SavedFilter.page_key == page.key,
            or_(col(SavedFilter.user_id) == actor.id, col(SavedFilter.shared)),
        )
        .order_by(col(SavedFilter.name), col(SavedFilter.id))
    ).all()
    out = [SavedFilterPublic.model_validate(r, update={"mine": r.user_id == actor.id}) for r in rows]
    return sorted(out, key=lambda f: not f.mine)  # stable: by name within each group


def create_filter(
    *, session: Session, actor: Actor, page: FilterPage, data: SavedFilterCreate
) -> SavedFilter:
    require(actor, page.action)
    user_id = _user(actor)
    row = SavedFilter(
        user_id=user_id,
        page_key=page.key,
        name=_name(session, user_id, page.key, data.name, None),
        criteria=_criteria(page, data.criteria),
        shared=bool(data.shared),
    )
    return writes.create(session=session, actor=actor, row=row, entity="saved_filter")


def update_filter(
    *,
    session: Session,
    actor: Actor,
    page: FilterPage,
    filter_id: int,
    expected_version: int | None,
    data: SavedFilterUpdate,
) -> SavedFilter:
    """Rename, change the values or share / unshare one's own filter."""
    row = _own(session, actor, page, filter_id)
    writes.expect_version(row.version, expected_version)
    changes: dict[str, Any] = {}
    given = data.changes()
    if "name" in given:
        changes["name"] = _name(session, row.user_id, page.key, given["name"], row.id)
    if "criteria" in given:
        changes["criteria"] = _criteria(page, given["criteria"])
    if "shared" in given:
        changes["shared"] = bool(given["shared"])
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=changes,
        entity="saved_filter",
    )


def delete_filter(
    *, session: Session, actor: Actor, page: FilterPage, filter_id: int, expected_version: int | None = None
) -> None:
    row = _own(session, actor, page, filter_id)
    writes.expect_version(row.version, expected_version)
    writes.delete(session=session, actor=actor, row=row, entity="saved_filter")


def find_own(*, session: Session, actor: Actor, page: FilterPage, name: str) -> SavedFilter | None:
    """The actor's own filter of this page with this (cleaned) name, if any."""
    return session.exec(
        select(SavedFilter).where(
            SavedFilter.user_id == actor.id,
            SavedFilter.page_key == page.key,
            SavedFilter.name == str(name or "").strip(),
        )
    ).first()


def keep_known(values: Any, known: Collection[Any]) -> list[Any]:
    """The values of a saved multi-choice filter that still exist (an owner deleted since, a
    stage removed): applied without them instead of failing. Anything but a list is nothing."""
    if not isinstance(values, list):
        return []
    return [v for v in values if not isinstance(v, list | dict) and v in known]
