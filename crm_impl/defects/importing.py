"""Moving in from another tracker: CSV/XLSX import of defects through the shared engine
(`crm_impl.importers`), and the CSV/XLSX export frame.

The engine reads, maps and cleans; the handler here turns a tracker's vocabulary into ours
(after the mapping's value maps: `examples/mappings/bugzilla.toml`, `examples/mappings/jira.toml`),
resolves users and releases, and queues each valid row whole (the engine writes after the whole
file is checked): the defect with the status it has
in the old tracker, plus one history entry (`DefectChange` from nothing to that status, comment
"imported: <tracker> <key>") dated when the old tracker last changed it.

Fields (the mapping's targets): `external_ref` (the old tracker's key; a defect imported before
under the same key is skipped, never duplicated), `title`*, `status`*, `resolution` (a resolution
that means "not fixed" — rejected, duplicate, wont_fix — decides the status; "fixed" or empty
keeps it), `severity`, `priority`, `module`, `environment`, `labels` (a label listed in option
`real_data_labels` means found on real data), `found_in`, `target`, `fixed_in` (release names:
matched by name, else created through the release service; a fixed / retested / verified /
closed row without `fixed_in` takes its `target`), `assignee`, `reporter` (matched by username,
display name or e-mail), `steps`, `expected`, `actual`, `links`, `issue_type` (option
`issue_types` lists the types that are defects), `created`, `changed`, `resolved`.

Options (`[defects.options]`): `tracker` (its name in the history comment and in `links`),
`project` (project name; default: the importing user's active project, else the only one),
`unknown_users = "reject" | "empty"`, `issue_types`, `real_data_labels`.

A run needs `import.run` (engine) and `release.manage` (it may create releases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, insert
from sqlmodel import Session, col, select

from crm_impl.core.config import local_tz
from crm_impl.core.errors import ValidationError
from crm_impl.core.models import Project, UserAccount, utcnow
from crm_impl.core.permissions import Actor, require
from crm_impl.defects.models import (
    ENVIRONMENTS,
    PRIORITIES,
    RESOLVED_WITHOUT_FIX,
    SEVERITIES,
    STATUSES,
    Defect,
    DefectChange,
    Release,
    ReleaseCreate,
)
from crm_impl.importers.cleaning import Cleaned, FieldSpec
from crm_impl.importers.engine import Run, insert_with_ids, inspect_file, run_import
from crm_impl.importers.registry import EntitySpec, register

ENTITY = "defects"
PERMISSION = "release.manage"
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_ref", "text", False, 64),
    FieldSpec("title", "text", True, 200),
    FieldSpec("status", "ref", True, 40),
    FieldSpec("resolution", "ref", False, 40),
    FieldSpec("severity", "ref", False, 40),
    FieldSpec("priority", "ref", False, 40),
    FieldSpec("module", "text", False, 80),
    FieldSpec("environment", "ref", False, 40),
    FieldSpec("labels", "text", False, 400),
    FieldSpec("found_in", "ref", False, 40),
    FieldSpec("target", "ref", False, 40),
    FieldSpec("fixed_in", "ref", False, 40),
    FieldSpec("assignee", "ref", False, 254),
    FieldSpec("reporter", "ref", False, 254),
    FieldSpec("steps", "text", False, 10_000),
    FieldSpec("expected", "text", False, 10_000),
    FieldSpec("actual", "text", False, 10_000),
    FieldSpec("links", "text", False, 2_000),
    FieldSpec("issue_type", "text", False, 40),
    FieldSpec("created", "date"),
    FieldSpec("changed", "date"),
    FieldSpec("resolved", "date"),
)
# statuses whose fix is in a release: without an explicit fixed-in, the target release has it
FIX_STATUSES = ("fixed", "in_retest", "verified", "closed")
TERMINAL = ("closed", *RESOLVED_WITHOUT_FIX)
RESOLUTIONS = ("fixed", *RESOLVED_WITHOUT_FIX)
IMPORTED = "imported"  # the history comment's prefix


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass
class Lookups:
    """Known users and releases, loaded once per run, keyed case-insensitively."""

    session: Session
    users: dict[str, int] = field(default_factory=dict)
    user_names: list[str] = field(default_factory=list)
    project_id: int | None = None
    releases: dict[str, int] = field(default_factory=dict)
    imported: set[str] = field(default_factory=set)  # "<tracker> <key>" already imported

    def __post_init__(self) -> None:
        rows = self.session.execute(
            select(
                col(UserAccount.id),
                col(UserAccount.username),
                col(UserAccount.display_name),
                col(UserAccount.email),
            )
        ).all()
        for uid, username, display, email in rows:
            for name in (username, display, email):
                if name:
                    self.users.setdefault(str(name).lower(), int(uid))
            self.user_names.append(display or username)

    def load_project(self, project_id: int) -> None:
        self.project_id = project_id
        for rid, name in self.session.execute(
            select(col(Release.id), col(Release.name)).where(col(Release.project_id) == project_id)
        ).all():
            self.releases[str(name).lower()] = int(rid)
        for links in self.session.execute(
            select(col(Defect.links)).where(col(Defect.project_id) == project_id, col(Defect.links) != "")
        ).scalars():
            self.imported.add(str(links).splitlines()[0].lower())


DefectRun = Run[Lookups]


def _project(run: DefectRun) -> int:
    """The mapping's `project` (by name), else the importer's active project, else the only one."""
    lk = run.lookups
    if lk.project_id is not None:
        return lk.project_id
    name = str(run.option("project") or "")
    session = run.session
    pid: int | None = None
    if name:
        pid = session.execute(select(col(Project.id)).where(col(Project.name) == name)).scalars().first()
        if pid is None:
            raise ValidationError("defects.import.error.project", project=name)
    else:
        user = session.get(UserAccount, run.actor.id) if run.actor.id is not None else None
        pid = user.active_project_id if user is not None else None
        if pid is None:
            ids = list(session.execute(select(col(Project.id)).limit(2)).scalars())
            if len(ids) != 1:
                raise ValidationError("defects.import.error.no_project")
            pid = ids[0]
    if pid is None:  # pragma: no cover - handled above
        raise ValidationError("defects.import.error.no_project")
    lk.load_project(int(pid))
    return int(pid)


def _vocabulary(run: DefectRun, c: Cleaned, name: str, allowed: tuple[str, ...], default: str) -> pd.Series:
    """Values mapped onto ours; anything else is a row error with the closest value of ours or
    of the mapping's source values as suggestion."""
    index = c.sink.bad.index
    values = c.values.get(name)
    if values is None:
        return pd.Series(default, index=index, dtype=object)
    known = {v.lower(): v for v in allowed}
    choices = list(run.mapping.for_entity(run.entity).values.get(name, {})) + list(allowed)
    mapped = run.resolve(c, name, known, choices, name)
    return mapped.where(values != "", default).fillna(default)


