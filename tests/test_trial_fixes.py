"""What a new user's first tries ran into: each is refused with one line naming the cause,
before anything is written, or (for `pipeline sql`) answered in a form a script can read."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import WarehouseError
from pipeline.tools.query import format_result
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import OptionsFactory
from tests.test_bad_input import directory_checksums, edit, sql

runner = CliRunner()


def table_checksums(path: Path) -> dict[str, str]:
    """Every base table's rows and schema (views are read through their tables)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND NOT (table_schema = 'pipeline' AND table_name = 'runs')"
        ).fetchall()
        out = {}
        for schema, table in names:
            rel = con.sql(f'SELECT * FROM "{schema}"."{table}"')
            out[f"{schema}.{table}"] = repr(
                (rel.columns, rel.types, sorted(map(repr, rel.fetchall())))
            )
        return out
    finally:
        con.close()


def one_error_line(result: Result) -> str:
    """The error, checked to be one line and the last (a run names its id first)."""
    lines = result.output.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), result.output
    assert len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("run ")), lines
    return lines[-1].removeprefix("error: ")


# --- 1. an estimator that does not fit the task, refused before preprocess writes ----------


@pytest.mark.parametrize(
    ("estimator", "task", "message"),
    [
        (
            "sklearn.cluster.KMeans",
            "multiclass",
            "task 'multiclass' needs a classifier; sklearn.cluster.KMeans is not one",
        ),
        (
            "sklearn.linear_model.LinearRegression",
            "binary",
            "task 'binary' needs a classifier; sklearn.linear_model.LinearRegression is not one",
        ),
    ],
)
def test_estimator_for_another_task_is_refused_before_any_write(
    ran_project: OptionsFactory, estimator: str, task: str, message: str
) -> None:
    options = ran_project()
    config = options.config_path
    warehouse = config.parent / "warehouse.duckdb"
    edit(
        config,
        'estimator = "sklearn.ensemble.RandomForestClassifier"',
        f'estimator = "{estimator}"',
    )
    edit(config, "n_estimators = 25", "")
    edit(config, 'task = "binary"', f'task = "{task}"')
    before = (table_checksums(warehouse), directory_checksums(options.models_dir))

    result = runner.invoke(app, ["run", "--config", str(config), "--out", str(options.out_dir)])

    assert result.exit_code == 2, result.output
    assert one_error_line(result) == message
    assert (table_checksums(warehouse), directory_checksums(options.models_dir)) == before


# --- 2. a view over a table that lost a column ----------------------------------------------


def test_view_that_no_longer_binds_is_named(ran_project: OptionsFactory) -> None:
    options = ran_project()
    config = options.config_path
    warehouse = config.parent / "warehouse.duckdb"
    # what `pipeline init` leaves: the table to score is a view over the raw table
    con = duckdb.connect(str(warehouse))
    columns = [
        c for (c,) in con.sql("SELECT column_name FROM (DESCRIBE raw.titanic_test)").fetchall()
    ]
    listed = ", ".join(f'src."{c}" AS "{c}"' for c in columns)
    con.execute("ALTER TABLE raw.titanic_test RENAME TO titanic_test_src")
    con.execute(f"CREATE VIEW raw.titanic_test AS SELECT {listed} FROM raw.titanic_test_src AS src")
    con.execute("ALTER TABLE raw.titanic_test_src DROP COLUMN Sex")
    con.close()
    before = (table_checksums(warehouse), directory_checksums(options.models_dir))

    result = runner.invoke(
        app, ["run", "--stage", "predict", "--config", str(config), "--out", str(options.out_dir)]
    )

    assert result.exit_code == 4, result.output
    assert one_error_line(result).startswith(
        "view raw.titanic_test no longer matches its table: Binder Error: "
    )
    assert (table_checksums(warehouse), directory_checksums(options.models_dir)) == before


# --- 3. warehouse errors are one line --------------------------------------------------------


