"""Typed project configuration, loaded from TOML and validated before any SQL runs.

Relative paths inside the file are resolved against the file's own directory, so a project
directory moves as one piece and the working directory never changes what a run reads.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: the SQL templates inside the installed package (a link to the repo's sql/ in a clone)
PACKAGED_SQL = Path(__file__).resolve().parent / "sql"

IMPUTERS = ("none", "median", "mean", "mode", "constant")
ENCODERS = ("onehot", "ordinal", "frequency")
SCALERS = ("none", "standard", "minmax")
FEATURE_TYPES = ("numeric", "categorical")
TASKS = ("binary", "multiclass", "regression")
# how predict scores: on this machine, on a Dask cluster, or as compiled SQL in the warehouse
EXECUTORS = ("auto", "process", "thread", "inprocess", "dask", "warehouse")


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


@dataclass(frozen=True)
class WarehouseConfig:
    type: str
    path: Path | None = None
    seed_from: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FeatureConfig:
    column: str  # the feature's name in the pipeline's tables: TOML `name`, else `column`
    type: str
    impute: str
    encode: str | None = None
    scale: str = "none"
    fill_value: float | str | None = None
    missing_indicator: bool = False
    min_count: int = 0  # categories seen fewer times in train are folded into one rare bucket
    clip: str | list[float] | None = None  # "train_range" or [low, high]
    source: str | None = None  # the raw table's column (TOML `column`) when it differs


@dataclass(frozen=True)
class SplitConfig:
    holdout_fraction: float
    salt: str


@dataclass(frozen=True)
class ModelConfig:
    estimator: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ScoringConfig:
    executor: str
    workers: int
    batch_rows: int
    scheduler: str | None = None  # a Dask scheduler address, for executor "dask"


@dataclass(frozen=True)
class EvaluateConfig:
    slices: tuple[str, ...] = ()  # raw labelled columns to break the metrics down by
    threshold: float | None = None  # score >= threshold is positive; none: the model's label
    calibration_bins: int = 10


@dataclass(frozen=True)
class Config:
    path: Path
    warehouse: WarehouseConfig
    sql_dir: Path
    labelled_table: str
    unlabelled_table: str | None  # rows to score that have no label; optional
    output_schema: str
    id_column: str
    label_column: str
    task: str
    split: SplitConfig
    features: tuple[FeatureConfig, ...]
    model: ModelConfig
    scoring: ScoringConfig
    evaluate: EvaluateConfig = EvaluateConfig()
    contract: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

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
        return [asdict(f) for f in self.features]


def _section(raw: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: missing section [{name}]")
    return value


def _required(section: dict[str, Any], key: str, where: str) -> Any:
    if key not in section:
        raise ConfigError(f"{where}: missing key {key!r}")
    return section[key]


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _feature(raw: dict[str, Any], index: int, path: Path) -> FeatureConfig:
    where = f"{path}: features[{index}]"
    source = check_column_name(_required(raw, "column", where), f"{where} column")
    where = f"{path}: feature {source!r}"
    # generated tables need plain names (BigQuery allows nothing else): a raw column that is
    # not one is given its output name by the `name` key
    if "name" in raw:
        column = check_identifier(raw["name"], f"{where} name")
    elif _IDENTIFIER.match(source):
        column = source
    else:
        suggestion = re.sub(r"[^A-Za-z0-9_]+", "_", source).strip("_") or "feature"
        raise ConfigError(
            f"{where}: column {source!r} is not a plain identifier; "
            f'add name = "{suggestion}" to name the feature in the generated tables'
        )
    ftype = _choice(_required(raw, "type", where), FEATURE_TYPES, f"{where} type")
    default_impute = "median" if ftype == "numeric" else "mode"
    impute = _choice(raw.get("impute", default_impute), IMPUTERS, f"{where} impute")
    if ftype == "categorical" and impute in ("median", "mean"):
        raise ConfigError(f"{where}: impute {impute!r} needs a numeric column")
    encode = None
    if ftype == "categorical":
        encode = _choice(raw.get("encode", "onehot"), ENCODERS, f"{where} encode")
    scale = _choice(raw.get("scale", "none"), SCALERS, f"{where} scale")
    if ftype == "categorical" and scale != "none":
        raise ConfigError(f"{where}: scale applies to numeric columns only")
    fill_value = raw.get("fill_value")
    if impute == "constant" and fill_value is None:
        raise ConfigError(f"{where}: impute 'constant' needs fill_value")
    min_count = raw.get("min_count", 0)
    if not isinstance(min_count, int) or min_count < 0:
        raise ConfigError(f"{where}: min_count must be a whole number >= 0")
    if min_count and ftype != "categorical":
        raise ConfigError(f"{where}: min_count applies to categorical columns only")
    clip = raw.get("clip")
    if clip is not None:
        if ftype != "numeric":
            raise ConfigError(f"{where}: clip applies to numeric columns only")
        ok_list = (
            isinstance(clip, list)
            and len(clip) == 2
            and all(isinstance(x, int | float) for x in clip)
            and clip[0] <= clip[1]
        )
        if clip != "train_range" and not ok_list:
            raise ConfigError(f'{where}: clip must be "train_range" or [low, high]')
    unknown = set(raw) - {
        "column",
        "type",
        "impute",
        "encode",
        "scale",
        "fill_value",
        "missing_indicator",
        "min_count",
        "clip",
        "name",
    }
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    return FeatureConfig(
        column=column,
        type=ftype,
        impute=impute,
        encode=encode,
        scale=scale,
        fill_value=fill_value,
        missing_indicator=bool(raw.get("missing_indicator", False)),
        min_count=min_count,
        clip=[float(x) for x in clip] if isinstance(clip, list) else clip,
        source=source if source != column else None,
    )


def estimator_params(params: Any, estimator: str, path: Path) -> dict[str, Any]:
    """[model.params] is either the parameters themselves, or one table per estimator class
    ([model.params.RandomForestClassifier], ...), so switching models changes one line."""
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: [model.params] must be a table")
    tables = {k: v for k, v in params.items() if isinstance(v, dict)}
    if not tables:
        return dict(params)
    if len(tables) != len(params):
        raise ConfigError(
            f"{path}: [model.params] mixes plain parameters with per-estimator tables"
        )
    class_name = estimator.rpartition(".")[2]
    return dict(tables.get(estimator, tables.get(class_name, {})))


CONTRACT_KEYS = {"type", "not_null", "unique", "accepted", "min", "max"}


def _contract(raw: Any, path: Path) -> dict[str, dict[str, Any]]:
    """[contract.<column>] tables: type (int, float, string), not_null, unique, accepted, min,
    max."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [contract] must hold one table per column")
    out: dict[str, dict[str, Any]] = {}
    for column, rules in raw.items():
        where = f"{path}: [contract.{column}]"
        check_column_name(column, f"{where} column")
        if not isinstance(rules, dict):
            raise ConfigError(f"{where} must be a table of rules")
        unknown = set(rules) - CONTRACT_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown rules {sorted(unknown)}; known: {sorted(CONTRACT_KEYS)}"
            )
        if "type" in rules:
            _choice(rules["type"], ("int", "float", "string"), f"{where} type")
        if "accepted" in rules and (
            not isinstance(rules["accepted"], list) or not rules["accepted"]
        ):
            raise ConfigError(f"{where} accepted must be a non-empty list")
        for bound in ("min", "max"):
            if bound in rules and not isinstance(rules[bound], int | float):
                raise ConfigError(f"{where} {bound} must be a number")
        out[column] = dict(rules)
    return out