def _users(run: DefectRun, c: Cleaned, name: str) -> pd.Series:
    lenient = str(run.option("unknown_users") or "reject") == "empty"
    ids = run.resolve(c, name, run.lookups.users, run.lookups.user_names, "user", allow_unknown=lenient)
    return ids


def _words(values: pd.Series) -> pd.Series:
    return values.str.lower().str.split(r"[\s,;]+", regex=True)


def _utc(parsed: pd.Series) -> list[datetime | None]:
    """A date without time -> 12:00 UTC that day; with a time -> that local time, in UTC."""
    out: list[datetime | None] = []
    tz = local_tz()
    for value in parsed.tolist():
        if value is None or pd.isna(value):
            out.append(None)
            continue
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize():
            out.append((stamp + pd.Timedelta(hours=12)).tz_localize("UTC").to_pydatetime())
        else:
            out.append(
                stamp.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
                .tz_convert("UTC")
                .to_pydatetime()
            )
    return out


def _defects(run: DefectRun, c: Cleaned, write: bool) -> None:
    lk, sink = run.lookups, c.sink
    project_id = _project(run)
    index = sink.bad.index
    empty = pd.Series("", index=index, dtype=object)
    text = {
        f: c.values.get(f, empty)
        for f in ("title", "module", "labels", "steps", "expected", "actual", "links")
    }

    status = _vocabulary(run, c, "status", STATUSES, "new")
    resolution = _vocabulary(run, c, "resolution", RESOLUTIONS, "")
    priority = _vocabulary(run, c, "priority", PRIORITIES, "P3")
    severity = _vocabulary(run, c, "severity", SEVERITIES, "major")
    environment = _vocabulary(run, c, "environment", ENVIRONMENTS, "test_data")
    real_labels = {str(v).lower() for v in run.option("real_data_labels") or []}
    if real_labels and "labels" in c.values:
        labelled = _words(text["labels"]).map(lambda words: bool(real_labels & set(words)))
        environment = environment.mask(labelled.astype(bool), "real_data")
    # a "not fixed" resolution decides the status whatever the old status said (RESOLVED, Done…)
    not_fixed = resolution.isin(RESOLVED_WITHOUT_FIX)
    status = status.mask(not_fixed, resolution)

    types = [str(v).lower() for v in run.option("issue_types") or []]
    if types and "issue_type" in c.values:
        kind = c.values["issue_type"]
        sink.flag(
            (kind != "") & ~kind.str.lower().isin(types),
            run.sources["issue_type"],
            "defects.import.error.issue_type",
            kind,
            types=", ".join(str(v) for v in run.option("issue_types")),
        )

    assignee = _users(run, c, "assignee")
    reporter = _users(run, c, "reporter")
    releases = {f: c.values.get(f, empty) for f in ("found_in", "target", "fixed_in")}
    fixed_in = releases["fixed_in"].where(
        releases["fixed_in"] != "", releases["target"].where(status.isin(FIX_STATUSES), "")
    )
    releases["fixed_in"] = fixed_in

    tracker = str(run.option("tracker") or "").strip()
    ref = c.values.get("external_ref", empty)
    key = (tracker + " " + ref).str.strip().where(ref != "", "")
    if "external_ref" in run.sources:
        run.duplicates(c, ref.str.lower(), run.sources["external_ref"])
    valid = ~sink.bad
    exists = key.str.lower().isin(lk.imported) & (key != "")
    run.report.skipped += int((valid & exists).sum())
    todo = valid & ~exists
    n = int(todo.sum())
    run.report.created += n
    if n == 0:
        return

    # releases named in the rows to write: matched by name, else created when writing (counted
    # once here; -1 until then)
    named: list[str] = []
    for names in releases.values():
        named += [v for v in names[todo].unique().tolist() if v and v.lower() not in lk.releases]
    new_releases: list[str] = []
    for name in dict.fromkeys(named):
        if name.lower() in lk.releases:
            continue
        run.count("releases_created")
        lk.releases[name.lower()] = -1
        new_releases.append(name)
    for k in key[todo].tolist():  # a key is counted once, in a dry run too
        if k:
            lk.imported.add(k.lower())
    if not write:
        return
    if new_releases:
        run.later(lambda names: _write_releases(run, project_id, names), new_releases)

    now = utcnow()
    created = _utc(c.values["created"][todo]) if "created" in c.values else [None] * n
    changed = _utc(c.values["changed"][todo]) if "changed" in c.values else [None] * n
    resolved = _utc(c.values["resolved"][todo]) if "resolved" in c.values else [None] * n
    names_of = {f: s[todo].tolist() for f, s in releases.items()}  # ids only when writing
    ints = lambda s: [None if pd.isna(v) else int(v) for v in s[todo].tolist()]  # noqa: E731
    assignees, reporters = ints(assignee), ints(reporter)
    statuses, keys = status[todo].tolist(), key[todo].tolist()
    resolutions = resolution[todo].tolist()
    rows: list[dict[str, Any]] = []
    history_at: list[datetime] = []
    for i in range(n):
        opened = created[i] or now
        last = max(d for d in (opened, changed[i], resolved[i]) if d is not None)
        links = text["links"][todo].iloc[i]
        if keys[i]:
            links = keys[i] + ("\n" + links if links else "")
        st = statuses[i]
        rows.append(
            {
                "version": 1,
                "project_id": project_id,
                "title": text["title"][todo].iloc[i],
                "steps": text["steps"][todo].iloc[i],
                "expected": text["expected"][todo].iloc[i],
                "actual": text["actual"][todo].iloc[i],
                "severity": severity[todo].iloc[i],
                "priority": priority[todo].iloc[i],
                "module": text["module"][todo].iloc[i],
                "reproducibility": "always",
                "environment": environment[todo].iloc[i],
                "found_in_release_id": names_of["found_in"][i],
                "target_release_id": names_of["target"][i],
                "fixed_in_release_id": names_of["fixed_in"][i] if st in FIX_STATUSES else "",
                "reporter_id": reporters[i],
                "assignee_id": assignees[i],
                "requirement_id": None,
                "duplicate_of_id": None,
                "links": links,
                "status": st,
                "resolution": resolutions[i] if st in RESOLVED_WITHOUT_FIX else "",
                "client_signoff_by_id": None,
                "client_signoff_at": None,
                "created_at": opened,
                "updated_at": last,
                "closed_at": (resolved[i] or last) if st in TERMINAL else None,
            }
        )
        history_at.append(last)
    run.later(lambda p: _write_defects(run, *p), (rows, history_at, keys))


