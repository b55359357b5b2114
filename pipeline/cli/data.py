"""Bringing data in and starting a project on it: `pipeline ingest` and `init`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import CONFIG
from pipeline.cli.output import guard, say
from pipeline.core.vocabulary import DecimalSeparator, Encoding


def ingest(
    path: str = typer.Argument(..., help="A CSV, Parquet or JSON Lines file, or a glob of them."),
    table: str = typer.Option(..., "--table", "-t", help="SCHEMA.NAME of the raw table."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite the table if it exists."),
    append: bool = typer.Option(
        False,
        "--append",
        help="Add the rows to the existing table (same columns; all rows or none).",
    ),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None,
        help="A DuckDB file to load into instead of --config's warehouse (made if absent).",
        show_default="--config's warehouse",
    ),
    null: list[str] | None = typer.Option(
        None,
        "--null",
        help="A CSV field read as a missing value; repeat it to give the whole list.",
        show_default="'', NA, N/A, NULL, NaN, None, null, nan, #N/A and the rest of pandas' list",
    ),
    # plain text, checked by the library: an unknown one is told as the other errors are
    encoding: str = typer.Option(
        Encoding.utf8.value, help=f"The CSV files' encoding: {' or '.join(Encoding)}."
    ),
    decimal: str = typer.Option(
        DecimalSeparator.point.value,
        help="The CSV numbers' decimal separator: a point or a comma (188,4).",
    ),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose \\[warehouse] section names the warehouse to load into (e.g. "
        "BigQuery), instead of --config's.",
        show_default="none",
    ),
) -> None:
    """Load data files into a raw warehouse table, with types inferred from every row.

    Example: pipeline ingest 'data/sales-*.csv' --table raw.sales

    Each night's new rows: pipeline ingest data/sales-2026-11-25.csv --table raw.sales --append
    """

    def go() -> None:
        from pipeline.tools.ingest import ingest_into, summary

        done = ingest_into(
            path,
            table,
            config=config,
            replace=replace,
            warehouse=warehouse,
            warehouse_config=warehouse_config,
            nulls=null,
            encoding=encoding,
            decimal=decimal,
            append=append,
        )
        for line in summary(done):
            say(line)

    guard(go)


def init(
    directory: Path = typer.Argument(..., help="The new project's directory."),
    from_table: str | None = typer.Option(
        None,
        help="SCHEMA.NAME of a labelled table to propose the features from.",
        show_default="none: a config to fill in",
    ),
    label: str = typer.Option("label", help="The label column."),
    id: str | None = typer.Option(
        None,
        "--id",
        help="The id column, or auto: a key made from each row's values, for a table with no id.",
        show_default="a unique, never missing column named like an id (House ID, customer_id, "
        "OrderNo), else auto",
    ),
    unlabelled: str | None = typer.Option(
        None, help="SCHEMA.NAME of rows to score.", show_default="none"
    ),
    warehouse: Path | None = typer.Option(
        None,
        help="The DuckDB file holding the tables.",
        show_default="DIRECTORY/warehouse.duckdb",
    ),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose \\[warehouse] section names the warehouse (e.g. BigQuery); "
        "the new config gets the same section.",
        show_default="none",
    ),
    sql: Path | None = typer.Option(
        None, help="Templates to start from.", show_default="the ones installed with the package"
    ),
) -> None:
    """Create a new project: config, SQL templates, models/, README.

    Example: pipeline init churn --from-table raw.customers --id customer_id --label churned
    """

    def go() -> None:
        from pipeline.tools.init import create_project

        made, notes = create_project(
            directory,
            from_table=from_table,
            label=label,
            id_column=id,
            unlabelled=unlabelled,
            warehouse=warehouse,
            warehouse_config=warehouse_config,
            sql=sql,
        )
        for note in notes:
            typer.echo(note)
        typer.echo(f"created {made}; next: pipeline run --config {made}")

    guard(go)
