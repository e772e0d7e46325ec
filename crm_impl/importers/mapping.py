"""Mapping files: which source column feeds which field, how source values translate, and how
the file is read. Stored as TOML (see docs/imports.md and examples/mappings/maven-crm.toml).

    [options]                     # for every entity of this file
    date_format = "%d-%m-%Y"      # or "auto" (ISO first, then day-first forms)
    decimal = "auto"              # "," or "." or "auto"
    null_values = ["", "null"]

    [deals.columns]               # field = "source column"
    external_ref = "opportunity_id"
    stage = "deal_stage"

    [deals.values.stage]          # source value = value to use
    Won = "completed"

    [deals.options]               # entity-specific options (override [options])
    first_stage = "contact_made"
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_impl.core.errors import ValidationError
from crm_impl.importers.registry import entities

DEFAULT_OPTIONS: dict[str, Any] = {
    "encoding": "auto",
    "delimiter": "auto",
    "decimal": "auto",
    "date_format": "auto",
    "null_values": ["", "null", "NULL", "None", "n/a", "N/A", "#N/A"],
    "sheet": "",
}


@dataclass
class EntityMapping:
    columns: dict[str, str] = field(default_factory=dict)  # target field -> source column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {source: target}
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mapping:
    options: dict[str, Any] = field(default_factory=dict)
    entities: dict[str, EntityMapping] = field(default_factory=dict)

    def for_entity(self, entity: str) -> EntityMapping:
        return self.entities.get(entity) or EntityMapping()

    def option(self, entity: str, name: str) -> Any:
        own = self.for_entity(entity).options
        if name in own:
            return own[name]
        return self.options.get(name, DEFAULT_OPTIONS.get(name))


def _str_dict(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError("imports.error.mapping_invalid", detail=where)
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def loads(text: str) -> Mapping:
    """Parse a mapping file; a malformed one is a translated ValidationError, never a crash."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValidationError("imports.error.mapping_invalid", detail=str(err)) from err
    mapping = Mapping(options=dict(data.get("options", {})))
    for name, table in data.items():
        if name == "options":
            continue
        if name not in entities() or not isinstance(table, dict):
            raise ValidationError("imports.error.mapping_invalid", detail=name)
        values = table.get("values", {})
        if not isinstance(values, dict):
            raise ValidationError("imports.error.mapping_invalid", detail=f"{name}.values")
        mapping.entities[name] = EntityMapping(
            columns=_str_dict(table.get("columns", {}), f"{name}.columns"),
            values={str(f): _str_dict(v, f"{name}.values.{f}") for f, v in values.items()},
            options=dict(table.get("options", {})),
        )
    return mapping


def load(path: str | Path) -> Mapping:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError("imports.error.mapping_invalid", detail=str(err)) from err
    return loads(text)


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # JSON string escapes are valid TOML


def _table(lines: list[str], name: str, items: dict[str, Any]) -> None:
    if not items:
        return
    lines.append(f"[{name}]")
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in items.items())
    lines.append("")


def dumps(mapping: Mapping) -> str:
    lines: list[str] = ["# crm-impl import mapping (docs/imports.md)", ""]
    _table(lines, "options", mapping.options)
    for name in entities():
        em = mapping.entities.get(name)
        if em is None:
            continue
        _table(lines, f"{name}.columns", em.columns)
        for fname, vals in em.values.items():
            _table(lines, f"{name}.values.{_key(fname)}", vals)
        _table(lines, f"{name}.options", em.options)
    return "\n".join(lines).rstrip() + "\n"
