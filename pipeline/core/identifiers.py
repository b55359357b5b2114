"""Identifier syntax, in one place: what a plain SQL name is, how config names are checked,
and how any text becomes a plain name.

Config text reaches SQL only through names checked here (or quoted as one identifier), so a
config can never inject SQL. Generated tables and BigQuery need plain names; raw tables may
have any, so a raw name gets a plain one made from it (`sample.yr` -> `sample_yr`).
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.core.errors import ConfigError

#: a plain identifier: letters, digits and _, not starting with a digit
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: what a plain name cannot hold: each run of it becomes one `_`
UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_identifier(name: str) -> bool:
    return bool(IDENTIFIER.match(name))


def check_identifier(name: str, what: str) -> str:
    """Reject anything but a plain SQL identifier, so config text can never become SQL."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise ConfigError(
            f"{what} {name!r} is not a valid identifier (letters, digits and _; "
            "not starting with a digit)"
        )
    return name


def check_column_name(name: str, what: str) -> str:
    """A column of a raw table may be named anything a CSV header holds (`sample.yr`,
    `kunde id`, `größe`, `select`): every template quotes it as one identifier."""
    if not isinstance(name, str) or not name or _CONTROL.search(name):
        raise ConfigError(f"{what} {name!r} must be a non-empty name without control characters")
    return name


def check_table_name(name: str, what: str) -> str:
    """A table is `schema.table`: the schema plays the role of a BigQuery dataset."""
    parts = name.split(".") if isinstance(name, str) else []
    if len(parts) != 2:
        raise ConfigError(f"{what} {name!r} must be written as schema.table")
    for part in parts:
        check_identifier(part, what)
    return name


def underscored(text: str, fallback: str) -> str:
    """`text` with every run of other characters as one `_`, trimmed of `_` at either end;
    `fallback` when nothing is left. May start with a digit: see `plain_identifier`."""
    return UNSAFE.sub("_", text).strip("_") or fallback


def plain_identifier(text: str, fallback: str, digit_prefix: str) -> str:
    """A plain identifier made from `text`: `underscored`, and `digit_prefix` before a
    leading digit (`2nd class` -> `f_2nd_class` with prefix `f_`)."""
    name = underscored(text, fallback)
    return f"{digit_prefix}{name}" if name[0].isdigit() else name


def plain_name(name: str, taken: set[str]) -> str:
    """A plain identifier for a raw column name (`sample.yr` -> `sample_yr`, `größe` ->
    `grosse`), not one of `taken`; adds it to `taken`."""
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    text = text.encode("ascii", "ignore").decode()
    base = plain_identifier(text, "column", "c_")
    candidate, i = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        candidate, i = f"{base}_{i}", i + 1
    taken.add(candidate)
    return candidate
