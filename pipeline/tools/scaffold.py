"""`pipeline init`: a new project directory that runs end to end once it names its data.

With `--from-table`, the features are proposed from a SQL profile of the table: numbers become
numeric features (median-imputed), text with few distinct values becomes one-hot categorical
features (rare values folded), and text that is nearly unique per row (names, ticket numbers)
is left out, in a comment, since a model cannot generalise from it."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import PACKAGED_SQL
from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.render.templates import Templates, hash_tree, templates_for
from pipeline.stages.names import DATASET_COLUMN, PREDICTION_KEYS
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


#: a column that predicts the label alone at least this well is left out as likely leakage
LEAKAGE_THRESHOLD = 0.98
#: a column's values (or its NULLs) are tried as a lookup of the label only if each value (each
#: side) has this many rows on average: fewer, and a perfect lookup can be luck
MIN_ROWS_PER_VALUE = 20
#: the key column made for a table without an id
AUTO_ID = "row_key"
#: the keyed view's hash of the row's values alone: identical rows share it (the split's `by`)
ROW_HASH = "row_hash"
#: columns the pipeline writes: a raw column of that name is renamed (in the view or by `name`)
WRITTEN = {DATASET_COLUMN, *PREDICTION_KEYS}
#: why a column of consecutive integers is left out
ROW_NUMBERS = "row numbers"

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Proposal:
    task: str
    features: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (column, why)


@dataclass
class Keyed:
    """The table init profiles: the raw table itself, or a view over it (`<table>_keyed`) that
    adds a row key and gives plain names to the id and label."""

    table: str
    id_column: str
    label: str
    auto_id: bool = False
    renames: dict[str, str] = field(default_factory=dict)  # raw name -> plain name
    hash_column: str | None = None  # with auto_id: the row hash, shared by identical rows
    duplicates: int = 0  # rows identical to an earlier row (with auto_id)
    row_numbers: set[str] = field(default_factory=set)  # columns that number the rows


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0] in NUMERIC


def plain_name(name: str, taken: set[str]) -> str:
    """A plain identifier for a raw column name (`sample.yr` -> `sample_yr`, `größe` ->
    `grosse`), not one of `taken`; adds it to `taken`."""
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    text = text.encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "column"
    if base[0].isdigit():
        base = f"c_{base}"
    candidate, i = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        candidate, i = f"{base}_{i}", i + 1
    taken.add(candidate)
    return candidate


def tables_in(warehouse: Warehouse, schema: str) -> list[str]:
    """The tables of one schema (dataset), for an error message; empty if they cannot be listed."""
    lit = warehouse.dialect.literal
    if warehouse.dialect.name == "bigquery":
        sql = f"SELECT table_name FROM {warehouse.dialect.quote(schema)}.INFORMATION_SCHEMA.TABLES"
    else:
        sql = f"SELECT table_name FROM information_schema.tables WHERE table_schema = {lit(schema)}"
    try:
        return sorted(str(r["table_name"]) for r in warehouse.query_arrow(sql).to_pylist())
    except (WarehouseError, ValueError):
        return []


def output_schema_for(warehouse: Warehouse | None, directory: Path, notes: list[str]) -> str:
    """`pipeline`, unless another project has it already: then a schema named after this
    project's directory, so two projects in one warehouse never overwrite each other's
    tables. The schema is made here, so that a second init before either project has run
    sees it taken too."""
    if warehouse is None:
        return "pipeline"
    candidate = "pipeline"
    if warehouse.schema_exists(candidate):
        plain = re.sub(r"[^A-Za-z0-9_]+", "_", directory.name).strip("_").lower() or "project"
        base = candidate = f"pipeline_{plain}"
        i = 2
        while warehouse.schema_exists(candidate):
            candidate, i = f"{base}_{i}", i + 1
        notes.append(
            "the schema pipeline belongs to another project in this warehouse: this project "
            f"writes to {candidate} (output_schema)"
        )
    warehouse.ensure_schema(candidate)
    return candidate


def require_table(warehouse: Warehouse, table: str) -> list[tuple[str, str]]:
    """The table's columns; a one-line error naming the schema's tables if it does not exist."""
    if not warehouse.table_exists(table):
        schema = table.split(".")[0]
        found = tables_in(warehouse, schema)
        listed = ", ".join(f"{schema}.{t}" for t in found) if found else "none"
        raise ConfigError(f"table {table} does not exist; tables in {schema}: {listed}")
    return warehouse.describe(table)


def make_keyed(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    id_column: str | None,
    label: str | None,
) -> Keyed:
    """The table to build the project on: `table` itself when it has a plain id (and label),
    else a view `<table>_keyed` made here. `id_column` None or "auto": a row key is made."""
    columns = [c for c, _ in require_table(warehouse, table)]
    auto = id_column in (None, "auto")
    wanted = [] if auto else [id_column]
    if label is not None:
        wanted.append(label)
    for needed in wanted:
        if needed not in columns:
            raise ConfigError(f"table {table} has no column {needed!r}; it has {columns}")
    taken = {c for c in columns if _PLAIN.match(c)}
    taken |= WRITTEN
    renames = {c: _own_name(c, taken) for c in wanted if c and _needs_name(c)}
    key = plain_name(AUTO_ID, taken) if auto else None
    row_hash = plain_name(ROW_HASH, taken) if auto else None
    profile_sql = templates.render("profile/columns.sql", table=table, columns=columns).sql
    profile = {r["column_name"]: r for r in warehouse.query_arrow(profile_sql).to_pylist()}
    numbers = _row_numbers(warehouse, table, dict(require_table(warehouse, table)), profile)
    if not auto and not renames:
        return Keyed(table, str(id_column), str(label), row_numbers=numbers)
    view = f"{table}_keyed"
    # R's and pandas' row numbers differ between copies of a row: not part of its hash
    hashed = [c for c in columns if c not in numbers] or columns
    sql = templates.render(
        "profile/keyed.sql",
        hashed=hashed,
        view=view,
        table=table,
        columns=columns,
        key=key,
        hash=row_hash,
        renames=renames,
    ).sql
    warehouse.execute(sql)
    duplicates = 0
    if row_hash:
        h = warehouse.dialect.quote(row_hash, dotted=False)
        found = warehouse.query_arrow(
            f"SELECT count(*) - count(DISTINCT {h}) AS n FROM {warehouse.dialect.quote(view)}"
        ).to_pylist()
        duplicates = int(found[0]["n"] or 0)
    return Keyed(
        table=view,
        id_column=key or renames.get(str(id_column), str(id_column)),
        label=renames.get(str(label), str(label)),
        auto_id=auto,
        renames=renames,
        hash_column=row_hash,
        duplicates=duplicates,
        row_numbers={renames.get(c, c) for c in numbers},
    )


def _needs_name(column: str) -> bool:
    """A raw name a generated table cannot carry as it is: not plain, a name the pipeline
    writes (`dataset`, `score`...), or one like the columns it generates (`x__missing`)."""
    return not _PLAIN.match(column) or column.lower() in WRITTEN or "__" in column


def _own_name(column: str, taken: set[str]) -> str:
    """plain_name, with `dataset` -> `dataset_` and `a__b` -> `a_b`."""
    base = re.sub("_{2,}", "_", column)
    if base.lower() in WRITTEN and f"{base}_".lower() not in {t.lower() for t in taken}:
        taken.add(f"{base}_")
        return f"{base}_"
    return plain_name(base, taken)


def check_label(warehouse: Warehouse, table: str, label: str) -> int:
    """The rows without a label (they are left out of the labelled view); DataError when
    there is nothing to learn: no rows, no label in any row, or one label value in all."""
    columns = [c for c, _ in require_table(warehouse, table)]
    if label not in columns:
        raise ConfigError(f"table {table} has no column {label!r}; it has {columns}")
    col = warehouse.dialect.quote(label, dotted=False)
    found = warehouse.query_arrow(
        f"SELECT count(*) AS n, count({col}) AS labelled, count(DISTINCT {col}) AS values_, "
        f"CAST(min({col}) AS {warehouse.dialect.type_name('string')}) AS low "
        f"FROM {warehouse.dialect.quote(table)}"
    ).to_pylist()[0]
    rows, labelled = int(found["n"]), int(found["labelled"])
    if rows == 0:
        raise DataError(f"table {table} has no rows: nothing to propose features from")
    if labelled == 0:
        raise DataError(
            f"label column {label!r} of {table} is NULL in all {rows:,} rows: "
            "name the label with --label"
        )
    if int(found["values_"]) == 1:
        raise DataError(
            f"label column {label!r} of {table} has one value ({found['low']}) in all "
            f"{labelled:,} labelled rows: nothing to learn"
        )
    return rows - labelled


def _row_numbers(
    warehouse: Warehouse, table: str, columns: dict[str, str], profile: dict[str, Any]
) -> set[str]:
    """Integer columns whose values are the row numbers (R's unnamed first column, pandas'
    index): one distinct value per row, consecutive."""
    ints = [
        c
        for c, t in columns.items()
        if _is_numeric(t)
        and "INT" in t.upper()
        and profile[c]["nulls"] == 0
        and profile[c]["distinct_values"] == profile[c]["row_count"] > 1
    ]
    if not ints:
        return set()
    q = warehouse.dialect.quote
    sql = " UNION ALL ".join(
        f"SELECT {warehouse.dialect.literal(c)} AS c, max({q(c, dotted=False)}) - "
        f"min({q(c, dotted=False)}) + 1 AS span FROM {q(table)}"
        for c in ints
    )
    return {
        r["c"]
        for r in warehouse.query_arrow(sql).to_pylist()
        if int(r["span"]) == profile[r["c"]]["row_count"]
    }


def _leakage(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    label: str,
    task: str,
    columns: dict[str, str],
    profile: dict[str, dict[str, Any]],
    candidates: list[str],
) -> dict[str, str]:
    """Columns that predict the label almost perfectly on their own -> the figure that says so."""
    rows = int(profile[label]["row_count"] or 0)
    numeric = [c for c in candidates if _is_numeric(columns[c])]
    context: dict[str, Any] = {
        "table": table,
        "label": label,
        "positive": None,
        "auc": [],
        "value": [],
        "nulls": [],
        "corr": [],
    }
    if task == "regression":
        context["corr"] = numeric
    else:
        if task == "binary":
            top = warehouse.query_arrow(
                f"SELECT CAST(max({warehouse.dialect.column(label)}) AS "
                f"{warehouse.dialect.type_name('string')}) AS v "
                f"FROM {warehouse.dialect.quote(table)}"
            ).to_pylist()
            context["positive"] = top[0]["v"]
            context["auc"] = numeric
        context["value"] = [
            c for c in candidates if 1 < profile[c]["distinct_values"] * MIN_ROWS_PER_VALUE <= rows
        ]
        # both sides of NULL / not NULL big enough that a perfect split is not luck
        context["nulls"] = [
            c
            for c in candidates
            if MIN_ROWS_PER_VALUE <= profile[c]["nulls"] <= rows - MIN_ROWS_PER_VALUE
        ]
    if not any(context[k] for k in ("auc", "value", "nulls", "corr")):
        return {}
    sql = templates.render("profile/leakage.sql", **context).sql
    flagged: dict[str, str] = {}
    # the plainest evidence first: a NULL pattern, then a ranking, then a lookup of values
    order = {"null": 0, "auc": 1, "corr": 2, "value": 3}
    results = sorted(warehouse.query_arrow(sql).to_pylist(), key=lambda r: order[r["measure"]])
    for r in results:
        value = r["value"]
        if value is None:
            continue
        measure, column = r["measure"], r["column_name"]
        if measure == "auc":
            score, what = max(value, 1 - value), "AUC"
        elif measure == "corr":
            score, what = abs(value), "correlation"
        elif measure == "value":
            score, what = value, "balanced accuracy of its values"
        else:
            score, what = value, "balanced accuracy of its NULLs"
        if score > LEAKAGE_THRESHOLD and column not in flagged:
            flagged[column] = f"predicts the label alone: {what} {score:.3f} \u2014 leakage?"
    return flagged


def propose(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    id_column: str,
    label: str,
    row_numbers: set[str] | None = None,
    generated: tuple[str, ...] = (),
) -> Proposal:
    """Features from a profile of `table`; `row_numbers`: columns known to number the rows
    (found here when not given); `generated`: columns init's own view adds (the row hash),
    never features."""
    columns = dict(require_table(warehouse, table))
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
    candidates = []
    if row_numbers is None:
        row_numbers = _row_numbers(warehouse, table, columns, profile)
    taken = {c for c in columns if _PLAIN.match(c)} | WRITTEN
    for column, sql_type in columns.items():
        if column in (id_column, label, *generated):
            continue
        p = profile[column]
        rows, distinct = p["row_count"] or 1, p["distinct_values"]
        if p["nulls"] == p["row_count"]:
            proposal.left_out.append((column, "all null"))
        elif column in row_numbers:
            proposal.left_out.append(
                (column, f"{ROW_NUMBERS}, one per row; pass --id {column} to use them as the id")
            )
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
        if proposal.features and proposal.features[-1]["column"] == column:
            candidates.append(column)
            if _needs_name(column):
                # generated tables need plain names, none the pipeline writes itself: the
                # mapping is written into the config
                proposal.features[-1] = {
                    "column": column,
                    "name": _own_name(column, taken),
                    **{k: v for k, v in proposal.features[-1].items() if k != "column"},
                }
    leaky = _leakage(warehouse, templates, table, label, task, columns, profile, candidates)
    if leaky:
        proposal.left_out += [(c, why) for c, why in leaky.items()]
        proposal.features = [f for f in proposal.features if f["column"] not in leaky]
    return proposal


def _toml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _id_comment(keyed: Keyed | None, raw_table: str) -> list[str]:
    if keyed is None:
        return []
    lines = []
    if keyed.auto_id:
        lines += [
            f"# {raw_table} has no id column: init made the view {keyed.table} over it, whose",
            f"# {keyed.id_column} is a hash of the row's values (as text) plus the row's number",
            "# among identical rows. The same rows get the same keys on every run and engine,",
            "# and adding rows keeps existing keys; but identical rows are told apart only by",
            "# that number, and editing a row's values gives it a new key (and maybe the other",
            "# side of the split). Name a real id column here when the data has one.",
        ]
    for raw, plain in keyed.renames.items():
        lines.append(f"# {plain}: the raw column {raw!r}, renamed in the view {keyed.table}")
    return lines


def _split_by(keyed: Keyed | None, raw_table: str) -> list[str]:
    """The split's `by`: the row hash when init made one, so identical rows stay together."""
    if keyed is None or not keyed.hash_column:
        return [
            "# by: the column hashed for the split (default: the id); rows that share its value",
            '# (one patient\'s visits) stay on one side: by = "patient_id"',
        ]
    return [
        f"# by: the column hashed for the split. {keyed.hash_column} is the same for identical",
        "# rows, so copies of a row never straddle train and holdout (which would flatter the",
        f"# holdout metrics); {raw_table} has {keyed.duplicates:,} rows that copy an earlier row.",
        f"by = {_toml_value(keyed.hash_column)}",
    ]


