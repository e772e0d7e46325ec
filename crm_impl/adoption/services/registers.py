"""The legacy tools and benefits registers (issue 11, slide 11): permission -> validation -> write
through crm_impl.core.writes (audited) -> nothing committed here.

Legacy tools: a name unique in the project, a kind (spreadsheet, paper, another program), the
people who still use it (replaced as a set, audited as a "users" entry of the tool), the date it
must be retired by and the date it was retired on (not in the future: a retirement is a fact).

Benefits: a name unique in the project, a unit, the direction of a gain, the baseline (and the
date it was measured); measurements are dated values (one per benefit and day). A benefit
demonstration meeting links the benefits it showed (`link_meeting_benefits`, called by the
training domain's meeting service inside its own transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, delete, select

from crm_impl.adoption.models import (
    BENEFIT_DIRECTIONS,
    BENEFIT_UNITS,
    LEGACY_KINDS,
    Benefit,
    BenefitCreate,
    BenefitMeasurement,
    BenefitUpdate,
    LegacyTool,
    LegacyToolCreate,
    LegacyToolUpdate,
    LegacyToolUser,
    MeasurementCreate,
    MeetingBenefit,
)
from crm_impl.adoption.queries import registers as queries
from crm_impl.core import audit, validation, writes
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.rollout.services import checks as chk

MANAGE = "adoption.manage"
BENEFIT_DEMO = "benefit_demo"  # the meeting kind that shows benefits (crm_impl.training)


def field(name: str) -> str:
    return f"adoption.field.{name}"


def _not_future(value: Any, name: str) -> Any:
    day = chk.a_date(value, field(name))
    if day is not None and day > utcnow().date():
        raise ValidationError("adoption.error.future_date", field=field(name))
    return day


def amount(value: Any, name: str) -> Decimal:
    """A baseline or measured value: a number as people type it (either decimal convention);
    negative values are allowed (a balance, a change), a blank is refused."""
    if chk.is_blank(value):
        raise ValidationError("error.required", field=field(name))
    number = validation.number(value, field(name))
    if abs(number) > validation.MAX_AMOUNT:
        raise ValidationError("error.too_large", field=field(name))
    return number.quantize(Decimal("0.01"))


TOOL_FIELDS = chk.Fields(
    LegacyToolUpdate,
    {
        "name": lambda v: validation.text(v, field("tool_name"), max_len=200),
        "kind": lambda v: validation.choice(v, field("kind"), LEGACY_KINDS),
        "notes": lambda v: validation.text(v, field("notes"), max_len=5000, required=False),
        "retire_by": lambda v: chk.a_date(v, field("retire_by")),
        "retired_on": lambda v: _not_future(v, "retired_on"),
        "user_ids": lambda v: v,  # checked against the project's people (below)
    },
)
BENEFIT_FIELDS = chk.Fields(
    BenefitUpdate,
    {
        "name": lambda v: validation.text(v, field("benefit_name"), max_len=200),
        "unit": lambda v: validation.choice(v, field("unit"), BENEFIT_UNITS),
        "direction": lambda v: validation.choice(v, field("direction"), BENEFIT_DIRECTIONS),
        "baseline": lambda v: amount(v, "baseline"),
        "baseline_on": lambda v: _not_future(v, "baseline_on"),
        "notes": lambda v: validation.text(v, field("notes"), max_len=5000, required=False),
    },
)
MEASUREMENT_CLEANERS = {
    "measured_on": lambda v: _not_future(chk.a_date(v, field("measured_on"), required=True), "measured_on"),
    "value": lambda v: amount(v, "value"),
    "note": lambda v: validation.text(v, field("note"), max_len=500, required=False),
}


# ---- legacy tools -----------------------------------------------------------------------------------


def _users(session: Session, project_id: int, value: Any) -> list[int]:
    """Person ids of the project's people, each once; anyone else is refused naming the field."""
    if chk.is_blank(value):
        return []
    items = value if isinstance(value, list | tuple | set) else [value]
    ids = list(dict.fromkeys(i for i in (chk.an_id(v, field("users")) for v in items) if i is not None))
    known = set(queries.project_people(session, project_id)["id"].astype(int))
    missing = [i for i in ids if i not in known]
    if missing:
        raise ValidationError("adoption.error.person_not_in_project", field=field("users"), value=missing[0])
    return ids