def _write_releases(run: DefectRun, project_id: int, names: list[str]) -> None:
    from crm_impl.defects import services  # the service owns releases (validation, audit)

    for name in names:
        release = services.create_release(
            session=run.session, actor=run.actor, project_id=project_id, data=ReleaseCreate(name=name)
        )
        run.lookups.releases[name.lower()] = int(release.id or 0)
        run.audit.setdefault("releases", []).append(name)


def _write_defects(
    run: DefectRun, rows: list[dict[str, Any]], history_at: list[datetime], keys: list[str]
) -> None:
    """One chunk of checked defects and their first history entries, by executemany; the
    release names become the ids of releases found or created in this run."""
    releases = run.lookups.releases
    for row in rows:
        for f in ("found_in_release_id", "target_release_id", "fixed_in_release_id"):
            row[f] = releases.get(row[f].lower()) if row[f] else None
    conn = run.session.connection()
    ids = insert_with_ids(conn, _table(Defect), rows)
    changes = [
        {
            "defect_id": defect_id,
            "at": at,
            "by_id": run.actor.id,
            "from_status": None,
            "to_status": row["status"],
            "release_id": row["fixed_in_release_id"],
            "comment": f"{IMPORTED}: {k}" if k else IMPORTED,
        }
        for defect_id, at, row, k in zip(ids, history_at, rows, keys, strict=True)
    ]
    conn.execute(insert(_table(DefectChange)), changes)
    run.count("history_entries", len(changes))


