"""Usage logs of other systems (another CRM's audit export, a web server's access log): CSV/XLSX
import through the shared engine (`crm_impl.importers`), entity "usage".

Fields (the mapping's targets): `user`* (username or e-mail; matched case-insensitively to a
user account's username or e-mail, or a person's e-mail — an unknown user is a row error with a
suggestion), `timestamp`* (ISO 8601 with or without an offset, "2026-03-02 08:15", a web
server's "02/Mar/2026:08:15:00 +0100", or the day-first forms; a time without an offset is
local time, `CRM_IMPL_TIMEZONE`), `action`* (create, update, view, login, logout — the mapping's
value map turns the other system's words into these: `examples/mappings/usage-web-log.toml`),
`entity` (what was worked on, free text).

Only use is stored: create and update rows become `ActivityEvent`s; view, login and logout rows
are valid but counted apart and skipped (a sign-in alone is not use). Every event has a
fingerprint (SHA-256 of source, person, moment, action and entity) under a unique index: an
event already imported, or the same event twice in one file, is skipped, so importing the same
log twice adds nothing the second time.

Options (`[usage.options]`): `source` (the system's name, default "import"), `project` (project
name; default: the importing user's active project, else the only one).

A run needs `import.run` (engine) and `adoption.import`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from crm_impl.adoption.models import ActivityEvent, UsageImport
from crm_impl.adoption.services import usage as services
from crm_impl.adoption.vocabulary import IMPORT_ACTIONS, USE_ACTIONS
from crm_impl.core.config import local_tz
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Person, Project, UserAccount, utcnow
from crm_impl.importers.cleaning import DATE_FORMATS, Cleaned, FieldSpec
from crm_impl.importers.engine import Run, inspect_file, run_import
from crm_impl.importers.registry import EntitySpec, register

ENTITY = "usage"
DEFAULT_SOURCE = "import"
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("user", "ref", True, 254),
    FieldSpec("timestamp", "text", True, 64),
    FieldSpec("action", "text", True, 40),
    FieldSpec("entity", "text", False, 40),
)
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_CLF = "%d/%b/%Y:%H:%M:%S %z"  # a web server's common log format
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class Lookups:
    """Who is who (loaded once per run), the open log and the run's counts."""

    session: Session
    people: dict[str, int] = field(default_factory=dict)  # lower-case username or e-mail -> person
    names: list[str] = field(default_factory=list)
    no_person: set[str] = field(default_factory=set)  # accounts not linked to a person
    project_id: int | None = None
    source: str = ""
    batch_id: int | None = None
    duplicates: int = 0
    queued: bool = False
    fingerprints: set[str] = field(default_factory=set)  # new ones of this run (dry run too)


UsageRun = Run[Lookups]


def _lookups(session: Session) -> Lookups:
    lk = Lookups(session)
    for email, pid in session.execute(
        select(col(Person.email), col(Person.id)).where(col(Person.email).is_not(None))
    ).all():
        if email:
            lk.people.setdefault(str(email).strip().lower(), int(pid))
    for username, email, pid in session.execute(
        select(col(UserAccount.username), col(UserAccount.email), col(UserAccount.person_id))
    ).all():
        for key in (username, email):
            if not key:
                continue
            k = str(key).strip().lower()
            if pid is None:
                lk.no_person.add(k)
            else:
                lk.people[k] = int(pid)
        lk.names.append(str(username))
    lk.no_person -= set(lk.people)
    return lk


def _project(run: UsageRun) -> int:
    """The mapping's `project` (by name), else the importer's active project, else the only one."""
    lk, session = run.lookups, run.session
    if lk.project_id is not None:
        return lk.project_id
    name = str(run.option("project") or "")
    pid: int | None
    if name:
        pid = session.execute(select(col(Project.id)).where(col(Project.name) == name)).scalars().first()
        if pid is None:
            raise ValidationError("adoption.usage.error.project_named", project=name)
    else:
        user = session.get(UserAccount, run.actor.id) if run.actor.id is not None else None
        pid = user.active_project_id if user is not None else None
        if pid is None:
            ids = list(session.execute(select(col(Project.id)).limit(2)).scalars())
            if len(ids) != 1:
                raise ValidationError("adoption.usage.error.no_project")
            pid = ids[0]
    lk.project_id = int(pid)
    lk.source = services.check_source(str(run.option("source") or DEFAULT_SOURCE))
    return lk.project_id


