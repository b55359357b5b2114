"""One check that no name the pipeline writes can land on a name it reads.

SQL names are case-insensitive (DuckDB and BigQuery alike), so every comparison folds case.
A collision does not fail loudly on its own: an output table named like an input overwrites
the raw data, an id column named `score` loads every prediction with a NULL id, a feature named
`Age__missing` is trained on twice. So all of it is refused before the first write.
"""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import Encoder, FeatureType
from pipeline.stages.spec import Table, written_tables

# tables each stage writes under [tables] output_schema, as pipeline/stages/spec.py declares
# them (staging tables hold one model's rows before they replace that model's rows in the table
# without the suffix)
OUTPUT_TABLES = written_tables()
# the column sql/preprocess/clean.sql and features.sql add to every row
DATASET_COLUMN = "dataset"
# the keys of every predictions row besides the id (pipeline/stages/predict.py
# prediction_columns, and sql/predict/in_warehouse.sql)
PREDICTION_KEYS = ("run_id", "model_id", "dataset", "prediction", "score", "scored_by")
# suffixes features.py gives generated columns of a feature; a one-hot feature also names one
# column `<feature>__<category>` per category, known only once statistics exist
INDICATOR_SUFFIX = "__missing"
ONEHOT_SUFFIXES = ("__unknown", "__rare")


def output_tables(config: Config) -> list[str]:
    """Every table a run may write, the run ledger and the model aliases included."""
    return [config.table(name) for name in (*OUTPUT_TABLES, Table.runs, Table.model_aliases)]


def check_names(config: Config) -> None:
    """Refuse a config whose written names collide with the names it reads; ConfigError
    naming both sides. Needs only the config: run it before anything is written."""
    where = f"{config.path}"
    inputs = {
        config.labelled_table.lower(): f"the labelled input table {config.labelled_table}",
    }
    if config.unlabelled_table:
        inputs[config.unlabelled_table.lower()] = (
            f"the unlabelled input table {config.unlabelled_table}"
        )
    for table in output_tables(config):
        if table.lower() in inputs:
            raise ConfigError(
                f"output table {table} (output_schema {config.output_schema!r}) is "
                f"{inputs[table.lower()]} named in [tables] of {where}: choose another "
                "output_schema"
            )

    # the columns that flow from the raw tables into clean and features_* tables
    carried: dict[str, str] = {
        config.id_column.lower(): f"id column {config.id_column!r}",
        config.label_column.lower(): f"label column {config.label_column!r}",
    }
    if config.id_column.lower() == config.label_column.lower():
        raise ConfigError(
            f"{where}: id column {config.id_column!r} and label column "
            f"{config.label_column!r} are one column (SQL names ignore case)"
        )
    for f in config.features:
        key = f.column.lower()
        if key in carried:
            raise ConfigError(
                f"{where}: feature {f.column!r} is also the {carried[key]} (SQL names ignore case)"
            )
        carried[key] = f"feature {f.column!r}"

    for key, what in carried.items():
        if key == DATASET_COLUMN:
            raise ConfigError(
                f"{where}: {what} collides with the column {DATASET_COLUMN!r} that "
                "sql/preprocess/clean.sql adds to every row: rename it in a view"
            )
    id_key = config.id_column.lower()
    if id_key in PREDICTION_KEYS:
        raise ConfigError(
            f"{where}: id column {config.id_column!r} collides with the predictions column "
            f"{id_key!r} (pipeline/stages/predict.py prediction_columns): rename it in a view"
        )

    for f in config.features:
        generated: list[str] = []
        if f.missing_indicator:
            generated.append(f"{f.column}{INDICATOR_SUFFIX}")
        if f.type == FeatureType.categorical and f.encode == Encoder.onehot:
            generated += [f"{f.column}{s}" for s in ONEHOT_SUFFIXES]
        for name in generated:
            if name.lower() in carried:
                raise ConfigError(
                    f"{where}: {carried[name.lower()]} collides with the column {name!r} "
                    f"that feature {f.column!r} generates (sql/preprocess/features.sql): "
                    "rename it in a view"
                )
        if f.type == FeatureType.categorical and f.encode == Encoder.onehot:
            prefix = f"{f.column}__".lower()
            for key, what in carried.items():
                if key.startswith(prefix):
                    raise ConfigError(
                        f"{where}: {what} may collide with the one-hot columns "
                        f"{f.column}__<category> that feature {f.column!r} generates "
                        "(sql/preprocess/features.sql): rename it in a view"
                    )


def check_feature_columns(config_path: Any, id_column: str, label: str, names: list[str]) -> None:
    """The columns of features_* once the plan exists: each name once, whatever its case
    (a category `Unknown` makes `X__Unknown`, which is `X__unknown` to SQL)."""
    seen: dict[str, str] = {}
    for name in [id_column, label, *names, DATASET_COLUMN]:
        key = name.lower()
        if key in seen:
            raise ConfigError(
                f"{config_path}: the features tables would have the column {name!r} twice "
                f"(also as {seen[key]!r}; SQL names ignore case): rename the column or "
                "category in a view"
            )
        seen[key] = name
