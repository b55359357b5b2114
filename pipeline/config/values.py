"""The value types of pipeline.toml: each key's type with its check, as pydantic annotations.

Validators raise ValueError; the loader turns pydantic's report into one ConfigError line that
names the file, the section and the key (`pipeline.config.messages`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, PlainValidator, StrictStr, ValidationInfo

from pipeline.config.toml import as_written
from pipeline.core.errors import ConfigError
from pipeline.core.identifiers import check_column_name, check_identifier, check_table_name

#: the SQL templates inside the installed package (a link to the repo's sql/ in a clone)
PACKAGED_SQL = (Path(__file__).resolve().parent.parent / "sql").resolve()
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


def as_value_error(check: Callable[[str, str], str]) -> Callable[[str], str]:
    """check_identifier and friends raise ConfigError; inside the model they raise ValueError,
    so that the one-line message also names the section and key."""

    def validate(value: str) -> str:
        try:
            check(value, "")
        except ConfigError as exc:
            raise ValueError(str(exc).strip()) from None
        return value

    return validate


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base")
    return (base / value).resolve() if base is not None else value


def _nonempty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def dotted(value: str) -> str:
    if not _DOTTED.match(value):
        raise ValueError(
            f"{as_written(value)} must be a dotted path, e.g. sklearn.linear_model.Ridge"
        )
    return value


def package(value: str) -> str:
    if not _PACKAGE.match(value):
        raise ValueError(f"{as_written(value)} is not a plain package name (e.g. xgboost)")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{as_written(value)} is not a number")
    return float(value)


def _scalar(value: Any) -> Any:
    if not isinstance(value, int | float | str | bool):
        raise ValueError(f"{as_written(value)} is not a number, a string or true/false")
    return value


def _clip(value: Any) -> Any:
    if value == "train_range":
        return "train_range"
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
        and value[0] <= value[1]
    ):
        return [float(x) for x in value]
    raise ValueError(f'{as_written(value)} is not "train_range" or [low, high]')


Identifier = Annotated[StrictStr, AfterValidator(as_value_error(check_identifier))]
#: a raw table's column: any name (quoted as one identifier wherever it reaches SQL)
ColumnName = Annotated[StrictStr, AfterValidator(as_value_error(check_column_name))]
TableName = Annotated[StrictStr, AfterValidator(as_value_error(check_table_name))]
ConfigPath = Annotated[Path, AfterValidator(_resolve)]
NonEmpty = Annotated[StrictStr, AfterValidator(_nonempty)]
# TOML's 1 is a fine float; "1" and true are not. Before, so Field ranges still apply (and
# when a range is in the Annotated, it goes before the validator, or the schema misses it).
Number = Annotated[float, BeforeValidator(number)]
# Any: a number keeps its own type (accepted = [0, 1] matches integers)
Scalar = Annotated[Any, PlainValidator(_scalar, json_schema_input_type=float | str | bool)]
Clip = Annotated[
    Any,
    PlainValidator(_clip, json_schema_input_type=Literal["train_range"] | list[float]),
]
