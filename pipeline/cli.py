"""The `pipeline` command: parse options, call one library function, map errors to exit codes.

Heavy libraries (pandas, scikit-learn, DuckDB) are imported inside the commands, so `--help`
and option errors answer at once.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer

from pipeline.errors import PipelineError

app = typer.Typer(
    help="SQL-first, warehouse-backed ML: SQL does the data work, Python fits and scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


class Stage(StrEnum):
    all = "all"
    preprocess = "preprocess"
    train = "train"
    predict = "predict"
    evaluate = "evaluate"


class ExecutorName(StrEnum):
    auto = "auto"
    process = "process"
    thread = "thread"
    inprocess = "inprocess"
    dask = "dask"
    warehouse = "warehouse"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


CONFIG = typer.Option(Path("pipeline.toml"), "--config", "-c", help="Project config file.")


def _guard(fn: Callable[[], T]) -> T:
    """Expected failures print one line to stderr and exit non-zero, without a traceback."""
    try:
        return fn()
    except PipelineError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pipeline: %(message)s"))
    log = logging.getLogger("pipeline")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if quiet else logging.INFO)


def _print_messages(result: Any) -> None:
    for message in result.messages:
        typer.echo(message)


@app.command()
def run(
    stage: Stage = typer.Option(Stage.all, "--stage", "-s", help="One stage, or all in order."),
    config: Path = CONFIG,
    models_dir: Path | None = typer.Option(
        None, help="Where model directories go [default: models/ beside the config]."
    ),
    out: Path | None = typer.Option(
        None, help="Where each run's files go [default: runs/ beside the config]."
    ),
    model_dir: Path | None = typer.Option(
        None, help="Score or evaluate this model directory instead of the newest one."
    ),
    executor: ExecutorName | None = typer.Option(
        None,
        help="How predict scores: auto picks in-process, threads or worker processes by "
        "timing; dask scores on the cluster at --scheduler; warehouse runs the model as SQL.",
    ),
    scheduler: str | None = typer.Option(
        None, help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786."
    ),
    workers: int | None = typer.Option(None, min=1, help="Scoring workers [default: cores]."),
    batch_rows: int | None = typer.Option(None, min=1, help="Rows per scoring batch."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the results."),
) -> None:
    """Run the pipeline: preprocess, train, predict, evaluate.

    Example: pipeline run --stage preprocess --config pipeline.toml
    """
    _logging(quiet)

    def go() -> Any:
        from pipeline.ledger import new_run_id
        from pipeline.runner import run_stages
        from pipeline.stages import RunOptions

        base = config.resolve().parent
        options = RunOptions(
            config_path=config,
            run_id=new_run_id(),
            models_dir=models_dir or base / "models",
            out_dir=out or base / "runs",
            model_dir=model_dir,
            quiet=quiet,
            executor=executor.value if executor else None,
            workers=workers,
            batch_rows=batch_rows,
            scheduler=scheduler,
        )
        typer.echo(f"run {options.run_id}")
        stages = None if stage is Stage.all else [stage.value]
        return run_stages(options, stages, on_result=_print_messages)

    _guard(go)


@app.command()
def sql(
    query: str = typer.Argument(..., help="The SQL to run: one read-only query unless --write."),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None,
        help="A DuckDB file to query instead of the config's warehouse; when given, the "
        "config is not read (so it works before `pipeline init`).",
    ),
    write: bool = typer.Option(
        False,
        "--write",
        help="Allow statements that change data or write files (DROP, DELETE, COPY ... TO). "
        "Takes the run lock: fails at once while a `pipeline run` is in progress.",
    ),
    wait: float = typer.Option(
        60.0, min=0, help="Seconds to wait for a write in progress before giving up."
    ),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Run ad-hoc SQL on the configured warehouse and print the result.

    Read-only by default: one SELECT-like query (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE,
    EXPLAIN, PRAGMA); anything else is refused (exit 2) unless --write is given.

    Example: pipeline sql "SELECT dataset, count(*) FROM pipeline.predictions GROUP BY 1"
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.query import format_result, run_query

        table = run_query(config, query, warehouse=warehouse, write=write, wait=wait)
        typer.echo(format_result(table, format.value))

    _guard(go)


@app.command()
def compare(
    a: str | None = typer.Argument(None, help="The model to compare from [default: older]."),
    b: str | None = typer.Argument(None, help="The model to compare to [default: newest]."),
    config: Path = CONFIG,
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Show how the holdout metrics moved between two models.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline compare   (the two models evaluated most recently)
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.query import format_result
        from pipeline.stages.evaluate import compare_from_path

        typer.echo(format_result(compare_from_path(config, a, b), format.value))

    _guard(go)


@app.command()
def ingest(
    path: str = typer.Argument(..., help="A CSV, Parquet or JSON Lines file, or a glob of them."),
    table: str = typer.Option(..., "--table", "-t", help="SCHEMA.NAME of the raw table."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite the table if it exists."),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None, help="A DuckDB file to load into instead of --config's warehouse (made if absent)."
    ),
) -> None:
    """Load data files into a raw warehouse table, with types inferred from every row.

    Example: pipeline ingest 'data/sales-*.csv' --table raw.sales
    """

    def go() -> None:
        from contextlib import AbstractContextManager

        from pipeline.ingest import ingest as ingest_files
        from pipeline.warehouse import Warehouse, open_warehouse
        from pipeline.warehouse.duckdb import DuckDBWarehouse
        from pipeline.warehouse.lock import exclusive

        opened: AbstractContextManager[Warehouse]
        if warehouse is not None:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            opened = DuckDBWarehouse(warehouse, on_demand=True)
        else:
            from pipeline.config import load_config

            opened = open_warehouse(load_config(config).warehouse, on_demand=True)
        with opened as wh, exclusive(wh, config, "pipeline ingest"):  # not during a run
            done = ingest_files(wh, path, table, replace)
        typer.echo(f"{done.table}: {done.rows:,} rows from {len(done.files)} file(s)")
        for name, sql_type in done.columns:
            typer.echo(f"  {name:<24} {sql_type}")

    _guard(go)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="The new project's directory."),
    from_table: str | None = typer.Option(
        None, help="SCHEMA.NAME of a labelled table to propose the features from."
    ),
    label: str = typer.Option("label", help="The label column."),
    id: str = typer.Option("id", "--id", help="The id column."),
    unlabelled: str | None = typer.Option(None, help="SCHEMA.NAME of rows to score."),
    warehouse: Path | None = typer.Option(
        None, help="The DuckDB file holding the tables [default: DIRECTORY/warehouse.duckdb]."
    ),
    sql: Path | None = typer.Option(
        None, help="Templates to start from [default: the sql/ of --config's project]."
    ),
    config: Path = CONFIG,
) -> None:
    """Create a new project: config, SQL templates, models/, README.

    Example: pipeline init churn --from-table raw.customers --id customer_id --label churned
    """

    def go() -> None:
        import os

        from pipeline.config import load_config
        from pipeline.scaffold import init_project
        from pipeline.warehouse.duckdb import DuckDBWarehouse

        sql_source = sql or (load_config(config).sql_dir if config.exists() else Path("sql"))
        db = warehouse or directory / "warehouse.duckdb"
        relative = os.path.relpath(db.resolve(), directory.resolve())
        if from_table:
            with DuckDBWarehouse(db) as wh:
                made = init_project(
                    directory,
                    sql_source,
                    warehouse=wh,
                    warehouse_path=relative,
                    from_table=from_table,
                    unlabelled=unlabelled,
                    id_column=id,
                    label=label,
                )
        else:
            made = init_project(
                directory,
                sql_source,
                warehouse_path=relative,
                unlabelled=unlabelled,
                id_column=id,
                label=label,
            )
        typer.echo(f"created {made}; next: pipeline run --config {made}")

    _guard(go)


@app.command()
def show(config: Path = CONFIG) -> None:
    """What the config resolves to: warehouse, tables, features, model, latest runs.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline show --config examples/titanic_fare/pipeline.toml
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.show import show_from_path

        typer.echo(show_from_path(config))

    _guard(go)


@app.command("build-example")
def build_example(
    csv: list[str] = typer.Option(
        None,
        "--csv",
        help="SCHEMA.TABLE=PATH, once per table [default: the two Titanic CSVs in data/titanic/].",
    ),
    out: Path = typer.Option(Path("warehouse.duckdb.example"), help="The DuckDB file to write."),
) -> None:
    """Rebuild the example DuckDB warehouse from CSV files.

    Example: pipeline build-example --csv raw.titanic_train=data/titanic/train.csv --out w.duckdb
    """

    def go() -> None:
        from pipeline.errors import ConfigError
        from pipeline.example import TITANIC, build_warehouse

        tables = dict(TITANIC)
        if csv:
            tables = {}
            for item in csv:
                name, sep, path = item.partition("=")
                if not sep:
                    raise ConfigError(f"--csv {item!r} must be SCHEMA.TABLE=PATH")
                tables[name] = Path(path)
        for name, n in build_warehouse(out, tables).items():
            typer.echo(f"{out}: {name} {n} rows")

    _guard(go)


if __name__ == "__main__":  # pragma: no cover
    app()