def config_text(
    *,
    warehouse: str | list[str],
    labelled: str,
    unlabelled: str | None,
    id_column: str,
    label: str,
    proposal: Proposal,
    schema: str,
    keyed: Keyed | None = None,
    raw_table: str = "",
) -> str:
    """The new project's pipeline.toml. `warehouse` is a DuckDB path, or the lines of a
    [warehouse] section."""
    section = (
        ['type = "duckdb"', f"path = {_toml_value(warehouse)}"]
        if isinstance(warehouse, str)
        else warehouse
    )
    lines = [
        "# A project made by `pipeline init`. Relative paths are relative to this file.",
        "# Run it: pipeline run --config pipeline.toml",
        "",
        'sql_dir = "sql"',
        "",
        "[warehouse]",
        *section,
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
        *_id_comment(keyed, raw_table),
        f"id = {_toml_value(id_column)}",
        f"label = {_toml_value(label)}",
        f"task = {_toml_value(proposal.task)}   # binary | multiclass | regression",
        "",
        "[split]",
        "holdout_fraction = 0.2",
        'salt = "split-v1"',
        *_split_by(keyed, raw_table),
        "",
        "# impute: median | mean | mode | constant (with fill_value) | none",
        "# categorical encode: onehot | ordinal | frequency, min_count folds rare values",
        '# numeric scale: none | standard | minmax, clip: "train_range" or [low, high]',
        "# column: the raw table's column; name: the feature's name in the generated tables",
        "# (needed when the column's name is not letters, digits and _)",
    ]
    for f in proposal.features:
        lines += ["", "[[features]]"] + [f"{k} = {_toml_value(v)}" for k, v in f.items()]
    for column, why in proposal.left_out:
        lines += [
            "",
            f"# left out: {column} ({why})",
            "# [[features]]",
            f"# column = {_toml_value(column)}",
        ]
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

