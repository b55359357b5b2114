"""Typed project configuration, loaded from TOML and validated before any SQL runs.

The file's shape is one pydantic model (`Config`): every section refuses keys it does not know,
values keep the types TOML gave them (no "4" for 4), and any mistake becomes one line naming the
file, the section and the key. The same model publishes the JSON Schema editors validate with
(`pipeline config-schema`).

Relative paths inside the file are resolved against the file's own directory, so a project
directory moves as one piece and the working directory never changes what a run reads.

May import: `pipeline.core`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.fields import FieldInfo

from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import (
    ContractType,
    Encoder,
    Executor,
    FeatureType,
    Imputer,
    OnTypeChange,
    Scaler,
    Task,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: the SQL templates inside the installed package (a link to the repo's sql/ in a clone)
PACKAGED_SQL = (Path(__file__).resolve().parent.parent / "sql").resolve()
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")

# the vocabularies as tuples, for code that lists them
IMPUTERS = tuple(Imputer)
ENCODERS = tuple(Encoder)
SCALERS = tuple(Scaler)
FEATURE_TYPES = tuple(FeatureType)
TASKS = tuple(Task)
EXECUTORS = tuple(Executor)


def check_identifier(name: str, what: str) -> str:
    """Reject anything but a plain SQL identifier, so config text can never become SQL."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
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


# --- value types ----------------------------------------------------------------------------
# Validators raise ValueError; `_one_line` turns pydantic's report into a ConfigError.


