"""One line per mistake: pydantic's report of a bad pipeline.toml as one ConfigError line that
names the file, the section and the key, with the value as the user wrote it (and a did-you-mean
for a misspelt key)."""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from pipeline.config.schema import Config
from pipeline.config.toml import as_written
from pipeline.core.errors import ConfigError

_SECTIONS = ("warehouse", "tables", "columns", "split", "model", "scoring", "evaluate")
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "tuple": "a list",
    "dict": "a table",
    "model": "a table",
    "model_attributes": "a table",
    "path": "a string",
}


def _strip(annotation: Any) -> Any:
    """Optional[X] -> X; Annotated[X, ...] -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _walk(loc: tuple[int | str, ...]) -> tuple[list[int | str], Any, FieldInfo | None]:
    """Follow an error location through the model: the location as the user sees it (union
    tags dropped), the model class holding the last key, and that key's field."""
    shown: list[int | str] = []
    node: Any = Config
    holder: Any = None
    field: FieldInfo | None = None
    for item in loc:
        node = _strip(node)
        if typing.get_origin(node) in (Union, types.UnionType):
            tagged = {
                typing.get_args(m.model_fields["type"].annotation)[0]: m
                for m in typing.get_args(node)
                if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
            }
            if item in tagged:
                node = tagged[item]
                continue
        shown.append(item)
        if isinstance(node, type) and issubclass(node, BaseModel):
            holder = node
            by_alias = {(f.alias or name): f for name, f in node.model_fields.items()}
            field = by_alias.get(str(item))
            node = field.annotation if field is not None else None
        elif typing.get_origin(node) in (list, tuple, dict):
            node = typing.get_args(node)[-1 if typing.get_origin(node) is dict else 0]
        else:
            node = None
    return shown, holder, field


def _constraints(annotation: Any) -> list[Any]:
    """Range markers inside an annotation: Optional[Annotated[float, Field(ge=0), ...]]."""
    found: list[Any] = []
    for arg in typing.get_args(annotation):
        if isinstance(arg, FieldInfo):
            found += arg.metadata
        elif isinstance(arg, Ge | Gt | Le | Lt):
            found.append(arg)
        else:
            found += _constraints(arg)
    return found


def _bounds(field: FieldInfo | None) -> str:
    """The range a number field allows, in words."""
    meta = [*field.metadata, *_constraints(field.annotation)] if field else []
    low = next((m for m in meta if isinstance(m, Ge | Gt)), None)
    high = next((m for m in meta if isinstance(m, Le | Lt)), None)
    lo = f"{low.ge} or more" if isinstance(low, Ge) else f"more than {low.gt}" if low else ""
    hi = f"{high.le} or less" if isinstance(high, Le) else f"less than {high.lt}" if high else ""
    if isinstance(low, Ge) and isinstance(high, Le):
        return f"from {low.ge} to {high.le}"
    if isinstance(low, Gt) and isinstance(high, Lt):
        return f"between {low.gt} and {high.lt}"
    return " and ".join(p for p in (lo, hi) if p)


def _quoted(expected: str) -> str:
    return ", ".join(re.findall(r"'([^']*)'", expected)) or expected


def _describe(error: Any, holder: Any, field: FieldInfo | None, key: str) -> str:
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = [f.alias or n for n, f in holder.model_fields.items()] if holder is not None else []
        close = difflib.get_close_matches(key, known, n=1)
        if close:
            return f"unknown key; did you mean {close[0]!r}?"
        return "unknown key; known: " + ", ".join(known) if known else "unknown key"
    if kind in ("missing", "union_tag_not_found"):
        return "missing; it is required"
    if kind == "union_tag_invalid":
        return f"{as_written(ctx.get('tag'))} is not one of {_quoted(ctx.get('expected_tags', ''))}"
    if kind in ("enum", "literal_error"):
        return f"{as_written(value)} is not one of {_quoted(ctx.get('expected', ''))}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{as_written(value)} is out of range: must be {_bounds(field)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    for prefix, word in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"{as_written(value)} is not {word}"
    return f"{as_written(value)}: {error['msg']}"


def one_line(exc: ValidationError, path: Path | str, raw: dict[str, Any]) -> ConfigError:
    """Turn pydantic's report into one line naming the file, the section and the key."""
    # an unknown key first: `[tablez]` is better told as a typo than as [tables] missing
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "type")
    shown, holder, field = _walk(loc)
    key = str(shown[-1]) if shown else ""
    value: Any = raw
    for item in shown:  # the value as written: a validator may have converted it already
        try:
            value = value[item]
        except (KeyError, IndexError, TypeError):
            value = error.get("input")
            break
    what = _describe({**error, "input": value}, holder, field, key)
    if error["type"] == "missing" and len(shown) == 1 and key in _SECTIONS:
        return ConfigError(f"{path}: missing section [{key}]")
    # a check of a whole section names its own place: "[model.params] mixes ..."
    own = bool(shown) and what.startswith(f"[{shown[0]}")
    where = "" if error["type"] == "value_error" and own else _where(shown, raw)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{path}: {where}{what}{more}")


def _where(shown: list[int | str], raw: dict[str, Any]) -> str:
    """`[section] key: ` as the user wrote it; `[[features]] 'Age' impute: ` for a list."""
    if not shown:
        return ""
    head, rest = str(shown[0]), [str(s) for s in shown[1:]]
    if head == "features" and shown[1:] and isinstance(shown[1], int):
        i = shown[1]
        items = raw.get("features")
        column = items[i].get("column") if isinstance(items, list) and i < len(items) else None
        section = f"[[features]] {column!r}" if isinstance(column, str) else f"[[features]] #{i}"
        rest = rest[1:]
    elif head == "contract" and rest:
        section, rest = f"[contract.{rest[0]}]", rest[1:]
    elif head in Config.model_fields or head == "contract":
        if isinstance(raw.get(head), dict) or rest:
            section = f"[{head}]"
        else:
            section, rest = "", [head]
    else:
        section, rest = "", [head]
    rest = [r for r in rest if not r.isdigit() and r != "[key]"]  # clip[0] -> clip
    key = ".".join(rest)
    parts = " ".join(p for p in (section, key) if p)
    return f"{parts}: " if parts else ""