def _lookups(session: Session) -> Lookups:
    return Lookups(session)


register(
    ENTITY,
    EntitySpec(fields=FIELDS, handler=_defects, lookups=_lookups, permission=PERMISSION, deferred=True),
)


# ---- export -----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "external_ref",
    "title",
    "status",
    "resolution",
    "severity",
    "priority",
    "module",
    "environment",
    "found_in",
    "target",
    "fixed_in",
    "reporter",
    "assignee",
    "created",
    "changed",
    "resolved",
    "steps",
    "expected",
    "actual",
    "links",
)


def export_frame(*, session: Session, actor: Actor, project_id: int) -> pd.DataFrame:
    """Every defect of the project, one row each, with the import's field names as columns (so
    an export imports again without a mapping: `external_ref` is "crm-impl <id>")."""
    require(actor, "defect.read")
    names = {
        int(rid): str(name)
        for rid, name in session.execute(
            select(col(Release.id), col(Release.name)).where(col(Release.project_id) == project_id)
        ).all()
    }
    people = {
        int(uid): str(uname)
        for uid, uname in session.execute(select(col(UserAccount.id), col(UserAccount.username))).all()
    }
    defects = session.exec(
        select(Defect).where(col(Defect.project_id) == project_id).order_by(col(Defect.id))
    ).all()

    def name(mapping: dict[int, str], key: int | None) -> str:
        return mapping.get(key, "") if key is not None else ""

    rows = [
        {
            "external_ref": f"crm-impl {d.id}",
            "title": d.title,
            "status": d.status,
            "resolution": d.resolution,
            "severity": d.severity,
            "priority": d.priority,
            "module": d.module,
            "environment": d.environment,
            "found_in": name(names, d.found_in_release_id),
            "target": name(names, d.target_release_id),
            "fixed_in": name(names, d.fixed_in_release_id),
            "reporter": name(people, d.reporter_id),
            "assignee": name(people, d.assignee_id),
            "created": _naive(d.created_at),
            "changed": _naive(d.updated_at),
            "resolved": _naive(d.closed_at),
            "steps": d.steps,
            "expected": d.expected,
            "actual": d.actual,
            "links": d.links,
        }
        for d in defects
    ]
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def _naive(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(local_tz()).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


__all__ = ["ENTITY", "FIELDS", "Lookups", "export_frame", "inspect_file", "run_import"]
