"""Bad input gets a clear one-line-per-cause error and a non-zero exit code, and leaves every
warehouse table and the model directory as they were (checksums before and after).

The run ledger is the one table that changes on a failure, by design: it records the failed
stage and its error."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.vocabulary import TypeFamily
from pipeline.model.meta import Provenance, RawType, raw_types_from_json, raw_types_json
from pipeline.model.trained import TrainedModel
from pipeline.stages.base import RunOptions
from pipeline.stages.project import Project
from pipeline.stages.raw_types import type_family
from pipeline.stages.runner import run_stages
from pipeline.stages.train import train_from_data
from tests.conftest import REPO, OptionsFactory

runner = CliRunner()


def warehouse_checksums(path: Path) -> dict[str, str]:
    """A checksum of every table's rows (in any order) and schema, except the ledger: the
    engine hashes each row and sums the hashes, so no row crosses into Python. Views hold no
    rows of their own (latest_predictions reads predictions), so they are left out."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE NOT (table_schema = 'pipeline' AND table_name = 'runs') "
            "AND table_type = 'BASE TABLE'"
        ).fetchall()
        out = {}
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            rel = con.sql(f"SELECT * FROM {name}")
            rows = con.sql(
                f"SELECT count(*), sum(hash(t)::HUGEINT), sum(hash(t::VARCHAR)::HUGEINT) "
                f"FROM {name} AS t"
            ).fetchall()
            digest = hashlib.sha256(repr((rel.columns, rel.types, rows)).encode()).hexdigest()
            out[f"{schema}.{table}"] = digest
        return out
    finally:
        con.close()