def _evaluate(raw: Any, path: Path) -> EvaluateConfig:
    where = f"{path}: [evaluate]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(raw) - {"slices", "threshold", "calibration_bins"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    slices = raw.get("slices", [])
    if not isinstance(slices, list):
        raise ConfigError(f"{where} slices must be a list of column names")
    threshold = raw.get("threshold")
    if threshold is not None and not (
        isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0
    ):
        raise ConfigError(f"{where} threshold must be a number from 0 to 1")
    bins = raw.get("calibration_bins", 10)
    if not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise ConfigError(f"{where} calibration_bins must be a whole number from 1 to 1000")
    return EvaluateConfig(
        slices=tuple(check_column_name(c, f"{where} slice") for c in slices),
        threshold=None if threshold is None else float(threshold),
        calibration_bins=bins,
    )


def load_config(path: Path | str) -> Config:
    """Read and validate a project config; every name is checked before any SQL is rendered."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    base = path.resolve().parent

    def resolve(p: str | None) -> Path | None:
        return None if p is None else (base / p).resolve()

    wh = dict(_section(raw, "warehouse", path))
    wtype = str(_required(wh, "type", f"{path}: [warehouse]"))
    warehouse = WarehouseConfig(
        type=wtype,
        path=resolve(wh.pop("path", None)),
        seed_from=resolve(wh.pop("seed_from", None)),
        options={k: v for k, v in wh.items() if k != "type"},
    )

    tables = _section(raw, "tables", path)
    where = f"{path}: [tables]"
    labelled = check_table_name(_required(tables, "labelled", where), "tables.labelled")
    unlabelled = tables.get("unlabelled")
    if unlabelled is not None:
        check_table_name(unlabelled, "tables.unlabelled")
    output_schema = check_identifier(_required(tables, "output_schema", where), "output_schema")

    columns = _section(raw, "columns", path)
    id_column = check_identifier(_required(columns, "id", f"{path}: [columns]"), "columns.id")
    label = check_identifier(_required(columns, "label", f"{path}: [columns]"), "columns.label")
    task = _choice(columns.get("task", "binary"), TASKS, f"{path}: [columns] task")

    split_raw = _section(raw, "split", path)
    fraction = float(split_raw.get("holdout_fraction", 0.2))
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"{path}: [split] holdout_fraction must be between 0 and 1")
    split = SplitConfig(holdout_fraction=fraction, salt=str(split_raw.get("salt", "split-v1")))

    features_raw = raw.get("features")
    if not isinstance(features_raw, list) or not features_raw:
        raise ConfigError(f"{path}: no [[features]] listed")
    features = tuple(_feature(f, i, path) for i, f in enumerate(features_raw))
    seen: set[str] = set()
    for f in features:
        if f.column in seen:
            raise ConfigError(f"{path}: feature {f.column!r} is listed twice")
        if f.column in (id_column, label):
            raise ConfigError(f"{path}: feature {f.column!r} is also the id or label column")
        seen.add(f.column)

    model_raw = _section(raw, "model", path)
    estimator = str(_required(model_raw, "estimator", f"{path}: [model]"))
    if not re.match(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$", estimator):
        raise ConfigError(f"{path}: [model] estimator {estimator!r} must be a dotted path")
    params = estimator_params(model_raw.get("params", {}), estimator, path)

    scoring_raw = raw.get("scoring", {})
    scoring = ScoringConfig(
        executor=_choice(
            scoring_raw.get("executor", "auto"), EXECUTORS, f"{path}: [scoring] executor"
        ),
        workers=int(scoring_raw.get("workers", 0)),
        batch_rows=int(scoring_raw.get("batch_rows", 50_000)),
        scheduler=str(scoring_raw["scheduler"]) if "scheduler" in scoring_raw else None,
    )
    if scoring.batch_rows < 1:
        raise ConfigError(f"{path}: [scoring] batch_rows must be positive")

    evaluate = _evaluate(raw.get("evaluate", {}), path)
    contract = _contract(raw.get("contract", {}), path)

    # without sql_dir: a sql/ beside the config if there is one, else the packaged templates
    sql_dir = (base / str(raw["sql_dir"])).resolve() if "sql_dir" in raw else base / "sql"
    if "sql_dir" not in raw and not sql_dir.is_dir():
        sql_dir = PACKAGED_SQL
    return Config(
        path=path.resolve(),
        warehouse=warehouse,
        sql_dir=sql_dir,
        labelled_table=labelled,
        unlabelled_table=unlabelled,
        output_schema=output_schema,
        id_column=id_column,
        label_column=label,
        task=task,
        split=split,
        features=features,
        model=ModelConfig(estimator=estimator, params=dict(params)),
        scoring=scoring,
        evaluate=evaluate,
        contract=contract,
        raw=raw,
    )