def test_engine_error_from_sql_is_one_line_with_its_hint(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    result = runner.invoke(app, ["sql", "--config", str(config), "SELECT * FROM raw.titanic_tset"])
    assert result.exit_code == 7, result.output
    line = one_error_line(result)
    assert "\t" not in line and "  " not in line
    assert line.startswith("CatalogException: Catalog Error: Table with name titanic_tset")
    assert "Did you mean" in line


def test_one_line_keeps_every_line_but_the_caret() -> None:
    from pipeline.warehouse.base import one_line

    text = 'Catalog Error: no table "x"!\nDid you mean "y"?\n\nLINE 1: SELECT *\tFROM x\n     ^'
    assert (
        one_line(text) == 'Catalog Error: no table "x"!; Did you mean "y"?; LINE 1: SELECT * FROM x'
    )


def test_warehouse_error_of_the_engine_is_one_line(tmp_path: Path) -> None:
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh, pytest.raises(WarehouseError) as caught:
        wh.execute("SELEC 1")
    assert "\n" not in str(caught.value)


# --- 4. --format json is JSON ----------------------------------------------------------------

VALUES = (
    "SELECT 'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-inf'::DOUBLE AS ninf, "
    "1::HUGEINT AS huge, 2.50::DECIMAL(5, 2) AS dec, 'x'::BLOB AS blob, [1.5, 'nan'::DOUBLE] AS l"
)
EXPECTED = {
    "nan": None,
    "inf": None,
    "ninf": None,
    "huge": 1,
    "dec": 2.5,
    "blob": "eA==",
    "l": [1.5, None],
}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_sql_json_is_strict_json(synthetic_project: OptionsFactory, fmt: str) -> None:
    config = synthetic_project().config_path
    result = runner.invoke(app, ["sql", "--config", str(config), "--format", fmt, VALUES])
    assert result.exit_code == 0, result.output

    def strict(name: str) -> None:
        raise ValueError(name)

    parsed = json.loads(result.output, parse_constant=strict)
    assert (parsed[0] if fmt == "json" else parsed) == EXPECTED


def test_format_result_json_without_rows_stays_valid() -> None:
    import pyarrow as pa

    assert json.loads(format_result(pa.table({"a": pa.array([], pa.int64())}), "json")) == []


# --- 5. no statement -------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["", "   ", "/* nothing */"])
def test_sql_without_a_statement_says_so(synthetic_project: OptionsFactory, statement: str) -> None:
    config = synthetic_project().config_path
    result = runner.invoke(app, ["sql", "--config", str(config), statement])
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == "no SQL statement given"


# --- 6. read-only sql reads no host files ----------------------------------------------------


@pytest.mark.parametrize("reader", ["read_csv('{path}')", "glob('{dir}/*')", "read_text('{path}')"])
def test_read_only_sql_cannot_read_local_files(
    synthetic_project: OptionsFactory, tmp_path: Path, reader: str
) -> None:
    config = synthetic_project().config_path
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n42\n")
    query = "SELECT * FROM " + reader.format(path=secret, dir=tmp_path)
    result = runner.invoke(app, ["sql", "--config", str(config), query])
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "file system operations are disabled" in line and "--write" in line
    assert "42" not in result.output
    # the same query with --write reads the file: loading files is a write use
    result = runner.invoke(app, ["sql", "--config", str(config), "--write", query])
    assert result.exit_code == 0, result.output


def test_read_only_sql_still_reads_the_warehouse(ran_project: OptionsFactory) -> None:
    options = ran_project()
    config = str(options.config_path)
    for command in (
        ["sql", "--config", config, "SELECT count(*) AS n FROM raw.titanic_train"],
        ["sql", "--config", config, "SUMMARIZE raw.titanic_train"],
        ["show", "--config", config],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)


# --- 7. unique counts rows --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "shown"), [(3, "2000, 2001, 2002"), (50, "2000, 2001, 2002, 2003, 2004, ...")]
)
def test_unique_counts_the_rows_sharing_an_id(
    synthetic_project: OptionsFactory, ids: int, shown: str
) -> None:
    options = synthetic_project()
    config = options.config_path
    sql(config, f"UPDATE raw.titanic_train SET PassengerId = 2000 + PassengerId % {ids}")
    con = duckdb.connect(str(config.parent / "warehouse.duckdb"), read_only=True)
    rows = con.sql("SELECT count(*) FROM raw.titanic_train").fetchall()[0][0]
    con.close()
    args = ["run", "--stage", "preprocess", "--config", str(config), "--out", str(options.out_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.output
    assert (
        f"table raw.titanic_train, column PassengerId: rule 'unique' broken by {rows} rows "
        f"(PassengerId {shown})\n" in result.output
    )