def _toml(value: Any) -> str:
    """A value as the user wrote it in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _as_value_error(check: Callable[[str, str], str]) -> Callable[[str], str]:
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


def _dotted(value: str) -> str:
    if not _DOTTED.match(value):
        raise ValueError(f"{_toml(value)} must be a dotted path, e.g. sklearn.linear_model.Ridge")
    return value


def _package(value: str) -> str:
    if not _PACKAGE.match(value):
        raise ValueError(f"{_toml(value)} is not a plain package name (e.g. xgboost)")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{_toml(value)} is not a number")
    return float(value)


def _scalar(value: Any) -> Any:
    if not isinstance(value, int | float | str | bool):
        raise ValueError(f"{_toml(value)} is not a number, a string or true/false")
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
    raise ValueError(f'{_toml(value)} is not "train_range" or [low, high]')


Identifier = Annotated[StrictStr, AfterValidator(_as_value_error(check_identifier))]
#: a raw table's column: any name (quoted as one identifier wherever it reaches SQL)
ColumnName = Annotated[StrictStr, AfterValidator(_as_value_error(check_column_name))]
TableName = Annotated[StrictStr, AfterValidator(_as_value_error(check_table_name))]
ConfigPath = Annotated[Path, AfterValidator(_resolve)]
NonEmpty = Annotated[StrictStr, AfterValidator(_nonempty)]
# TOML's 1 is a fine float; "1" and true are not. Before, so Field ranges still apply (and
# when a range is in the Annotated, it goes before the validator, or the schema misses it).
Number = Annotated[float, BeforeValidator(_number)]
# Any: a number keeps its own type (accepted = [0, 1] matches integers)
Scalar = Annotated[Any, PlainValidator(_scalar, json_schema_input_type=float | str | bool)]
Clip = Annotated[
    Any,
    PlainValidator(_clip, json_schema_input_type=Literal["train_range"] | list[float]),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- [warehouse]: one model per engine, chosen by `type` -----------------------------------


class _Connection(_Section):
    @property
    def options(self) -> dict[str, Any]:
        """The engine's own settings, as the warehouse class takes them."""
        skip = {"type", "path", "seed_from"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


class DuckDBConnection(_Connection):
    """The embedded default: one DuckDB file."""

    type: Literal["duckdb"]
    path: ConfigPath
    seed_from: ConfigPath | None = Field(
        default=None, description="copied to `path` by the first run when `path` does not exist yet"
    )
    memory_limit: StrictStr | None = Field(default=None, description='DuckDB setting, e.g. "4GB"')
    threads: StrictInt | None = Field(default=None, ge=1, description="DuckDB setting")


class BigQueryConnection(_Connection):
    """A BigQuery project; schemas in the templates are its datasets."""

    type: Literal["bigquery"]
    project: NonEmpty
    location: StrictStr | None = Field(default=None, description='default "US"')
    endpoint: StrictStr | None = Field(
        default=None, description="another API endpoint (an emulator)"
    )
    anonymous: StrictBool | None = Field(default=None, description="no credentials (an emulator)")
    timeout: Annotated[float, Field(gt=0), BeforeValidator(_number)] | None = Field(
        default=None, description="seconds per job; default 300"
    )

    @property
    def path(self) -> None:
        return None

    @property
    def seed_from(self) -> None:
        return None


WarehouseConfig = Annotated[DuckDBConnection | BigQueryConnection, Field(discriminator="type")]


# --- the other sections ---------------------------------------------------------------------


class TablesConfig(_Section):
    labelled: TableName = Field(description="has the label; split into train and holdout")
    unlabelled: TableName | None = Field(default=None, description="scored only")
    output_schema: Identifier = Field(description="every table the pipeline writes goes here")


class ColumnsConfig(_Section):
    id: Identifier
    label: Identifier
    task: Task = Task.binary


class SplitConfig(_Section):
    holdout_fraction: Number = Field(default=0.2, gt=0, lt=1)
    salt: StrictStr = Field(default="split-v1", description="change it to draw a different split")
    by: ColumnName | None = Field(
        default=None,
        description="the column hashed for the split (default: the id); rows sharing its value "
        "(identical rows, one patient's visits) land on the same side",
    )


class FeatureConfig(_Section):
    """A feature. `column` is its name in the pipeline's tables and the model: the TOML
    `name` when given, else the raw column's; `source` keeps the raw column's own name when
    the two differ (`column = "sample.yr"` with `name = "sample_yr"`): generated tables and
    BigQuery need plain names, raw tables may have any."""

    column: Identifier = Field(
        description="the raw table's column (any name; give `name` when it is not plain)"
    )
    type: FeatureType
    impute: Imputer = Field(
        default=Imputer.median, description="default: median for numeric, mode for categorical"
    )
    encode: Encoder | None = Field(default=None, description="categorical only; default onehot")
    scale: Scaler = Scaler.none
    fill_value: Scalar | None = Field(default=None, description="for impute = constant")
    missing_indicator: StrictBool = False
    min_count: StrictInt = Field(
        default=0,
        ge=0,
        description="categories seen fewer times in train fold into one rare bucket",
    )
    clip: Clip | None = Field(
        default=None, description='"train_range" or [low, high]; numeric only'
    )
    max_categories: StrictInt = Field(
        default=100, ge=1, description="categorical only: most categories kept"
    )
    name: Identifier | None = Field(
        default=None, description="the feature's plain name in generated tables"
    )
    source: ColumnName | None = Field(
        default=None, description="set from `column` when `name` is given; not written by hand"
    )

    def __init__(self, *args: Any, **data: Any) -> None:
        # positional like the dataclass it replaced: FeatureConfig("size", "numeric", "median")
        data.update(zip(type(self).model_fields, args, strict=False))
        super().__init__(**data)

    @model_validator(mode="before")
    @classmethod
    def _raw_and_plain_names(cls, data: Any) -> Any:
        """TOML `column` (raw, any name) and `name` (plain) -> `column` (plain) and `source`
        (raw); a model directory's saved spec comes back with `source` already set."""
        if (
            not isinstance(data, dict)
            or "source" in data
            or not isinstance(data.get("column"), str)
        ):
            return data
        raw, plain = data["column"], data.get("name")
        _as_value_error(check_column_name)(raw)
        if plain is not None:
            check_name = _as_value_error(lambda v, _: check_identifier(v, "name"))
            check_name(plain)  # named as the key the user wrote
        if plain is None:
            if not _IDENTIFIER.match(raw):
                suggestion = re.sub(r"[^A-Za-z0-9_]+", "_", raw).strip("_") or "feature"
                if suggestion[0].isdigit():
                    suggestion = "f_" + suggestion
                raise ValueError(
                    f"column {raw!r} is not a plain identifier; add "
                    f'name = "{suggestion}" to name the feature in the generated tables'
                )
            plain = raw
        return {**data, "column": plain, "source": raw if raw != plain else None}

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_type(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") in tuple(FeatureType):
            categorical = data["type"] == FeatureType.categorical
            defaults = {"impute": "mode" if categorical else "median"}
            if categorical:
                defaults["encode"] = "onehot"
            data = {**defaults, **data}
        return data

    @model_validator(mode="after")
    def _fits_the_type(self) -> FeatureConfig:
        numeric = self.type == FeatureType.numeric
        if not numeric and self.impute in (Imputer.median, Imputer.mean):
            raise ValueError(f'impute "{self.impute}" needs a numeric column')
        if self.impute == Imputer.constant and self.fill_value is None:
            raise ValueError('impute "constant" needs fill_value')
        for key in ("encode", "min_count", "max_categories"):
            if numeric and getattr(self, key) != type(self).model_fields[key].default:
                raise ValueError(f"{key} applies to categorical columns only")
        if not numeric and self.scale != Scaler.none:
            raise ValueError("scale applies to numeric columns only")
        if not numeric and self.clip is not None:
            raise ValueError("clip applies to numeric columns only")
        return self


def _select_params(params: dict[str, Any], estimator: str) -> dict[str, Any]:
    tables = {k: v for k, v in params.items() if isinstance(v, dict)}
    if not tables:
        return dict(params)
    if len(tables) != len(params):
        raise ValueError("[model.params] mixes plain parameters with per-estimator tables")
    class_name = estimator.rpartition(".")[2]
    return dict(tables.get(estimator, tables.get(class_name, {})))


def estimator_params(params: Any, estimator: str, path: Path) -> dict[str, Any]:
    """[model.params] is either the parameters themselves, or one table per estimator class
    ([model.params.RandomForestClassifier], ...), so switching models changes one line."""
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: [model.params] must be a table")
    try:
        return _select_params(params, estimator)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


class ModelConfig(_Section):
    estimator: Annotated[StrictStr, AfterValidator(_dotted)] = Field(
        description="any scikit-learn estimator by dotted path"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the estimator's parameters, or one table per estimator class",
    )
    packages: list[Annotated[StrictStr, AfterValidator(_package)]] = Field(
        default_factory=list, description="packages the model needs to load"
    )
    signing_key: ConfigPath | None = None

    @model_validator(mode="before")
    @classmethod
    def _chosen_params(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("params"), dict)
            and isinstance(data.get("estimator"), str)
        ):
            data = {**data, "params": _select_params(data["params"], data["estimator"])}
        return data


class ScoringConfig(_Section):
    executor: Executor = Executor.auto
    workers: StrictInt = Field(default=0, ge=0, description="0: one per core")
    batch_rows: StrictInt = Field(default=50_000, ge=1)
    scheduler: StrictStr | None = Field(
        default=None, description='Dask scheduler, for executor "dask"'
    )
    on_type_change: OnTypeChange = OnTypeChange.refuse


class EvaluateConfig(_Section):
    slices: tuple[ColumnName, ...] = Field(
        default=(), description="raw labelled columns to break the metrics down by"
    )
    threshold: Annotated[float, Field(ge=0, le=1), BeforeValidator(_number)] | None = Field(
        default=None,
        description="score >= threshold is positive; unset: the model's label",
    )
    calibration_bins: StrictInt = Field(default=10, ge=1, le=1000)


class ContractRules(_Section):
    type: ContractType | None = None
    not_null: StrictBool = False
    unique: StrictBool = False
    accepted: list[Scalar] | None = Field(default=None, min_length=1)
    min: Number | None = None
    max: Number | None = None


# --- the whole file -------------------------------------------------------------------------


class Config(_Section):
    """A project's pipeline.toml."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="pipeline.toml",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    sql_dir: ConfigPath = Field(
        default=Path("sql"),
        validate_default=True,
        description="the SQL templates; default: sql/ beside this file, else the packaged ones",
    )
    warehouse: WarehouseConfig
    tables: TablesConfig
    columns: ColumnsConfig
    split: SplitConfig
    features: tuple[FeatureConfig, ...] = Field(min_length=1)
    model: ModelConfig
    scoring: ScoringConfig = ScoringConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    contract_rules: dict[ColumnName, ContractRules] = Field(
        default_factory=dict, alias="contract", description="rules per raw column"
    )

    _path: Path = PrivateAttr(Path("pipeline.toml"))
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _packaged_templates(cls, data: Any, info: ValidationInfo) -> Any:
        """No sql_dir and no sql/ beside the config: the templates the package carries."""
        base = (info.context or {}).get("base")
        given = not isinstance(data, dict) or "sql_dir" in data or base is None
        if not given and not (Path(str(base)) / "sql").is_dir():
            data = {**data, "sql_dir": str(PACKAGED_SQL)}
        return data

    @model_validator(mode="after")
    def _features_are_distinct(self) -> Config:
        seen: set[str] = set()
        for f in self.features:
            if f.column in seen:
                raise ValueError(f"[[features]] {f.column!r} is listed twice")
            if f.column in (self.columns.id, self.columns.label):
                raise ValueError(f"[[features]] {f.column!r} is also the id or label column")
            seen.add(f.column)
        return self

    # the flat names the rest of the code reads
    @property
    def path(self) -> Path:
        return self._path

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw

    @property
    def labelled_table(self) -> str:
        return self.tables.labelled

    @property
    def unlabelled_table(self) -> str | None:
        return self.tables.unlabelled

    @property
    def output_schema(self) -> str:
        return self.tables.output_schema

    @property
    def id_column(self) -> str:
        return self.columns.id

    @property
    def label_column(self) -> str:
        return self.columns.label

    @property
    def task(self) -> Task:
        return self.columns.task

    @property
    def contract(self) -> dict[str, dict[str, Any]]:
        """[contract.<column>] rules as plain dicts, only the rules given."""
        return {
            column: rules.model_dump(mode="json", exclude_none=True)
            for column, rules in self.contract_rules.items()
        }

    def table(self, name: str) -> str:
        """The fully qualified name of a table this pipeline writes."""
        return f"{self.output_schema}.{check_identifier(name, 'table')}"

    @property
    def hash(self) -> str:
        """Content hash of the whole config; recorded in the ledger and the model directory."""
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def feature_spec(self) -> list[dict[str, Any]]:
        """Plain dicts the SQL templates render from."""
        return [f.model_dump(mode="json") for f in self.features]


def config_schema() -> dict[str, Any]:
    """The JSON Schema of pipeline.toml, for editors (taplo, Even Better TOML)."""
    return Config.model_json_schema(by_alias=True)


# --- one line per mistake -------------------------------------------------------------------

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
        return f"{_toml(ctx.get('tag'))} is not one of {_quoted(ctx.get('expected_tags', ''))}"
    if kind in ("enum", "literal_error"):
        return f"{_toml(value)} is not one of {_quoted(ctx.get('expected', ''))}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{_toml(value)} is out of range: must be {_bounds(field)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    for prefix, word in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"{_toml(value)} is not {word}"
    return f"{_toml(value)}: {error['msg']}"


class _WarehouseOnly(_Section):
    """The [warehouse] section of a file that may hold anything else."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    warehouse: WarehouseConfig


def load_warehouse_section(path: Path | str) -> WarehouseConfig:
    """[warehouse] of any TOML file (`pipeline init --warehouse-config`), checked as in a
    project config, paths resolved against that file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--warehouse-config {path} not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        found = _WarehouseOnly.model_validate(raw, context={"base": path.resolve().parent})
    except ValidationError as exc:
        raise _one_line(exc, path, raw) from None
    return found.warehouse


def _one_line(exc: ValidationError, path: Path | str, raw: dict[str, Any]) -> ConfigError:
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


def load_config(path: Path | str) -> Config:
    """Read and validate a project config; every name is checked before any SQL is rendered."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = Config.model_validate(raw, context={"base": path.resolve().parent})
    except ValidationError as exc:
        raise _one_line(exc, path, raw) from None
    config._path = path.resolve()
    config._raw = raw
    if config.model.signing_key is not None:
        from pipeline.core.keys import read_key

        read_key(config.model.signing_key)  # a missing or bad key fails before the first write
    return config