def tool_user_ids(*, session: Session, tool_id: int) -> list[int]:
    return list(
        session.exec(
            select(LegacyToolUser.person_id)
            .where(LegacyToolUser.tool_id == tool_id)
            .order_by(col(LegacyToolUser.person_id))
        ).all()
    )


def _set_users(
    session: Session, actor: Actor, tool: LegacyTool, people: list[int], before: list[int]
) -> None:
    tool_id = int(tool.id or 0)
    session.exec(delete(LegacyToolUser).where(col(LegacyToolUser.tool_id) == tool_id))
    session.add_all(LegacyToolUser(tool_id=tool_id, person_id=pid) for pid in people)
    writes.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="legacy_tool",
        entity_id=tool_id,
        action="users",
        before={"user_ids": before},
        after={"user_ids": sorted(people)},
        project_id=tool.project_id,
    )


def create_tool(*, session: Session, actor: Actor, project_id: int, data: LegacyToolCreate) -> LegacyTool:
    require(actor, MANAGE)
    chk.project(session, project_id)
    values = TOOL_FIELDS.clean(data.model_dump())
    people = _users(session, project_id, values.pop("user_ids"))
    chk.unique_name(
        session, LegacyTool, "name", values["name"], project_id=project_id, field=field("tool_name")
    )
    row = LegacyTool(project_id=project_id, **values)
    writes.create(session=session, actor=actor, row=row, entity="legacy_tool", project_id=project_id)
    if people:
        _set_users(session, actor, row, people, [])
    return row


def update_tool(
    *, session: Session, actor: Actor, tool_id: int, expected_version: int | None, data: LegacyToolUpdate
) -> LegacyTool:
    """Edit a tool (version-checked), its users included; retiring it is setting retired_on."""
    require(actor, MANAGE)
    row = writes.get(session, LegacyTool, tool_id, "legacy_tool")
    writes.expect_version(row.version, expected_version)
    values = TOOL_FIELDS.clean(data.changes())
    people = _users(session, row.project_id, values.pop("user_ids")) if "user_ids" in values else None
    if "name" in values:
        chk.unique_name(
            session,
            LegacyTool,
            "name",
            values["name"],
            project_id=row.project_id,
            field=field("tool_name"),
            exclude_id=tool_id,
        )
    before = tool_user_ids(session=session, tool_id=tool_id)
    changed_users = people is not None and sorted(people) != before
    if values or changed_users:  # updated_at always changes: the version moves on with the users too
        writes.update_versioned(
            session=session,
            actor=actor,
            row=row,
            expected_version=expected_version,
            changes={**values, "updated_at": utcnow()},
            entity="legacy_tool",
            project_id=row.project_id,
        )
    if changed_users and people is not None:
        _set_users(session, actor, row, people, before)
    return row


# ---- benefits -----------------------------------------------------------------------------------------


def create_benefit(*, session: Session, actor: Actor, project_id: int, data: BenefitCreate) -> Benefit:
    require(actor, MANAGE)
    chk.project(session, project_id)
    values = BENEFIT_FIELDS.clean(data.model_dump())
    chk.unique_name(
        session, Benefit, "name", values["name"], project_id=project_id, field=field("benefit_name")
    )
    row = Benefit(project_id=project_id, **values)
    return writes.create(session=session, actor=actor, row=row, entity="benefit", project_id=project_id)