Where your own cleaning goes: write it as SQL in the warehouse, as a view over the table
`[tables] labelled` names ({source}{keyed}), and point `labelled` at the new view; for example

    pipeline sql --config pipeline.toml --write "CREATE VIEW raw.clean_rows AS
        SELECT *, upper(trim(city)) AS city_code FROM {source} WHERE amount >= 0"

then list `city_code` under `[[features]]` (the rows `[tables] unlabelled` names need the
column too: give them a view of their own the same way). The templates in `sql/preprocess/` do
the generic part (typing, the split, imputation, encoding, scaling) from the config; edit them
only to change how every feature is prepared. A model keeps a copy of the templates it was
trained with.
{notes}"""

AUTO_ID_NOTE = """
## The row key

`{raw}` has no id column, so `pipeline init` made the view `{view}` over it, and the project
reads that view. Its `{key}` is a hash of each row's values in a canonical text form plus the
row's number among identical rows: the same rows get the same keys on every run and engine, and
adding rows never changes an existing row's key (nor its side of the train/holdout split). The
caveats: identical rows are told apart only by that number, and editing any value of a row gives
it a new key. If the data has a real id, name it in `[columns] id` and `[tables]` instead.
"""


def _same_templates(a: Path, b: Path) -> bool:
    return hash_tree(a) == hash_tree(b)


def init_project(
    directory: Path,
    sql_source: Path | None = None,
    *,
    warehouse: Warehouse | None = None,
    warehouse_path: str | list[str] = "warehouse.duckdb",
    from_table: str | None = None,
    unlabelled: str | None = None,
    id_column: str | None = "id",
    label: str = "label",
    notes: list[str] | None = None,
) -> Path:
    """Create the project; returns its config path. Refuses a directory that has a config.
    `id_column` None or "auto": a row key is made (see `make_keyed`). Without `sql_source`,
    the templates that ship with the package are copied. `notes` gets what init found that the
    user should know (NULL labels, duplicate rows, row numbers), one line each."""
    unlabelled_made = False
    sql_source = sql_source or PACKAGED_SQL
    config = directory / "pipeline.toml"
    if config.exists():
        raise ConfigError(f"{config} already exists; choose an empty directory")
    if not sql_source.is_dir():
        raise ConfigError(f"SQL templates {sql_source} not found")
    existing_sql = directory / "sql"
    reuse_sql = existing_sql.exists() and _same_templates(existing_sql, sql_source)
    if existing_sql.exists() and not reuse_sql:
        raise ConfigError(
            f"{existing_sql} already exists and differs from the templates in {sql_source}; "
            "move it away or choose an empty directory"
        )
    keyed = None
    said = notes if notes is not None else []
    if from_table and warehouse is not None:
        templates = templates_for(sql_source, warehouse.dialect)
        # refused before the first write: init leaves no view behind for a table it cannot use
        unlabelled_rows = check_label(warehouse, from_table, label)
        keyed = make_keyed(warehouse, templates, from_table, id_column, label)
        labelled = keyed.table
        if unlabelled_rows:
            labelled = f"{from_table}_labelled"
            q = warehouse.dialect.quote
            where = f"{q(keyed.label, dotted=False)} IS {{}}NULL"
            warehouse.execute(
                f"CREATE OR REPLACE VIEW {q(labelled)} AS SELECT * FROM {q(keyed.table)} "
                f"WHERE {where.format('NOT ')}"
            )
            said.append(
                f"{unlabelled_rows:,} rows of {from_table} have no {label!r}: "
                f"{labelled} leaves them out"
            )
            if not unlabelled:
                unlabelled = f"{from_table}_unlabelled"
                warehouse.execute(
                    f"CREATE OR REPLACE VIEW {q(unlabelled)} AS SELECT * FROM {q(keyed.table)} "
                    f"WHERE {where.format('')}"
                )
                said.append(f"  and {unlabelled} holds them, to be scored")
                unlabelled_made = True
        proposal = propose(
            warehouse,
            templates,
            labelled,
            keyed.id_column,
            keyed.label,
            keyed.row_numbers,
            (keyed.hash_column,) if keyed.hash_column else (),
        )
        if unlabelled and not unlabelled_made:
            unkeyed = make_keyed(warehouse, templates, unlabelled, id_column, None)
            unlabelled = unkeyed.table
        id_name, label_name = keyed.id_column, keyed.label
        if not proposal.features:
            why = "; ".join(f"{c} ({reason})" for c, reason in proposal.left_out[:6])
            raise DataError(
                f"no column of {labelled} can be a feature, so a run would have nothing to "
                f"learn from: {why}; add columns, or list [[features]] by hand in a project "
                "made without --from-table"
            )
        if keyed.duplicates:
            said.append(
                f"{keyed.duplicates:,} rows of {from_table} are copies of an earlier row: the "
                f'split is by {keyed.hash_column} ([split] by = "{keyed.hash_column}"), so '
                "copies stay on one side"
            )
        for column, why in proposal.left_out:
            if why.startswith(ROW_NUMBERS):
                said.append(f"{column}: {why}")
    else:
        proposal = Proposal(
            task="binary",
            features=[{"column": "feature_1", "type": "numeric", "impute": "median"}],
        )
        labelled = from_table or "raw.my_table"
        # no table to make a key view over: the placeholder names a column to fill in
        id_name = "id" if id_column in (None, "auto") else str(id_column)
        label_name = label
    schema = output_schema_for(warehouse, directory, said)
    directory.mkdir(parents=True, exist_ok=True)
    if not reuse_sql:
        shutil.copytree(sql_source, existing_sql)
    (directory / "models").mkdir(exist_ok=True)
    (directory / "models" / ".gitkeep").touch()
    (directory / ".gitignore").write_text(
        "warehouse.duckdb\n*.wal\nruns/\nmodels/*\n!models/.gitkeep\n"
    )
    readme_notes = ""
    if keyed is not None and keyed.auto_id:
        readme_notes = AUTO_ID_NOTE.format(raw=from_table, view=keyed.table, key=keyed.id_column)
    (directory / "README.md").write_text(
        README.format(
            name=directory.name,
            schema=schema,
            notes=readme_notes,
            source=labelled,
            keyed=(
                f", which adds {keyed.id_column} to {from_table}: build on it, not on the raw "
                "table, to keep the key"
                if keyed is not None and keyed.auto_id
                else ""
            ),
        )
    )
    config.write_text(
        config_text(
            warehouse=warehouse_path,
            labelled=labelled,
            unlabelled=unlabelled,
            id_column=id_name,
            label=label_name,
            proposal=proposal,
            schema=schema,
            keyed=keyed,
            raw_table=from_table or "",
        )
    )
    return config
