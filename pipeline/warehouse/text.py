"""What every engine says the same way: an engine's error as one line, the refusal of a write
in read-only SQL, and the check of a table name before it becomes SQL."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.core.errors import ConfigError

_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def one_line(text: str) -> str:
    """An engine's multi-line error text as one line: the CLI prints one line per error. Lines
    (hints such as "Did you mean ...", the caret under the query) join with "; ", runs of
    whitespace become one space, and a line holding only the caret is dropped."""
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    return "; ".join(line for line in lines if line.strip("^ "))


def engine_error(exc: BaseException) -> str:
    """The message of a WarehouseError made from an engine's exception: its kind and its text,
    on one line."""
    return one_line(f"{type(exc).__name__}: {exc}")


def refuse_write(kinds: Sequence[str]) -> ConfigError:
    """The one message for what `pipeline sql` will not run without --write: names the kind of
    each statement (DROP, COPY, ...)."""
    if not kinds:
        return ConfigError("no SQL statement given")
    if len(kinds) == 1:
        what = ("an " if kinds[0][:1] in tuple("AEIOU") else "a ") + f"{kinds[0]} statement"
    else:
        what = f"{len(kinds)} statements ({', '.join(kinds)})"
    return ConfigError(
        f"pipeline sql runs one read-only query by default and this is {what}; "
        "pass --write to run statements that change data or write files"
    )


def check_name(name: str) -> str:
    if not all(_PART.match(p) for p in name.split(".")):
        raise ValueError(f"{name!r} is not a valid table name")
    return name