def directory_checksums(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def sql(config: Path, statement: str) -> None:
    text = config.read_text()
    path = text.split('path = "', 1)[1].split('"', 1)[0]
    con = duckdb.connect(path)
    con.execute(statement)
    con.close()


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text, old
    config.write_text(text.replace(old, new, 1))


def break_template(config: Path) -> None:
    sql_dir = config.parent / "sql"
    shutil.copytree(REPO / "sql", sql_dir)
    clean = sql_dir / "preprocess" / "clean.sql"
    clean.write_text(
        clean.read_text().replace("FROM {{ src.table | ident }}", "FROM {{ src.tabel }}")
    )
    text = config.read_text()
    config.write_text(text.replace(f'"{(REPO / "sql").as_posix()}"', '"sql"'))


def drop_test_column(config: Path) -> None:
    sql(config, "ALTER TABLE raw.titanic_test DROP COLUMN Embarked")


def both_tables(config: Path, statement: str) -> None:
    """Run `statement` ({t} is the table) on the labelled and the unlabelled table."""
    for table in ("raw.titanic_train", "raw.titanic_test"):
        sql(config, statement.format(t=table))


def add_feature(config: Path, column: str, type_: str = "numeric") -> None:
    both_tables(config, f"ALTER TABLE {{t}} ADD COLUMN {column} DOUBLE DEFAULT 1")
    edit(config, "[model]", f'[[features]]\ncolumn = "{column}"\ntype = "{type_}"\n\n[model]')


def output_over_input(config: Path) -> None:
    # the outputs go to schema RAW, where the test rows are now called predictions
    sql(config, "ALTER TABLE raw.titanic_test RENAME TO predictions")
    edit(config, 'unlabelled = "raw.titanic_test"', 'unlabelled = "raw.predictions"')
    edit(config, 'output_schema = "pipeline"', 'output_schema = "RAW"')


def id_named_score(config: Path) -> None:
    both_tables(config, "ALTER TABLE {t} RENAME PassengerId TO score")
    edit(config, 'id = "PassengerId"', 'id = "score"')


def change_test_column_type(config: Path) -> None:
    sql(config, "ALTER TABLE raw.titanic_test ALTER Pclass TYPE BOOLEAN USING Pclass > 1")


CASES: list[tuple[str, Callable[[Path], None], list[str], int, str]] = [
    ("malformed config", lambda c: c.write_text("[warehouse\n"), ["run"], 2, "not valid TOML"),
    (
        "missing table",
        lambda c: edit(c, 'labelled = "raw.titanic_train"', 'labelled = "raw.nope"'),
        ["run"],
        2,
        "raw table raw.nope (named in",
    ),
    (
        "missing column",
        lambda c: edit(c, 'column = "SibSp"', 'column = "Siblings"'),
        ["run"],
        2,
        "table raw.titanic_train has no column 'Siblings'",
    ),
    (
        "injection in a name",
        lambda c: edit(
            c, 'id = "PassengerId"', 'id = "PassengerId\\"; DROP TABLE raw.titanic_train; --"'
        ),
        ["run"],
        2,
        "is not a valid identifier",
    ),
    (
        "label the task does not allow",
        lambda c: sql(c, "UPDATE raw.titanic_train SET Survived = 7 WHERE PassengerId IN (4, 9)"),
        ["run"],
        4,
        "table raw.titanic_train, column Survived: rule 'at most 2 distinct values' broken by 3 "
        "distinct values (values 0, 1, 7)",
    ),
    (
        "null ids",
        lambda c: sql(c, "UPDATE raw.titanic_test SET PassengerId = NULL WHERE PassengerId > 540"),
        ["run"],
        4,
        "table raw.titanic_test, column PassengerId: rule 'not null' broken by 10 rows",
    ),
    (
        "duplicate ids",
        lambda c: sql(
            c,
            "INSERT INTO raw.titanic_train SELECT * FROM raw.titanic_train WHERE PassengerId IN (12, 30)",
        ),
        ["run"],
        4,
        "table raw.titanic_train, column PassengerId: rule 'unique' broken by 4 rows "
        "(PassengerId 12, 30)",
    ),
    (
        "empty training split",
        lambda c: sql(c, "DELETE FROM raw.titanic_train"),
        ["run"],
        4,
        "the training split of raw.titanic_train is empty",
    ),
    (
        "feature all null",
        lambda c: sql(c, "UPDATE raw.titanic_train SET Fare = NULL"),
        ["run"],
        4,
        "table raw.titanic_train, column Fare: rule 'not all null' broken by 400 rows",
    ),
    (
        "text in a numeric column",
        lambda c: sql(
            c,
            "ALTER TABLE raw.titanic_train ALTER Age TYPE VARCHAR; "
            "UPDATE raw.titanic_train SET Age = 'about forty' WHERE PassengerId IN (2, 3)",
        ),
        ["run"],
        4,
        "table raw.titanic_train, column Age: rule 'numeric (holds text)' broken by 2 rows "
        "(PassengerId 2, 3)",
    ),
    (
        "NaN and infinity",
        lambda c: sql(
            c,
            "UPDATE raw.titanic_test SET Fare = 'nan'::DOUBLE WHERE PassengerId = 410; "
            "UPDATE raw.titanic_test SET Fare = 'inf'::DOUBLE WHERE PassengerId = 420",
        ),
        ["run"],
        4,
        "table raw.titanic_test, column Fare: rule 'finite (holds NaN or infinity)' broken by 2 "
        "rows (PassengerId 410, 420)",
    ),
    (
        "value outside a declared range",
        lambda c: sql(c, "UPDATE raw.titanic_train SET Age = 130 WHERE PassengerId = 5"),
        ["run"],
        4,
        "table raw.titanic_train, column Age: rule 'max 120' broken by 1 row (PassengerId 5)",
    ),
    (
        "value not in a declared list",
        lambda c: sql(c, "UPDATE raw.titanic_test SET Sex = 'unknown' WHERE PassengerId = 401"),
        ["run"],
        4,
        "table raw.titanic_test, column Sex: rule 'accepted values ['male', 'female']' broken by 1 row",
    ),
    (
        "template error",
        break_template,
        ["run"],
        6,
        "clean.sql, line 33: 'dict object' has no attribute 'tabel'",
    ),
    (
        "model trained on other features",
        drop_test_column,
        ["run", "--stage", "predict"],
        2,
        "table raw.titanic_test has no column 'Embarked' (model ",
    ),
    (
        "estimator that cannot be imported",
        lambda c: edit(
            c,
            'estimator = "sklearn.ensemble.RandomForestClassifier"',
            'estimator = "sklearn.ensemble.NoSuchForest"',
        ),
        ["run"],
        2,
        "[model] estimator 'sklearn.ensemble.NoSuchForest' cannot be imported",
    ),
    (
        "estimator parameter that does not exist",
        lambda c: edit(c, "n_estimators = 25", "n_trees = 25"),
        ["run"],
        2,
        "[model.params] do not fit sklearn.ensemble.RandomForestClassifier",
    ),
    (
        "output table that is an input table",
        output_over_input,
        ["run"],
        2,
        "output table RAW.predictions (output_schema 'RAW') is the unlabelled input table "
        "raw.predictions named in [tables]",
    ),
    (
        "labelled table where an output table goes",
        lambda c: (
            sql(c, "ALTER TABLE raw.titanic_train RENAME TO clean"),
            edit(c, 'labelled = "raw.titanic_train"', 'labelled = "raw.clean"'),
            edit(c, 'output_schema = "pipeline"', 'output_schema = "raw"'),
        ),
        ["run", "--stage", "preprocess"],
        2,
        "output table raw.clean (output_schema 'raw') is the labelled input table raw.clean "
        "named in [tables]",
    ),
    (
        "id column named like a predictions column",
        id_named_score,
        ["run"],
        2,
        "id column 'score' collides with the predictions column 'score'",
    ),
    (
        "feature named like a missing indicator",
        lambda c: add_feature(c, "age__MISSING"),
        ["run"],
        2,
        "feature 'age__MISSING' collides with the column 'Age__missing' that feature 'Age' "
        "generates",
    ),
    (
        "feature named like a one-hot column",
        lambda c: add_feature(c, "Sex__male"),
        ["run"],
        2,
        "feature 'Sex__male' may collide with the one-hot columns Sex__<category> that feature "
        "'Sex' generates",
    ),
    (
        "feature named dataset",
        lambda c: add_feature(c, "dataset"),
        ["run"],
        2,
        "feature 'dataset' collides with the column 'dataset' that sql/preprocess/clean.sql adds",
    ),
    (
        "category whose column differs from another only in case",
        lambda c: (
            edit(c, 'accepted = ["male", "female"]', 'accepted = ["male", "female", "Unknown"]'),
            sql(c, "UPDATE raw.titanic_train SET Sex = 'Unknown' WHERE PassengerId < 60"),
        ),
        ["run"],
        2,
        "the features tables would have the column 'Sex__unknown' twice (also as 'Sex__Unknown'",
    ),
    (
        "label with one class",
        lambda c: sql(c, "UPDATE raw.titanic_train SET Survived = 0"),
        ["run"],
        4,
        "task 'binary' needs 2 values of label 'Survived' in the training split of "
        "raw.titanic_train, found 1",
    ),
    (
        "test column whose type changed since training",
        change_test_column_type,
        ["run", "--stage", "predict"],
        4,
        "table raw.titanic_test, column Pclass: type BOOLEAN is not the type INTEGER model "
        "randomforestclassifier-",
    ),
    (
        "test column whose type differs from the training table's",
        change_test_column_type,
        ["run"],
        4,
        "table raw.titanic_test, column Pclass: type BOOLEAN is not the type INTEGER the model "
        "is trained on (raw.titanic_train)",
    ),
    (
        "model trained for another task",
        lambda c: edit(c, 'task = "binary"', 'task = "multiclass"'),
        ["run", "--stage", "predict"],
        2,
        "was trained for task 'binary' but pipeline.toml says 'multiclass' ([columns] task)",
    ),
]


@pytest.mark.parametrize(
    ("name", "breakage", "args", "code", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_and_changes_nothing(
    good_project: Path,
    name: str,
    breakage: Callable[[Path], None],
    args: list[str],
    code: int,
    message: str,
) -> None:
    config = good_project  # a good state to protect: a whole run made it
    warehouse, models = config.parent / "warehouse.duckdb", config.parent / "models"
    breakage(config)
    before = (warehouse_checksums(warehouse), directory_checksums(models))

    result = runner.invoke(app, [*args, "--config", str(config)])

    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("error: ") == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert (warehouse_checksums(warehouse), directory_checksums(models)) == before


def test_tampered_model_is_refused_from_the_cli(ran_project: OptionsFactory) -> None:
    options = ran_project()
    model_dir = next(options.models_dir.iterdir())
    stats = model_dir / "stats.json"
    stats.write_text(stats.read_text().replace("0", "1", 1))
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    result = runner.invoke(app, ["run", "--stage", "predict", "-c", str(options.config_path)])
    assert result.exit_code == 5
    assert f"{stats} does not match its sha256" in result.output
    assert warehouse_checksums(warehouse) == before


def run_cli(options: RunOptions, *args: str) -> Result:
    config = options.config_path
    return runner.invoke(app, [*args, "--config", str(config), "--out", str(options.out_dir)])


def predictions(config: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(config.parent / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(
            "SELECT model_id, dataset, PassengerId, prediction, score FROM pipeline.predictions "
            "ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_models_dir_train_cannot_write_is_refused_first(
    ran_project: OptionsFactory, where: str
) -> None:
    options = ran_project()
    warehouse = options.config_path.parent / "warehouse.duckdb"
    blocker = options.config_path.parent / "not-a-dir"
    blocker.write_text("x")
    models = blocker if where == "file" else blocker / "models"
    before = warehouse_checksums(warehouse)

    result = run_cli(options, "run", "--models-dir", str(models))

    assert result.exit_code == 2, result.output
    expected = "is a file, not a directory" if where == "file" else "is not writable"
    assert f"error: models directory {models} {expected}" in result.output
    assert warehouse_checksums(warehouse) == before


def test_missing_model_dir_is_refused_before_preprocess_writes(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    warehouse = options.config_path.parent / "warehouse.duckdb"
    sql(
        options.config_path, "UPDATE raw.titanic_train SET Fare = Fare + 1"
    )  # preprocess would write
    before = (warehouse_checksums(warehouse), directory_checksums(options.models_dir))
    missing = options.config_path.parent / "no-such-model"

    result = run_cli(options, "run", "--model-dir", str(missing))

    assert result.exit_code == 3, result.output
    assert f"error: model directory {missing} not found" in result.output
    assert (warehouse_checksums(warehouse), directory_checksums(options.models_dir)) == before


def test_changed_type_is_cast_back_when_the_config_says_so(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    config = options.config_path
    baseline = predictions(config)
    sql(config, "ALTER TABLE raw.titanic_test ALTER SibSp TYPE VARCHAR")

    refused = run_cli(options, "run", "--stage", "predict")
    assert refused.exit_code == 4, refused.output
    assert "table raw.titanic_test, column SibSp: type VARCHAR is not the type BIGINT" in (
        refused.output
    )

    edit(config, "batch_rows = 50000", 'batch_rows = 50000\non_type_change = "cast"')
    for executor in ("inprocess", "warehouse"):
        result = run_cli(options, "run", "--stage", "predict", "--executor", executor)
        assert result.exit_code == 0, result.output
        assert (
            "predict: cast raw.titanic_test.SibSp from VARCHAR to BIGINT, the type model "
            in result.output
        )
        assert predictions(config) == baseline, executor


def test_model_json_records_raw_types_without_changing_the_model_id(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    (model_dir,) = options.models_dir.iterdir()
    meta = TrainedModel.read_meta(model_dir)
    assert meta.raw_types is not None
    assert meta.raw_types["Pclass"] == RawType("INTEGER", TypeFamily.numeric)
    assert meta.raw_types["Sex"] == RawType("VARCHAR", TypeFamily.string)
    model = TrainedModel.load(model_dir)
    with Project.open(options.config_path) as project:
        again = train_from_data(
            project.warehouse.query_arrow(
                "SELECT * FROM pipeline.features_train ORDER BY PassengerId"
            ),
            model.stats,
            project.spec,
            project.config.model.estimator,
            project.config.model.params,
            project.config.task,
            project.config.sql_dir,
            provenance=Provenance(template_hashes=meta.template_hashes),
            bins=model.bins,
        )
    assert again.meta.raw_types is None
    assert again.model_id == meta.model_id


def test_model_without_raw_types_is_scored_with_a_note(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    (model_dir,) = options.models_dir.iterdir()
    model = TrainedModel.load(model_dir)
    model.meta = replace(model.meta, raw_types=None)
    old = model.save(tmp_path / "old-models")

    result = run_cli(options, "run", "--stage", "predict", "--model-dir", str(old))

    assert result.exit_code == 0, result.output
    assert (
        f"predict: model {model.model_id} records no raw column types (saved by an older "
        "pipeline): type changes are not checked"
    ) in result.output


def test_nothing_to_score_writes_zero_rows_and_leaves_no_stale_ones(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    config = options.config_path
    (model_id,) = {row[0] for row in predictions(config)}
    sql(config, "DELETE FROM raw.titanic_test; DELETE FROM raw.titanic_train")

    result = run_cli(options, "run", "--stage", "predict")

    assert result.exit_code == 0, result.output
    assert (
        "predict: no rows to score in raw.titanic_test and the holdout of raw.titanic_train: "
        f"wrote 0 rows, and model {model_id} has no rows left in pipeline.predictions"
    ) in result.output
    assert predictions(config) == []

    evaluated = run_cli(options, "run", "--stage", "evaluate")
    assert evaluated.exit_code == 3, evaluated.output
    assert f"error: no holdout predictions of model {model_id}" in evaluated.output


def test_compare_with_an_unknown_model_id_names_the_evaluated_ones(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    (model_id,) = {row[0] for row in predictions(options.config_path)}

    result = runner.invoke(
        app, ["compare", "nosuch-123", model_id, "--config", str(options.config_path)]
    )

    assert result.exit_code == 3, result.output
    assert (
        f"error: model nosuch-123 has no holdout metrics in pipeline.metrics: evaluated models "
        f"are {model_id}"
    ) in result.output


@pytest.mark.parametrize(
    ("types", "family"),
    [
        (
            ["INTEGER", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL(10,2)", "INT64", "FLOAT64"],
            TypeFamily.numeric,
        ),
        (["NUMERIC", "BIGNUMERIC", "HUGEINT", "UTINYINT"], TypeFamily.numeric),
        (["BOOLEAN", "BOOL"], TypeFamily.boolean),
        (["VARCHAR", "STRING"], TypeFamily.string),
        (["DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DATETIME"], TypeFamily.temporal),
        (["BLOB", " blob "], "blob"),  # a type of no known family is its own
    ],
)
def test_type_families(types: list[str], family: TypeFamily | str) -> None:
    assert {type_family(t) for t in types} == {family}


def test_raw_types_round_trip_model_json_with_known_and_other_families() -> None:
    recorded = {
        "Pclass": {"type": "INTEGER", "family": "numeric"},
        "Photo": {"type": "BLOB", "family": "blob"},
    }
    types = raw_types_from_json(recorded)
    assert types == {
        "Pclass": RawType("INTEGER", TypeFamily.numeric),
        "Photo": RawType("BLOB", "blob"),
    }
    assert type(types["Pclass"].family) is TypeFamily
    assert raw_types_json(types) == recorded


def test_int_to_float_is_the_same_family_and_scores_alike(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    config = options.config_path
    baseline = predictions(config)
    sql(config, "ALTER TABLE raw.titanic_test ALTER SibSp TYPE DOUBLE")

    result = run_cli(options, "run", "--stage", "predict")

    assert result.exit_code == 0, result.output
    assert "cast" not in result.output
    assert predictions(config) == baseline


def test_an_unused_raw_column_named_dataset_changes_nothing(
    synthetic_project: OptionsFactory,
) -> None:
    """clean.sql names its own `dataset` column; a raw one it does not select is no clash."""
    options = synthetic_project()
    sql(options.config_path, "ALTER TABLE raw.titanic_train ADD COLUMN dataset VARCHAR DEFAULT 'x'")
    edit(options.config_path, 'slices = ["Pclass", "Sex"]', 'slices = ["Pclass", "dataset"]')

    result = run_cli(options, "run")

    assert result.exit_code == 0, result.output
    assert "preprocess: train 326, holdout 74, test 150 rows" in result.output


# --- every case below: the exact error line, the exit code, no traceback, and the warehouse,
# the models directory and the project's other files as they were ------------------------


@pytest.fixture
def good_project(ran_state: Path, tmp_path: Path) -> Path:
    """A copy of one whole run (the session's `ran_state`) to break; returns its config."""
    directory = tmp_path / "project"
    shutil.copytree(ran_state, directory)
    config = directory / "pipeline.toml"
    config.write_text(config.read_text().replace(ran_state.as_posix(), directory.as_posix()))
    return config


def project_files(directory: Path) -> dict[str, str]:
    """Every file of the project but the run records a refused run writes (runs/, and the
    warehouse's ledger table: the warehouse is compared table by table)."""
    return {
        name: digest
        for name, digest in directory_checksums(directory).items()
        if not name.startswith("runs/") and not name.startswith("warehouse.duckdb")
    }


def replace_sql_dir(config: Path, change: Callable[[Path], None]) -> None:
    """The templates copied into the project, changed, and named in the config."""
    sql_dir = config.parent / "sql"
    shutil.copytree(REPO / "sql", sql_dir)
    change(sql_dir)
    edit(config, f'"{(REPO / "sql").as_posix()}"', '"sql"')


def features_sql(change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(sql_dir: Path) -> None:
        path = sql_dir / "preprocess" / "features.sql"
        path.write_text(change(path.read_text()))

    return apply


def key_file(config: Path, name: str = "signing.key") -> Path:
    from pipeline.core.keys import write_key

    path = config.parent.parent / name  # outside the project: the key is not part of it
    if not path.exists():
        write_key(path)
    return path


def configure_key(config: Path, path: Path) -> None:
    edit(
        config,
        "[model.params.RandomForestClassifier]",
        f'signing_key = "{path.as_posix()}"\n\n[model.params.RandomForestClassifier]',
    )


def train_signed(config: Path) -> None:
    """Train again with a signing key, so the newest model directory is signed."""
    configure_key(config, key_file(config))
    result = runner.invoke(app, ["run", "--stage", "train", "--config", str(config)])
    assert result.exit_code == 0, result.output


def newest_model(config: Path) -> Path:
    return max((config.parent / "models").iterdir(), key=lambda p: p.stat().st_mtime_ns)


def tamper_signed_pickle(config: Path) -> None:
    train_signed(config)
    pickle = newest_model(config) / "model.joblib"
    data = bytearray(pickle.read_bytes())
    data[-10] ^= 1
    pickle.write_bytes(bytes(data))


def signed_with_another_key(config: Path) -> None:
    train_signed(config)
    edit(config, key_file(config).as_posix(), key_file(config, "other.key").as_posix())


def write_file(config: Path, name: str, data: bytes) -> None:
    (config.parent / name).write_bytes(data)


def use_estimator(config: Path, estimator: str) -> None:
    edit(
        config,
        'estimator = "sklearn.ensemble.RandomForestClassifier"',
        f'estimator = "{estimator}"',
    )


def feature_line(config: Path, column: str, old: str, new: str) -> None:
    """Edit the first `old` line after the [[features]] entry of `column`."""
    text = config.read_text()
    start = text.index(f'column = "{column}"')
    at = text.index(old, start)
    config.write_text(text[:at] + new + text[at + len(old) :])


def regression_on_text_labels(config: Path) -> None:
    edit(config, 'task = "binary"', 'task = "regression"')
    use_estimator(config, "sklearn.ensemble.RandomForestRegressor")
    edit(config, "[model.params.RandomForestClassifier]", "[model.params.RandomForestRegressor]")
    edit(config, "accepted = [0, 1]", "min = 0")
    sql(
        config,
        "ALTER TABLE raw.titanic_train ALTER Survived TYPE VARCHAR; "
        "UPDATE raw.titanic_train SET Survived = 'yes' WHERE PassengerId = 3",
    )


def unimputed_age_for_logistic_regression(config: Path) -> None:
    use_estimator(config, "sklearn.linear_model.LogisticRegression")
    feature_line(config, "Age", 'impute = "median"', 'impute = "none"')


def unimputed_age_in_features_train(config: Path) -> None:
    """features_train made with a tree, which takes NaN; then the config names one that does
    not and only train runs, so no contract sees the raw nulls."""
    feature_line(config, "Age", 'impute = "median"', 'impute = "none"')
    result = runner.invoke(app, ["run", "--stage", "preprocess", "--config", str(config)])
    assert result.exit_code == 0, result.output
    use_estimator(config, "sklearn.linear_model.LogisticRegression")


def fare_beyond_float32(config: Path) -> None:
    sql(config, "UPDATE raw.titanic_train SET Fare = 1e300 WHERE PassengerId = 7")
    result = runner.invoke(app, ["run", "--stage", "preprocess", "--config", str(config)])
    assert result.exit_code == 0, result.output


def fare_squared_beyond_double(config: Path) -> None:
    edit(config, 'task = "binary"', 'task = "regression"')
    use_estimator(config, "sklearn.linear_model.Ridge")
    sql(config, "UPDATE raw.titanic_train SET Fare = 1e200 WHERE PassengerId = 7")
    result = runner.invoke(app, ["run", "--stage", "preprocess", "--config", str(config)])
    assert result.exit_code == 0, result.output


def all_null_fare_scaled(config: Path, scale: str) -> None:
    sql(config, "UPDATE raw.titanic_train SET Fare = NULL")
    feature_line(config, "Fare", 'impute = "median"', f'impute = "none"\nscale = "{scale}"')


#: (name, breakage, command, exit code, the exact message: {d} is the project directory)
EXACT: list[tuple[str, Callable[[Path], None], list[str], int, str]] = [
    # --- config typos and values out of range, one per section
    (
        "key typo in [columns]",
        lambda c: edit(c, 'task = "binary"', 'tsak = "binary"'),
        ["run"],
        2,
        "{d}/pipeline.toml: [columns] tsak: unknown key; did you mean 'task'?",
    ),
    (
        "key typo in [scoring]",
        lambda c: edit(c, "workers = 0", "wokers = 0"),
        ["run"],
        2,
        "{d}/pipeline.toml: [scoring] wokers: unknown key; did you mean 'workers'?",
    ),
    (
        "workers as text",
        lambda c: edit(c, "workers = 0", 'workers = "four"'),
        ["run"],
        2,
        '{d}/pipeline.toml: [scoring] workers: "four" is not a whole number',
    ),
    (
        "holdout fraction above 1",
        lambda c: edit(c, "holdout_fraction = 0.2", "holdout_fraction = 1.5"),
        ["run"],
        2,
        "{d}/pipeline.toml: [split] holdout_fraction: 1.5 is out of range: must be between 0 and 1",
    ),
    (
        "unknown warehouse type",
        lambda c: edit(c, 'type = "duckdb"', 'type = "oracle"'),
        ["run"],
        2,
        '{d}/pipeline.toml: [warehouse] type: "oracle" is not one of duckdb, bigquery',
    ),
    (
        "unknown executor",
        lambda c: edit(c, 'executor = "auto"', 'executor = "spark"'),
        ["run"],
        2,
        '{d}/pipeline.toml: [scoring] executor: "spark" is not one of auto, process, thread, '
        "inprocess, dask, warehouse",
    ),
    (
        "batch_rows 0",
        lambda c: edit(c, "batch_rows = 50000", "batch_rows = 0"),
        ["run"],
        2,
        "{d}/pipeline.toml: [scoring] batch_rows: 0 is out of range: must be 1 or more",
    ),
    (
        "calibration_bins 0",
        lambda c: edit(c, "calibration_bins = 10", "calibration_bins = 0"),
        ["run"],
        2,
        "{d}/pipeline.toml: [evaluate] calibration_bins: 0 is out of range: must be from 1 to 1000",
    ),
    (
        "threshold 2",
        lambda c: edit(c, "calibration_bins = 10", "calibration_bins = 10\nthreshold = 2"),
        ["run"],
        2,
        "{d}/pipeline.toml: [evaluate] threshold: 2 is out of range: must be from 0 to 1",
    ),
    (
        "clip low above high",
        lambda c: feature_line(c, "Fare", 'impute = "median"', 'impute = "median"\nclip = [5, 1]'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Fare' clip: [5, 1] is not \"train_range\" or [low, high]",
    ),
    (
        "min_count -1",
        lambda c: edit(c, 'encode = "onehot"', 'encode = "onehot"\nmin_count = -1'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Sex' min_count: -1 is out of range: must be 0 or more",
    ),
    (
        "max_categories 0",
        lambda c: edit(c, 'encode = "onehot"', 'encode = "onehot"\nmax_categories = 0'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Sex' max_categories: 0 is out of range: must be 1 or "
        "more",
    ),
    (
        "impute constant without fill_value",
        lambda c: feature_line(c, "Fare", 'impute = "median"', 'impute = "constant"'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Fare': impute \"constant\" needs fill_value",
    ),
    (
        "encode on a numeric feature",
        lambda c: feature_line(
            c, "Fare", 'impute = "median"', 'impute = "median"\nencode = "onehot"'
        ),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Fare': encode applies to categorical columns only",
    ),
    (
        "feature listed twice",
        lambda c: edit(c, 'column = "Fare"', 'column = "Age"'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Age' is listed twice",
    ),
    (
        "feature that is the label",
        lambda c: edit(c, 'column = "Fare"', 'column = "Survived"'),
        ["run"],
        2,
        "{d}/pipeline.toml: [[features]] 'Survived' is also the id or label column",
    ),
    # --- estimators: a config is data, not code
    (
        "estimator subprocess.Popen",
        lambda c: use_estimator(c, "subprocess.Popen"),
        ["run"],
        2,
        "[model] estimator 'subprocess.Popen' is outside the allowed packages ['sklearn']; add "
        "its package to [model] packages if you trust it",
    ),
    (
        "estimator os.system",
        lambda c: use_estimator(c, "os.system"),
        ["run"],
        2,
        "[model] estimator 'os.system' is outside the allowed packages ['sklearn']; add its "
        "package to [model] packages if you trust it",
    ),
    (
        "estimator in an allowed package but no estimator",
        lambda c: (
            use_estimator(c, "collections.OrderedDict"),
            edit(c, "[model.params.R", 'packages = ["collections"]\n\n[model.params.R'),
        ),
        ["run"],
        2,
        "[model] estimator 'collections.OrderedDict' is not a scikit-learn estimator class "
        "(a subclass of sklearn.base.BaseEstimator)",
    ),
    (
        "estimator a scikit-learn class that is no estimator",
        lambda c: use_estimator(c, "sklearn.utils.Bunch"),
        ["run"],
        2,
        "[model] estimator 'sklearn.utils.Bunch' is not a scikit-learn estimator class "
        "(a subclass of sklearn.base.BaseEstimator)",
    ),
    (
        "estimator parameter out of range",
        lambda c: edit(c, "max_depth = 6", "max_depth = -3"),
        ["run"],
        2,
        "[model.params] of sklearn.ensemble.RandomForestClassifier: The 'max_depth' parameter "
        "of RandomForestClassifier must be an int in the range [1, inf) or None. Got -3 instead.",
    ),
    (  # was refused by train, after preprocess had rewritten its tables
        "regressor on a binary task",
        lambda c: use_estimator(c, "sklearn.ensemble.RandomForestRegressor"),
        ["run"],
        2,
        "task 'binary' needs a classifier; sklearn.ensemble.RandomForestRegressor is not one",
    ),
    # --- data
    (
        "null labels",
        lambda c: sql(
            c, "UPDATE raw.titanic_train SET Survived = NULL WHERE PassengerId IN (3, 8)"
        ),
        ["run"],
        4,
        "data contract broken:\n  table raw.titanic_train, column Survived: rule 'not null' "
        "broken by 2 rows (PassengerId 3, 8)",
    ),
    (
        "regression label as text",
        regression_on_text_labels,
        ["run"],
        4,
        "data contract broken:\n  table raw.titanic_train, column Survived: rule 'numeric "
        "(holds text)' broken by 1 row (PassengerId 3)",
    ),
    (  # was a ValueError traceback from LogisticRegression.fit, after preprocess wrote
        "unimputed nulls for an estimator that takes no NaN",
        unimputed_age_for_logistic_regression,
        ["run"],
        4,
        "data contract broken:\n  table raw.titanic_train, column Age: rule 'not null, as "
        "impute is none and LogisticRegression cannot take missing values' broken by 88 rows "
        "(PassengerId 4, 10, 20, 23, 39, ...)\n  table raw.titanic_test, column Age: rule "
        "'not null, as impute is none and LogisticRegression cannot take missing values' "
        "broken by 31 rows (PassengerId 404, 410, 420, 423, 439, ...)",
    ),
    (  # was the same traceback when only train ran
        "unimputed nulls in features_train for an estimator that takes no NaN",
        unimputed_age_in_features_train,
        ["run", "--stage", "train"],
        4,
        "features_train columns ['Age'] hold missing values and LogisticRegression cannot take "
        "them: impute them ([[features]] impute) and run preprocess again, or choose an "
        "estimator that takes NaN",
    ),
    *[
        (
            f"labelled table whose one row goes to holdout ({stages})",
            lambda c: sql(
                c,
                "DELETE FROM raw.titanic_train WHERE PassengerId <> "
                "(SELECT min(PassengerId) FROM pipeline.features_holdout)",
            ),
            args,
            4,
            "the training split of raw.titanic_train is empty (1 row went to holdout)",
        )
        for stages, args in [("preprocess", ["run", "--stage", "preprocess"]), ("all", ["run"])]
    ],
    (  # was a ValueError traceback from RandomForestClassifier.fit
        "feature beyond float32 for a tree ensemble",
        fare_beyond_float32,
        ["run", "--stage", "train"],
        4,
        "features_train columns ['Fare'] hold values beyond 3.4e+38 in magnitude, and "
        "RandomForestClassifier computes in float32: clip or scale them ([[features]] clip, "
        "scale)",
    ),
    *[
        (  # was a ValueError traceback from the scoring worker
            f"row to score beyond float32 for a tree ensemble ({executor})",
            lambda c: sql(c, "UPDATE raw.titanic_test SET Fare = 1e300 WHERE PassengerId = 410"),
            ["run", "--stage", "predict", "--executor", executor],
            4,
            "model {model}: RandomForestClassifier refuses the features ['Fare'] of rows to "
            "score (Input X contains infinity or a value too large for dtype('float32')); clip "
            "them ([[features]] clip) and train again",
        )
        for executor in ("inprocess", "process")
    ],
    (  # was a ValueError traceback from SciPy inside Ridge.fit
        "feature whose square overflows a linear model",
        fare_squared_beyond_double,
        ["run", "--stage", "train"],
        4,
        "Ridge overflowed fitting features_train: columns ['Fare'] hold values beyond 1.34e+154 "
        "in magnitude, whose squares a double cannot hold; scale them ([[features]] scale)",
    ),
    (  # was a TypeError traceback from pipeline.features.plan
        "all-null feature scaled minmax",
        lambda c: all_null_fare_scaled(c, "minmax"),
        ["run"],
        4,
        "feature 'Fare': scale 'minmax' needs its min, and the training split has no value of "
        "it (the column is all null there)",
    ),
    (
        "all-null feature scaled standard",
        lambda c: all_null_fare_scaled(c, "standard"),
        ["run"],
        4,
        "feature 'Fare': scale 'standard' needs its mean, and the training split has no value "
        "of it (the column is all null there)",
    ),
    # --- stages run out of order
    (
        "train before preprocess",
        lambda c: sql(c, "DROP TABLE pipeline.features_train"),
        ["run", "--stage", "train"],
        3,
        "table pipeline.features_train not found in the warehouse: run `pipeline run --stage "
        "preprocess` first",
    ),
    (
        "predict before train",
        lambda c: shutil.rmtree(c.parent / "models"),
        ["run", "--stage", "predict"],
        3,
        "model directory {d}/models/{model} not found: run `pipeline run --stage train` first",
    ),
    (
        "evaluate before predict",
        lambda c: sql(c, "DROP TABLE pipeline.predictions"),
        ["run", "--stage", "evaluate"],
        3,
        "table pipeline.predictions not found in the warehouse: run `pipeline run --stage "
        "predict` first",
    ),
    (
        "--model-dir that does not exist",
        lambda c: None,
        ["run", "--stage", "predict", "--model-dir", "{d}/no-model"],
        3,
        "model directory {d}/no-model not found: run `pipeline run --stage train` first",
    ),
    # --- model directories
    (
        "model directory without its manifest",
        lambda c: (newest_model(c) / "manifest.json").unlink(),
        ["run", "--stage", "predict"],
        5,
        "{d}/models/{model}/manifest.json not found: {d}/models/{model} is not a model directory",
    ),
    (
        "model directory with an extra file",
        lambda c: (newest_model(c) / "notes.txt").write_text("x"),
        ["run", "--stage", "predict"],
        5,
        "{d}/models/{model} holds files not in its manifest: ['notes.txt']",
    ),
    (
        "tampered pickle with a signing key",
        tamper_signed_pickle,
        ["run", "--stage", "predict"],
        5,
        "{d}/models/{model}/model.joblib does not match its sha256 in "
        "{d}/models/{model}/manifest.json: the file changed after the model was saved; refusing "
        "to load it",
    ),
    (
        "unsigned model with a signing key configured",
        lambda c: configure_key(c, key_file(c)),
        ["run", "--stage", "predict"],
        5,
        "{d}/models/{model} is not signed and a signing key is configured: refusing to load a "
        "model directory the key does not vouch for",
    ),
    (
        "model signed with another key",
        signed_with_another_key,
        ["run", "--stage", "predict"],
        5,
        "{d}/models/{model} is signed with key {key_id}, not the configured key {other_id}: "
        "refusing to load it",
    ),
    (
        "signing key file missing",
        lambda c: configure_key(c, c.parent / "no.key"),
        ["run"],
        2,
        "[model] signing_key {d}/no.key cannot be read (No such file or directory); make one "
        "with `pipeline keygen --out {d}/no.key`",
    ),
    # --- pipeline sql is read-only unless --write
    *[
        (
            f"sql {what}",
            lambda c: None,
            ["sql", statement],
            2,
            f"pipeline sql runs one read-only query by default and this is {what}; pass --write "
            "to run statements that change data or write files",
        )
        for what, statement in [
            ("a DROP statement", "DROP TABLE raw.titanic_train"),
            ("a DELETE statement", "DELETE FROM raw.titanic_train"),
            ("a COPY statement", "COPY raw.titanic_train TO '{d}/out.csv'"),
            ("2 statements (SELECT, DROP)", "SELECT 1; DROP TABLE raw.titanic_train"),
            ("an ATTACH statement", "ATTACH '{d}/other.duckdb' AS other"),
            ("a SET statement", "SET threads = 1"),
        ]
    ],
    # --- a warehouse path with a typo: no empty file made there
    (
        "sql --warehouse typo",
        lambda c: None,
        ["sql", "SELECT 1", "--warehouse", "{d}/warehuose.duckdb"],
        7,
        "warehouse file {d}/warehuose.duckdb does not exist (check the path)",
    ),
    (
        "sql with a warehouse typo in the config",
        lambda c: edit(c, "/warehouse.duckdb", "/warehuose.duckdb"),
        ["sql", "SELECT 1"],
        7,
        "warehouse file {d}/warehuose.duckdb (named in {d}/pipeline.toml) does not exist; "
        "`pipeline ingest` creates it (and `pipeline run` from a seed_from file)",
    ),
    (
        "show with a warehouse typo",
        lambda c: edit(c, "/warehouse.duckdb", "/warehuose.duckdb"),
        ["show"],
        7,
        "warehouse file {d}/warehuose.duckdb does not exist (check the path)",
    ),
    (
        "compare with a warehouse typo",
        lambda c: edit(c, "/warehouse.duckdb", "/warehuose.duckdb"),
        ["compare"],
        7,
        "warehouse file {d}/warehuose.duckdb does not exist (check the path)",
    ),
    (  # made an empty warehouse file at the typo, then named the missing raw table
        "run with a warehouse typo",
        lambda c: edit(c, "/warehouse.duckdb", "/warehuose.duckdb"),
        ["run"],
        7,
        "warehouse file {d}/warehuose.duckdb does not exist (check [warehouse] path); "
        "`pipeline ingest` creates it",
    ),
    # --- templates
    (
        "template missing",
        lambda c: replace_sql_dir(c, lambda s: (s / "preprocess" / "features.sql").unlink()),
        ["run"],
        6,
        "SQL template {d}/sql/preprocess/features.sql not found",
    ),
    (
        "template with an unclosed block",
        lambda c: replace_sql_dir(c, features_sql(lambda t: t.replace("{% endfor %}", "", 1))),
        ["run"],
        6,
        "{d}/sql/preprocess/features.sql, line 73: Encountered unknown tag 'endif'. You probably "
        "made a nesting mistake. Jinja is expecting this tag, but currently looking for "
        "'endfor'. The innermost block that needs to be closed is 'for'.",
    ),
    (
        "sql_dir missing",
        lambda c: edit(c, f'"{(REPO / "sql").as_posix()}"', '"no-sql"'),
        ["run"],
        6,
        "SQL template directory {d}/no-sql not found",
    ),
    # --- ingest
    (
        "ingest a ragged CSV",
        lambda c: write_file(c, "in.csv", b"a,b\n1,2\n3,4,5\n6,7\n"),
        ["ingest", "{d}/in.csv", "--table", "raw.extra"],
        4,
        "{d}/in.csv, line 3: 3 fields where the header has 2 (delimiter ','); fix or remove "
        "that row",
    ),
    (
        "ingest Latin-1 text",
        lambda c: write_file(c, "in.csv", "a,b\n1,Müller\n".encode("latin-1")),
        ["ingest", "{d}/in.csv", "--table", "raw.extra"],
        4,
        "{d}/in.csv, line 2: not UTF-8 text; pass --encoding latin-1 if it is Latin-1 / "
        "Windows text",
    ),
    (  # was read as one column named column0 and said so misleadingly
        "ingest an empty CSV",
        lambda c: write_file(c, "in.csv", b""),
        ["ingest", "{d}/in.csv", "--table", "raw.extra"],
        4,
        "{d}/in.csv has no header row: the first line is empty",
    ),
    (
        "ingest a glob that matches nothing",
        lambda c: None,
        ["ingest", "{d}/nothing-*.csv", "--table", "raw.extra"],
        2,
        "no file matches {d}/nothing-*.csv",
    ),
    (
        "ingest over an existing table",
        lambda c: write_file(c, "in.csv", b"a,b\n1,2\n"),
        ["ingest", "{d}/in.csv", "--table", "raw.titanic_train"],
        2,
        "table raw.titanic_train already exists; pass --replace to overwrite it",
    ),
    (
        "ingest into a table without a schema",
        lambda c: write_file(c, "in.csv", b"a,b\n1,2\n"),
        ["ingest", "{d}/in.csv", "--table", "extra"],
        2,
        "--table 'extra' must be written as schema.table",
    ),
    # --- init
    (
        "init into a directory with a config",
        lambda c: None,
        ["init", "{d}"],
        2,
        "{d}/pipeline.toml already exists; choose an empty directory",
    ),
    (
        "init from a missing table",
        lambda c: None,
        ["init", "{d}/new", "--from-table", "raw.nope", "--warehouse", "{d}/warehouse.duckdb"],
        2,
        "table raw.nope does not exist; tables in raw: raw.titanic_test, raw.titanic_train",
    ),
    (
        "init with a label the table lacks",
        lambda c: None,
        [
            "init",
            "{d}/new",
            "--from-table",
            "raw.titanic_train",
            "--label",
            "Lived",
            "--warehouse",
            "{d}/warehouse.duckdb",
        ],
        2,
        "table raw.titanic_train has no column 'Lived'; it has ['PassengerId', 'Survived', "
        "'Pclass', 'Name', 'Sex', 'Age', 'SibSp', 'Parch', 'Ticket', 'Fare', 'Cabin', "
        "'Embarked']",
    ),
]

#: commands that read the config unless told otherwise
WITH_CONFIG = {"run", "sql", "show", "compare", "ingest"}


@pytest.mark.parametrize(
    ("name", "breakage", "args", "code", "message"), EXACT, ids=[c[0] for c in EXACT]
)
def test_refused_with_one_exact_line(
    good_project: Path,
    name: str,
    breakage: Callable[[Path], None],
    args: list[str],
    code: int,
    message: str,
) -> None:
    config = good_project
    directory = config.parent
    model = newest_model(config).name
    breakage(config)
    warehouse = directory / "warehouse.duckdb"
    before = (warehouse_checksums(warehouse), project_files(directory))
    argv = [a.format(d=directory.as_posix()) for a in args]
    if argv[0] in WITH_CONFIG and "--warehouse" not in argv:
        argv += ["--config", str(config)]

    result = runner.invoke(app, argv)

    from pipeline.core.keys import read_key

    keys = {
        f"{which}_id": read_key(key_file(config, f"{file}.key")).key_id
        for which, file in (("key", "signing"), ("other", "other"))
        if (directory.parent / f"{file}.key").exists()
    }
    expected = message.format(d=directory.as_posix(), model=model, **keys)
    assert "Traceback" not in result.output
    assert (result.exit_code, result.stderr) == (code, f"error: {expected}\n"), result.output
    after = (warehouse_checksums(warehouse), project_files(directory))
    assert [
        sorted(k for k in b.keys() | a.keys() if b.get(k) != a.get(k))
        for b, a in zip(before, after, strict=True)
    ] == [[], []]


def test_the_checksum_sees_a_changed_row_a_moved_row_and_a_new_column(tmp_path: Path) -> None:
    """The checks above are only as good as this checksum: it must see any change."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE t AS SELECT 1 AS x, 'a' AS y UNION ALL SELECT 2, NULL")
    seen = [warehouse_checksums(path)]
    for change in (
        "UPDATE t SET y = 'b' WHERE x = 2",
        "UPDATE t SET x = 3 - x",
        "ALTER TABLE t ADD COLUMN z INTEGER",
        "DELETE FROM t WHERE x = 1",
    ):
        with duckdb.connect(str(path)) as con:
            con.sql(change)
        seen.append(warehouse_checksums(path))
    assert len({tuple(s.items()) for s in seen}) == len(seen)