def parse_times(text: pd.Series) -> pd.Series:
    """Moments as typed (see the module docstring) -> aware UTC timestamps, NaT where unreadable
    (or, without an offset, a local time that does not exist or is ambiguous on the clock change)."""
    filled = text.where(text != "", None)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    aware = filled.str.contains(_OFFSET, regex=True, na=False)
    if aware.any():
        iso = pd.to_datetime(filled[aware], format="ISO8601", utc=True, errors="coerce")
        out[aware] = iso.astype("datetime64[us, UTC]")
    missing = out.isna() & filled.notna()
    if missing.any():
        clf = pd.to_datetime(filled[missing], format=_CLF, utc=True, errors="coerce")
        out[missing] = clf.astype("datetime64[us, UTC]")
    naive = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for fmt in ("ISO8601", "%Y-%m-%d %H:%M", *DATE_FORMATS):
        missing = out.isna() & naive.isna() & filled.notna() & ~aware
        if not missing.any():
            break
        naive[missing] = pd.to_datetime(filled[missing], format=fmt, errors="coerce").astype("datetime64[us]")
    have = naive.notna()
    if have.any():
        local = naive[have].dt.tz_localize(local_tz(), ambiguous="NaT", nonexistent="NaT")
        out[have] = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return out


def fingerprint(
    source: str, person: pd.Series, at: pd.Series, action: pd.Series, entity: pd.Series
) -> pd.Series:
    """SHA-256 (hex) of one event's source, person, moment (UTC, ISO), action and entity."""
    keys = (
        source
        + "\x1f"
        + person.astype("int64").astype(str)
        + "\x1f"
        + at.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        + "\x1f"
        + action
        + "\x1f"
        + entity.str.lower()
    )
    return keys.map(lambda k: hashlib.sha256(k.encode("utf-8")).hexdigest())


def _known(session: Session, project_id: int, prints: list[str]) -> set[str]:
    """The fingerprints among `prints` already stored for the project (in slices of 1,000)."""
    found: set[str] = set()
    for i in range(0, len(prints), 1000):
        part = prints[i : i + 1000]
        found.update(
            session.execute(
                select(col(ActivityEvent.fingerprint)).where(
                    col(ActivityEvent.project_id) == project_id, col(ActivityEvent.fingerprint).in_(part)
                )
            ).scalars()
        )
    return found


