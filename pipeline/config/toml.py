"""TOML values as text: the one writer behind generated config files and the values quoted in
config error messages."""

from __future__ import annotations

import json
from typing import Any


def toml_value(value: Any, *, escape: bool = False) -> str:
    """`value` written as in a TOML file (a string in double quotes, true/false, a list in
    brackets). `escape` writes non-ASCII characters as \\u escapes, still valid TOML: messages
    use it, so that a look-alike letter (a Cyrillic a in `binary`) shows as \\u0430; so do the
    [warehouse] lines `pipeline init --warehouse-config` copies, as they always have."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=escape)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v, escape=escape) for v in value) + "]"
    return str(value)


def as_written(value: Any) -> str:
    """A value as the user wrote it in TOML, for messages; a table is `a table`."""
    return "a table" if isinstance(value, dict) else toml_value(value, escape=True)
