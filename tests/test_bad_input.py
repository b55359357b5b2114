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
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.runner import run_stages
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
        "table raw.titanic_train, column PassengerId: rule 'unique' broken by 2 rows "
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
