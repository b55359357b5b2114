"""What a warehouse can do is a flag on its class, and a stage on a warehouse without
transactions says so, in the lines it prints and in its ledger row (on BigQuery: in
tests/test_bigquery.py). On DuckDB it says nothing of the kind and its ledger keeps the columns
it always had."""

from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stages.ledger import NOTES
from pipeline.warehouse.bigquery import BigQueryWarehouse
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import OptionsFactory

runner = CliRunner()
#: what a stage on a warehouse without transactions says (tests/test_bigquery.py checks it)
SAID = "ran without a transaction"


def test_capabilities_are_class_flags() -> None:
    assert DuckDBWarehouse.supports_transactions and DuckDBWarehouse.reads_files_locally
    assert not BigQueryWarehouse.supports_transactions
    assert not BigQueryWarehouse.reads_files_locally
    assert DuckDBWarehouse.in_memory().transaction_note() is None


def test_duckdb_stage_does_not_say_it_ran_without_a_transaction(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    out = runner.invoke(app, ["run", "--stage", "preprocess", "-c", str(options.config_path)])
    assert out.exit_code == 0, out.output
    assert "preprocess:" in out.output and SAID not in out.output
    con = duckdb.connect(str(options.config_path.parent / "warehouse.duckdb"), read_only=True)
    try:
        columns = [
            c for (c,) in con.sql("SELECT column_name FROM (DESCRIBE pipeline.runs)").fetchall()
        ]
        rows = con.sql("SELECT stage, status FROM pipeline.runs").fetchall()
    finally:
        con.close()
    assert NOTES not in columns
    assert rows == [("preprocess", "success")]