def _events(run: UsageRun, c: Cleaned, write: bool) -> None:
    lk, sink = run.lookups, c.sink
    project_id = _project(run)
    index = sink.bad.index
    empty = pd.Series("", index=index, dtype=object)

    users = c.values["user"].str.lower()
    unlinked = users.isin(lk.no_person)
    sink.flag(unlinked, run.sources["user"], "adoption.usage.error.no_person", c.values["user"])
    known: dict[str, int] = dict(lk.people)
    known.update({k: -1 for k in lk.no_person})  # already flagged above, not "unknown"
    person = run.resolve(c, "user", known, lk.names, "user")

    raw_at = c.values["timestamp"]
    at = parse_times(raw_at)
    sink.flag(at.isna() & (raw_at != ""), run.sources["timestamp"], "adoption.usage.error.time_row", raw_at)
    future = at > pd.Timestamp(utcnow() + FUTURE_TOLERANCE)
    sink.flag(future.fillna(False), run.sources["timestamp"], "adoption.usage.error.future", raw_at)

    raw_action = c.values["action"]
    action = raw_action.str.strip().str.lower()
    sink.flag(
        ~action.isin(IMPORT_ACTIONS) & (raw_action != ""),
        run.sources["action"],
        "adoption.usage.error.action_row",
        raw_action,
        accepted=", ".join(IMPORT_ACTIONS),
    )
    entity = c.values.get("entity", empty)

    valid = ~sink.bad
    use = valid & action.isin(USE_ACTIONS)
    not_use = int((valid & ~use).sum())
    run.report.skipped += not_use
    if not_use:
        run.count("not_use", not_use)
    if not use.any():
        return
    prints = fingerprint(lk.source, person[use], at[use], action[use], entity[use])
    in_file = prints.duplicated() | prints.isin(lk.fingerprints)
    stored = ~in_file & prints.isin(_known(run.session, project_id, prints[~in_file].tolist()))
    dup = in_file | stored
    n_dup = int(dup.sum())
    if n_dup:
        lk.duplicates += n_dup
        run.report.skipped += n_dup
        for name, mask in (("already_imported", stored), ("repeated_in_file", in_file)):
            if mask.any():
                run.count(name, int(mask.sum()))
    new = prints[~dup]
    lk.fingerprints.update(new.tolist())
    n = len(new)
    run.report.created += n
    if not write:
        return
    if not lk.queued:  # the log's own row first, so its counts are there even when nothing is new
        lk.queued = True
        run.later(lambda _: _open(run), {})
    if n == 0:
        return
    rows = new.index
    payload = {
        "person_id": person[rows].astype("int64").tolist(),
        "at": [ts.to_pydatetime() for ts in at[rows]],
        "action": action[rows].tolist(),
        "entity": entity[rows].tolist(),
        "source": [lk.source] * n,
        "fingerprint": new.tolist(),
    }
    run.later(lambda cols: _add(run, cols), payload)


def _add(run: UsageRun, cols: dict[str, list[Any]]) -> None:
    lk = run.lookups
    batch = _batch(run)
    services.add_events(
        session=run.session, actor=run.actor, batch=batch, columns=cols, skipped_duplicates=lk.duplicates
    )


def _open(run: UsageRun) -> None:
    _batch(run)


def _batch(run: UsageRun) -> UsageImport:
    """The run's `UsageImport` row: created by the first queued write, then reused."""
    lk = run.lookups
    if lk.batch_id is None:
        row = services.start_import(
            session=run.session,
            actor=run.actor,
            project_id=_project(run),
            source=lk.source,
            file_name=str(run.option("file_name") or ""),
        )
        row.skipped_duplicates = lk.duplicates
        lk.batch_id = int(row.id or 0)
        run.audit["usage_import_id"] = lk.batch_id
        return row
    batch = run.session.get(UsageImport, lk.batch_id)
    assert batch is not None
    return batch


def import_log(
    *,
    session: Session,
    actor: Any,
    data: Any,
    source: str,
    mapping: Any = None,
    dry_run: bool = True,
    strict: bool = False,
    filename: str = "",
    project: str | None = None,
) -> Any:
    """One usage log through the engine, with `source` (and `project`) as the mapping's options."""
    from crm_impl.importers import mapping as mapping_mod

    base = mapping or mapping_mod.Mapping()
    em = base.for_entity(ENTITY)
    options = dict(em.options, source=source, file_name=Path(filename).name if filename else "")
    if project:
        options["project"] = project
    entities = dict(base.entities)
    entities[ENTITY] = mapping_mod.EntityMapping(
        columns=dict(em.columns), values=dict(em.values), options=options
    )
    return run_import(
        session=session,
        actor=actor,
        entity=ENTITY,
        data=data,
        mapping=mapping_mod.Mapping(options=dict(base.options), entities=entities),
        dry_run=dry_run,
        strict=strict,
        filename=filename,
    )


register(
    ENTITY,
    EntitySpec(
        fields=FIELDS, handler=_events, lookups=_lookups, permission=services.PERMISSION, deferred=True
    ),
)

__all__ = ["ENTITY", "FIELDS", "fingerprint", "import_log", "inspect_file", "parse_times", "run_import"]
