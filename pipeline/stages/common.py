"""What more than one stage reads: the frozen statistics, the model to score, and the raw
tables' column types a model was trained on. Stages never import each other; they share this."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError, MissingInputError
from pipeline.core.keys import load_key
from pipeline.features.plan import Stats, stats_from_rows
from pipeline.features.sql import Spec
from pipeline.model.trained import TrainedModel
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import latest_model_id
from pipeline.stages.project import Project
from pipeline.stages.spec import Table, model_made_by, run_first


def read_stats(project: Project) -> Stats:
    """The frozen statistics of the latest preprocess run, from the warehouse."""
    table = project.require(Table.feature_stats)
    sql = f"SELECT feature, stat, category, value FROM {project.warehouse.dialect.quote(table)}"
    return stats_from_rows(project.warehouse.query_arrow(sql).to_pylist())


# the neutral family of a warehouse column type (DuckDB and BigQuery names): int, float and
# decimal are one family, "numeric", because clean.sql casts every numeric feature to float
_FAMILIES = (
    ("boolean", re.compile(r"^(BOOL|BOOLEAN|LOGICAL)$")),
    (
        "numeric",
        re.compile(
            r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?(\d+)?|INT64|FLOAT(64|4|8)?|DOUBLE|REAL|"
            r"(BIG)?(NUMERIC|DECIMAL)(\(.*\))?|BIGDECIMAL)$"
        ),
    ),
    ("string", re.compile(r"^(VARCHAR|STRING|TEXT|CHAR|BPCHAR|NVARCHAR)(\(.*\))?$")),
    ("temporal", re.compile(r"^(DATE|TIME|DATETIME|INTERVAL|TIMESTAMP)\b")),
)


def type_family(type_name: str) -> str:
    """numeric, boolean, string or temporal; any other type is its own family (its name).
    int, float and decimal are the same family: a column moving between them scores alike."""
    name = type_name.strip().upper()
    for family, pattern in _FAMILIES:
        if pattern.match(name):
            return family
    return name.lower()


def raw_types(project: Project, table: str) -> dict[str, dict[str, str]]:
    """Each column's type as the warehouse describes it, and its family."""
    return {c: {"type": t, "family": type_family(t)} for c, t in project.warehouse.describe(table)}


def check_model_fits(project: Project, meta: dict[str, object]) -> None:
    """A model trained for another task, id or label would be scored into nonsense (or fail
    on a data contract it was never meant for): say so first."""
    cfg = project.config
    spec = meta.get("spec") or {}
    assert isinstance(spec, dict)
    pairs = (
        ("task", meta.get("task"), cfg.task, "[columns] task"),
        ("id column", spec.get("id"), cfg.id_column, "[columns] id"),
        ("label column", spec.get("label"), cfg.label_column, "[columns] label"),
    )
    for what, trained, now, key in pairs:
        if trained is not None and str(trained) != now:
            raise ConfigError(
                f"model {meta.get('model_id')} was trained for {what} {trained!r} but "
                f"{cfg.path.name} says {now!r} ({key}): score it with its own config, or "
                "train a model for this one"
            )


def type_changes(
    project: Project, spec: Spec, trained: dict[str, dict[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(table, column, trained type, type now) for each column the model reads whose type
    family differs from the one it was trained on."""
    changes = []
    for source in project.raw_sources():
        now = {c.lower(): t for c, t in project.warehouse.describe(source.table)}
        wanted = [spec.id, *(f.column for f in spec.features)]
        for name in wanted:
            was, is_now = trained.get(name), now.get(name.lower())
            if was is None or is_now is None:
                continue
            if type_family(is_now) != was["family"]:
                changes.append((source.table, name, was["type"], is_now))
    return changes


def check_types(
    project: Project, spec: Spec, trained: dict[str, dict[str, str]], trained_on: str
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Refuse (DataError) a raw column whose type family changed since training, or, with
    `[scoring] on_type_change = "cast"`, cast it back to the trained type. Returns the casts,
    {table: {column: neutral type}}, and one note per cast. `trained_on` ends the message:
    "... is not the type BIGINT <trained_on>"."""
    changes = type_changes(project, spec, trained)
    if not changes:
        return {}, []
    policy = project.config.scoring.on_type_change
    if policy != "cast":
        table, name, was, now = changes[0]
        raise DataError(
            f"table {table}, column {name}: type {now} is not the type {was} {trained_on}"
            f"{f' (and {len(changes) - 1} more)' if len(changes) > 1 else ''}: fix the table, "
            'or set [scoring] on_type_change = "cast" to cast it back'
        )
    casts: dict[str, dict[str, str]] = {}
    notes = []
    for table, name, was, now in changes:
        neutral = _NEUTRAL.get(type_family(was), "string")
        if neutral == "float" and re.match(r"^U?(TINY|SMALL|BIG|HUGE)?INT|^INT64$", was.upper()):
            neutral = "int"
        casts.setdefault(table, {})[name] = neutral
        notes.append(
            f"predict: cast {table}.{name} from {now} to {was}, the type {trained_on} "
            '([scoring] on_type_change = "cast")'
        )
    return casts, notes


_NEUTRAL = {"numeric": "float", "boolean": "bool", "string": "string", "temporal": "timestamp"}


def resolve_model_dir(project: Project, options: RunOptions) -> Path:
    """The model named on the command line, else the newest one trained in this warehouse."""
    model_dir = options.model_dir
    if model_dir is None:
        model_id = latest_model_id(project)
        if model_id is None:
            raise MissingInputError(f"no trained model found: {run_first(model_made_by())}")
        model_dir = options.models_dir / model_id
    if not Path(model_dir).is_dir():
        raise MissingInputError(
            f"model directory {model_dir} not found: {run_first(model_made_by())}"
        )
    return Path(model_dir)


def resolve_model(project: Project, options: RunOptions) -> TrainedModel:
    key = load_key(project.config.model.signing_key)
    return TrainedModel.load(resolve_model_dir(project, options), key)
