"""`pipeline init`: a new project directory that runs end to end once it names its data.

With `--from-table`, the features are proposed from a SQL profile of the table: numbers become
numeric features (median-imputed), text with few distinct values becomes one-hot categorical
features (rare values folded), and text that is nearly unique per row (names, ticket numbers)
is left out, in a comment, since a model cannot generalise from it."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.templates import Templates
from pipeline.warehouse.base import Warehouse

NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
    "DECIMAL",
    "INT64",
    "FLOAT64",
    "NUMERIC",
    "BIGNUMERIC",
)
#: a text column with more distinct values than this share of its rows is an identifier
MAX_DISTINCT_SHARE = 0.5


@dataclass
class Proposal:
    task: str
    features: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (column, why)


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0] in NUMERIC


def propose(
    warehouse: Warehouse, templates: Templates, table: str, id_column: str, label: str
) -> Proposal:
    columns = dict(warehouse.describe(table))
    for needed in (id_column, label):
        if needed not in columns:
            raise ConfigError(f"table {table} has no column {needed!r}; it has {sorted(columns)}")
    sql = templates.render("profile/columns.sql", table=table, columns=list(columns)).sql
    profile = {r["column_name"]: r for r in warehouse.query_arrow(sql).to_pylist()}

    label_distinct = profile[label]["distinct_values"]
    if label_distinct == 2:
        task = "binary"
    elif not _is_numeric(columns[label]) or label_distinct <= 20:
        task = "multiclass"
    else:
        task = "regression"

    proposal = Proposal(task=task)
    for column, sql_type in columns.items():
        if column in (id_column, label):
            continue
        p = profile[column]
        rows, distinct = p["row_count"] or 1, p["distinct_values"]
        if p["nulls"] == p["row_count"]:
            proposal.left_out.append((column, "all null"))
        elif _is_numeric(sql_type):
            proposal.features.append({"column": column, "type": "numeric", "impute": "median"})
        elif distinct > MAX_DISTINCT_SHARE * rows and distinct > 20:
            proposal.left_out.append((column, f"{distinct} distinct values in {rows} rows"))
        else:
            proposal.features.append(
                {
                    "column": column,
                    "type": "categorical",
                    "impute": "mode",
                    "encode": "onehot",
                    "min_count": 5,
                }
            )
    return proposal


def _toml_value(value: Any) -> str:
    return json.dumps(value)


def config_text(
    *,
    warehouse: str,
    labelled: str,
    unlabelled: str | None,
    id_column: str,
    label: str,
    proposal: Proposal,
    schema: str,
) -> str:
    """The new project's pipeline.toml."""
    lines = [
        "# A project made by `pipeline init`. Relative paths are relative to this file.",
        "# Run it: pipeline run --config pipeline.toml",
        "",
        'sql_dir = "sql"',
        "",
        "[warehouse]",
        'type = "duckdb"',
        f"path = {_toml_value(warehouse)}",
        "",
        "[tables]",
        f"labelled = {_toml_value(labelled)}     # has the label; split into train and holdout",
    ]
    if unlabelled:
        lines.append(f"unlabelled = {_toml_value(unlabelled)}  # scored only")
    else:
        lines.append('# unlabelled = "raw.new_rows"  # rows to score that have no label yet')
    lines += [
        f"output_schema = {_toml_value(schema)}",
        "",
        "[columns]",
        f"id = {_toml_value(id_column)}",
        f"label = {_toml_value(label)}",
        f"task = {_toml_value(proposal.task)}   # binary | multiclass | regression",
        "",
        "[split]",
        "holdout_fraction = 0.2",
        'salt = "split-v1"',
        "",
        "# impute: median | mean | mode | constant (with fill_value) | none",
        "# categorical encode: onehot | ordinal | frequency, min_count folds rare values",
        '# numeric scale: none | standard | minmax, clip: "train_range" or [low, high]',
    ]
    for f in proposal.features:
        lines += ["", "[[features]]"] + [f"{k} = {_toml_value(v)}" for k, v in f.items()]
    for column, why in proposal.left_out:
        lines += ["", f"# left out: {column} ({why})", "# [[features]]", f'# column = "{column}"']
    estimator = (
        "sklearn.ensemble.HistGradientBoostingRegressor"
        if proposal.task == "regression"
        else "sklearn.ensemble.HistGradientBoostingClassifier"
    )
    lines += [
        "",
        "[model]",
        f'estimator = "{estimator}"',
        "",
        f"[model.params.{estimator.rpartition('.')[2]}]",
        "random_state = 0",
        "",
        "[evaluate]",
        "slices = []   # columns to break the metrics down by",
        "",
        "[scoring]",
        'executor = "auto"',
        "",
    ]
    return "\n".join(lines)


README = """# {name}

Made by `pipeline init`. Everything the pipeline does to the data is SQL in `sql/`, run in the
warehouse; `pipeline.toml` names the tables, the label, the features and the model.

    pipeline run --config pipeline.toml           # preprocess, train, predict, evaluate
    pipeline sql --config pipeline.toml "SELECT * FROM {schema}.metrics WHERE slice = 'all'"
    pipeline show --config pipeline.toml

Where your own cleaning goes: write it as SQL in the warehouse, as a view over the raw table,
and point `[tables] labelled` at the view; for example

    pipeline sql --config pipeline.toml "CREATE VIEW raw.clean_rows AS
        SELECT *, upper(trim(city)) AS city_code FROM raw.rows WHERE amount >= 0"

then list `city_code` under `[[features]]`. The templates in `sql/preprocess/` do the generic
part (typing, the split, imputation, encoding, scaling) from the config; edit them only to change
how every feature is prepared. A model keeps a copy of the templates it was trained with.
"""


def init_project(
    directory: Path,
    sql_source: Path,
    *,
    warehouse: Warehouse | None = None,
    warehouse_path: str = "warehouse.duckdb",
    from_table: str | None = None,
    unlabelled: str | None = None,
    id_column: str = "id",
    label: str = "label",
) -> Path:
    """Create the project; returns its config path. Refuses a directory that has a config."""
    config = directory / "pipeline.toml"
    if config.exists():
        raise ConfigError(f"{config} already exists; choose an empty directory")
    if not sql_source.is_dir():
        raise ConfigError(f"SQL templates {sql_source} not found")
    if from_table and warehouse is not None:
        proposal = propose(
            warehouse, Templates(sql_source, warehouse), from_table, id_column, label
        )
    else:
        proposal = Proposal(
            task="binary",
            features=[{"column": "feature_1", "type": "numeric", "impute": "median"}],
        )
    schema = "pipeline"
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(sql_source, directory / "sql", dirs_exist_ok=False)
    (directory / "models").mkdir(exist_ok=True)
    (directory / "models" / ".gitkeep").touch()
    (directory / ".gitignore").write_text(
        "warehouse.duckdb\n*.wal\nruns/\nmodels/*\n!models/.gitkeep\n"
    )
    (directory / "README.md").write_text(README.format(name=directory.name, schema=schema))
    config.write_text(
        config_text(
            warehouse=warehouse_path,
            labelled=from_table or "raw.my_table",
            unlabelled=unlabelled,
            id_column=id_column,
            label=label,
            proposal=proposal,
            schema=schema,
        )
    )
    return config
