"""The new project's text: its pipeline.toml, with comments that say what init found, and its
README."""

from __future__ import annotations

from pipeline.config.toml import toml_value
from pipeline.core.vocabulary import Task
from pipeline.tools.init.keyed import Keyed
from pipeline.tools.init.propose import Proposal


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
        f"by = {toml_value(keyed.hash_column)}",
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
        ['type = "duckdb"', f"path = {toml_value(warehouse)}"]
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
        f"labelled = {toml_value(labelled)}     # has the label; split into train and holdout",
    ]
    if unlabelled:
        lines.append(f"unlabelled = {toml_value(unlabelled)}  # scored only")
    else:
        lines.append('# unlabelled = "raw.new_rows"  # rows to score that have no label yet')
    lines += [
        f"output_schema = {toml_value(schema)}",
        "",
        "[columns]",
        *_id_comment(keyed, raw_table),
        f"id = {toml_value(id_column)}",
        f"label = {toml_value(label)}",
        f"task = {toml_value(proposal.task)}   # binary | multiclass | regression",
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
        lines += ["", "[[features]]"] + [f"{k} = {toml_value(v)}" for k, v in f.items()]
    for column, why in proposal.left_out:
        lines += [
            "",
            f"# left out: {column} ({why})",
            "# [[features]]",
            f"# column = {toml_value(column)}",
        ]
    estimator = (
        "sklearn.ensemble.HistGradientBoostingRegressor"
        if proposal.task == Task.regression
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
    pipeline show --config pipeline.toml

The overall holdout metrics of the model evaluated last (`metrics` holds every model's rows):

    pipeline sql --config pipeline.toml "SELECT metric, value FROM {schema}.metrics
        WHERE slice = 'all' AND model_id = (SELECT model_id FROM {schema}.runs
        WHERE stage = 'evaluate' AND status = 'success' ORDER BY ended_at DESC LIMIT 1)"

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