def update_benefit(
    *, session: Session, actor: Actor, benefit_id: int, expected_version: int | None, data: BenefitUpdate
) -> Benefit:
    require(actor, MANAGE)
    row = writes.get(session, Benefit, benefit_id, "benefit")
    writes.expect_version(row.version, expected_version)
    values = BENEFIT_FIELDS.clean(data.changes())
    if "name" in values:
        chk.unique_name(
            session,
            Benefit,
            "name",
            values["name"],
            project_id=row.project_id,
            field=field("benefit_name"),
            exclude_id=benefit_id,
        )
    return writes.update_versioned(
        session=session,
        actor=actor,
        row=row,
        expected_version=expected_version,
        changes=values,
        entity="benefit",
        project_id=row.project_id,
    )


def add_measurement(
    *, session: Session, actor: Actor, benefit_id: int, data: MeasurementCreate
) -> BenefitMeasurement:
    """A dated value of a benefit; one per day (a second one the same day is refused)."""
    require(actor, MANAGE)
    benefit = writes.get(session, Benefit, benefit_id, "benefit")
    values = {name: clean(getattr(data, name)) for name, clean in MEASUREMENT_CLEANERS.items()}
    taken = session.exec(
        select(BenefitMeasurement.id).where(
            BenefitMeasurement.benefit_id == benefit_id,
            BenefitMeasurement.measured_on == values["measured_on"],
        )
    ).first()
    if taken is not None:
        raise ValidationError(
            "adoption.error.measured_twice",
            field=field("measured_on"),
            value=values["measured_on"].isoformat(),
        )
    row = BenefitMeasurement(benefit_id=benefit_id, **values)
    return writes.create(
        session=session, actor=actor, row=row, entity="benefit_measurement", project_id=benefit.project_id
    )


def delete_measurement(
    *, session: Session, actor: Actor, measurement_id: int, expected_version: int | None
) -> None:
    require(actor, MANAGE)
    row = writes.get(session, BenefitMeasurement, measurement_id, "benefit_measurement")
    benefit = writes.get(session, Benefit, row.benefit_id, "benefit")
    writes.expect_version(row.version, expected_version)
    writes.delete(
        session=session, actor=actor, row=row, entity="benefit_measurement", project_id=benefit.project_id
    )


# ---- the benefits a meeting showed ------------------------------------------------------------------


def check_meeting_benefits(
    *, session: Session, project_id: int, kind: str, benefit_ids: Sequence[Any]
) -> list[int]:
    """The benefit ids a meeting may link: benefits of the meeting's project, each once, and only
    on a benefit demonstration. Raises naming the field; writes nothing."""
    ids = list(
        dict.fromkeys(i for i in (chk.an_id(v, field("benefits")) for v in benefit_ids) if i is not None)
    )
    if not ids:
        return []
    if kind != BENEFIT_DEMO:
        raise ValidationError("adoption.error.benefits_need_demo", field=field("benefits"))
    known = set(
        session.exec(
            select(Benefit.id).where(Benefit.project_id == project_id, col(Benefit.id).in_(ids))
        ).all()
    )
    missing = [i for i in ids if i not in known]
    if missing:
        raise ValidationError("adoption.error.unknown_benefit", field=field("benefits"), value=missing[0])
    return ids


def link_meeting_benefits(
    *, session: Session, actor: Actor, meeting_id: int, project_id: int, benefit_ids: list[int]
) -> None:
    """Replace the benefits a meeting showed (already checked by `check_meeting_benefits`; the
    caller, the meeting service, has checked that the actor may edit the meeting). Audited as a
    "benefits" entry of the meeting when the set changed."""
    require(actor, "meeting.organise")
    before = queries.benefits_of_meeting(session, meeting_id)
    wanted = sorted(benefit_ids)
    if wanted == before:
        return
    session.exec(delete(MeetingBenefit).where(col(MeetingBenefit.meeting_id) == meeting_id))
    session.add_all(MeetingBenefit(meeting_id=meeting_id, benefit_id=bid) for bid in wanted)
    writes.flush(session)
    audit.record(
        session=session,
        actor=actor,
        entity="meeting",
        entity_id=meeting_id,
        action="benefits",
        before={"benefit_ids": before},
        after={"benefit_ids": wanted},
        project_id=project_id,
    )
