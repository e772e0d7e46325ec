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

import codecs
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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


DATE_DIRECTIVES = frozenset("dmyYHIMSfpbBaAjz%")  # what a date_format may use (strptime)


def _bad_option(option: str, value: Any, allowed: str) -> ValidationError:
    return ValidationError("imports.error.option", option=option, value=str(value)[:80], allowed=allowed)


def _check_encoding(option: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _bad_option(option, value, "auto, utf-8, utf-8-sig, utf-16, cp1250, iso-8859-2")
    if value in ("", "auto"):
        return
    try:
        codecs.lookup(value)
        "ąa,;".encode(value, errors="replace").decode(value)  # a text encoding (not rot13, zlib)
    except (LookupError, TypeError, ValueError) as err:  # ValueError: UnicodeError, a NUL in the name
        raise _bad_option(option, value, "auto, utf-8, utf-8-sig, utf-16, cp1250, iso-8859-2") from err


def _check_delimiter(option: str, value: Any) -> None:
    allowed = 'auto, ",", ";", "\\t", "|"'
    if not isinstance(value, str):
        raise _bad_option(option, value, allowed)
    if value in ("", "auto"):
        return
    delim = value.replace("\\t", "\t")
    if len(delim) != 1 or delim in '"\r\n' or delim.isalnum():
        raise _bad_option(option, value, allowed)


def _check_date_format(option: str, value: Any) -> None:
    allowed = 'auto, "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M"'
    if not isinstance(value, str):
        raise _bad_option(option, value, allowed)
    if value in ("", "auto"):
        return
    directives = re.findall(r"%(.?)", value.replace("%%", ""))  # a lone "%" at the end: ""
    if any(d not in DATE_DIRECTIVES for d in directives) or not {"Y", "y"} & set(directives):
        raise _bad_option(option, value, allowed)
    try:
        pd.to_datetime(pd.Series(["2024-01-31"]), format=value, errors="coerce")
    except (ValueError, TypeError) as err:
        raise _bad_option(option, value, allowed) from err


def _check_choice(choices: tuple[str, ...]) -> Any:
    def check(option: str, value: Any) -> None:
        if value not in choices:
            raise _bad_option(option, value, ", ".join(choices))

    return check


def _check_strings(option: str, value: Any) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _bad_option(option, value, '["", "null", "n/a"]')


def _check_text(option: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _bad_option(option, value, '"Sheet1"')


OPTION_CHECKS = {
    "encoding": _check_encoding,
    "delimiter": _check_delimiter,
    "date_format": _check_date_format,
    "decimal": _check_choice(("auto", ",", ".")),
    "null_values": _check_strings,
    "sheet": _check_text,
    "locale": _check_choice(("", "en", "pl")),
}


def check_options(mapping: Mapping, entity: str) -> None:
    """The reading options a run of `entity` will use, checked before the file is opened: a
    translated ValidationError names the option (e.g. `date_format = "%Q"`), never a crash."""
    for name, check in OPTION_CHECKS.items():
        scopes = [("options", mapping.options), (f"{entity}.options", mapping.for_entity(entity).options)]
        for scope, options in scopes:
            if name in options:
                check(f"[{scope}] {name}", options[name])


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
    mapping = Mapping(options=_options(data.get("options", {}), "options"))
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
            options=_options(table.get("options", {}), f"{name}.options"),
        )
    for entity in [*mapping.entities] or [""]:
        check_options(mapping, entity)
    return mapping


def _options(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("imports.error.mapping_invalid", detail=where)
    return dict(value)


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
