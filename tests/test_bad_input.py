"""Bad input gets a clear one-line-per-cause error and a non-zero exit code, and leaves every
warehouse table and the model directory as they were (checksums before and after).

The run ledger is the one table that changes on a failure, by design: it records the failed
stage and its error."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.model import TrainedModel
from pipeline.project import Project
from pipeline.runner import run_stages
from pipeline.stages import RunOptions
from pipeline.stages.predict import type_family
from pipeline.stages.train import train_from_data
from tests.conftest import REPO, OptionsFactory

runner = CliRunner()


def warehouse_checksums(path: Path) -> dict[str, str]:
    """sha256 of every table's sorted rows and schema, except the ledger."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE NOT (table_schema = 'pipeline' AND table_name = 'runs')"
        ).fetchall()
        out = {}
        for schema, table in tables:
            rel = con.sql(f'SELECT * FROM "{schema}"."{table}"')
            rows = sorted(map(repr, rel.fetchall()))
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
        "clean.sql, line 32: 'dict object' has no attribute 'tabel'",
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
    synthetic_project: OptionsFactory,
    name: str,
    breakage: Callable[[Path], None],
    args: list[str],
    code: int,
    message: str,
) -> None:
    options = synthetic_project()
    run_stages(options, None)  # a good state to protect
    config = options.config_path
    warehouse = config.parent / "warehouse.duckdb"
    breakage(config)
    before = (warehouse_checksums(warehouse), directory_checksums(options.models_dir))

    result = runner.invoke(app, [*args, "--config", str(config), "--out", str(options.out_dir)])

    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert (warehouse_checksums(warehouse), directory_checksums(options.models_dir)) == before


def test_tampered_model_is_refused_from_the_cli(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
    synthetic_project: OptionsFactory, where: str
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
    assert meta["raw_types"]["Pclass"] == {"type": "INTEGER", "family": "numeric"}
    assert meta["raw_types"]["Sex"] == {"type": "VARCHAR", "family": "string"}
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
            provenance={"template_hashes": meta["template_hashes"]},
        )
    assert "raw_types" not in again.meta
    assert again.model_id == meta["model_id"]


def test_model_without_raw_types_is_scored_with_a_note(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    (model_dir,) = options.models_dir.iterdir()
    model = TrainedModel.load(model_dir)
    del model.meta["raw_types"]
    old = model.save(tmp_path / "old-models")

    result = run_cli(options, "run", "--stage", "predict", "--model-dir", str(old))

    assert result.exit_code == 0, result.output
    assert (
        f"predict: model {model.model_id} records no raw column types (saved by an older "
        "pipeline): type changes are not checked"
    ) in result.output


def test_nothing_to_score_writes_zero_rows_and_leaves_no_stale_ones(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
        (["INTEGER", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL(10,2)", "INT64", "FLOAT64"], "numeric"),
        (["NUMERIC", "BIGNUMERIC", "HUGEINT", "UTINYINT"], "numeric"),
        (["BOOLEAN", "BOOL"], "boolean"),
        (["VARCHAR", "STRING"], "string"),
        (["DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DATETIME"], "temporal"),
    ],
)
def test_type_families(types: list[str], family: str) -> None:
    assert {type_family(t) for t in types} == {family}


def test_int_to_float_is_the_same_family_and_scores_alike(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, None)
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
