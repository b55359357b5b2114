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
    query: str = typer.Argument(..., help="The SQL to run."),
    config: Path = CONFIG,
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Run ad-hoc SQL on the configured warehouse and print the result.

    Example: pipeline sql "SELECT dataset, count(*) FROM pipeline.predictions GROUP BY 1"
    """

    def go() -> None:
        from pipeline.query import format_result, run_query

        typer.echo(format_result(run_query(config, query), format.value))

    _guard(go)


@app.command()
def compare(
    a: str | None = typer.Argument(None, help="The model to compare from [default: older]."),
    b: str | None = typer.Argument(None, help="The model to compare to [default: newest]."),
    config: Path = CONFIG,
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Show how the holdout metrics moved between two models.

    Example: pipeline compare   (the two models evaluated most recently)
    """

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
    null: list[str] | None = typer.Option(
        None,
        "--null",
        help="A CSV field read as a missing value; repeat it to give the whole list "
        "[default: '', NA, N/A, NULL, NaN, None, null, nan, #N/A and the rest of pandas' list].",
    ),
    encoding: str = typer.Option("utf-8", help="The CSV files' encoding: utf-8 or latin-1."),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose [warehouse] section names the warehouse to load into (e.g. "
        "BigQuery), instead of --config's.",
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

        opened: AbstractContextManager[Warehouse]
        if warehouse is not None and warehouse_config is not None:
            from pipeline.errors import ConfigError

            raise ConfigError("give --warehouse or --warehouse-config, not both")
        if warehouse is not None:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            opened = DuckDBWarehouse(warehouse)
        elif warehouse_config is not None:
            opened = open_warehouse(_warehouse_section(warehouse_config, Path.cwd())[0])
        else:
            from pipeline.config import load_config

            opened = open_warehouse(load_config(config).warehouse)
        with opened as wh:
            done = ingest_files(wh, path, table, replace, null, encoding)
        typer.echo(f"{done.table}: {done.rows:,} rows from {len(done.files)} file(s)")
        for name, sql_type in done.columns:
            met = done.nulls.get(name, {})
            read = ", ".join(f"{t} x{n:,}" for t, n in met.items())
            typer.echo(f"  {name:<24} {sql_type}" + (f"  (missing: {read})" if read else ""))

    _guard(go)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="The new project's directory."),
    from_table: str | None = typer.Option(
        None, help="SCHEMA.NAME of a labelled table to propose the features from."
    ),
    label: str = typer.Option("label", help="The label column."),
    id: str | None = typer.Option(
        None,
        "--id",
        help="The id column [default: auto, a key made from each row's values when the table "
        "has no id].",
    ),
    unlabelled: str | None = typer.Option(None, help="SCHEMA.NAME of rows to score."),
    warehouse: Path | None = typer.Option(
        None, help="The DuckDB file holding the tables [default: DIRECTORY/warehouse.duckdb]."
    ),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose [warehouse] section names the warehouse (e.g. BigQuery); "
        "the new config gets the same section.",
    ),
    sql: Path | None = typer.Option(
        None, help="Templates to start from [default: the ones installed with the package]."
    ),
) -> None:
    """Create a new project: config, SQL templates, models/, README.

    Example: pipeline init churn --from-table raw.customers --id customer_id --label churned
    """

    def go() -> None:
        import os
        from contextlib import AbstractContextManager

        from pipeline.errors import ConfigError
        from pipeline.scaffold import init_project
        from pipeline.warehouse import Warehouse, open_warehouse
        from pipeline.warehouse.duckdb import DuckDBWarehouse

        if warehouse is not None and warehouse_config is not None:
            raise ConfigError("give --warehouse or --warehouse-config, not both")
        section: str | list[str]
        opened: AbstractContextManager[Warehouse] | None = None
        if warehouse_config is not None:
            wh_config, section = _warehouse_section(warehouse_config, directory)
            if from_table:
                opened = open_warehouse(wh_config)
        else:
            db = warehouse or directory / "warehouse.duckdb"
            section = os.path.relpath(db.resolve(), directory.resolve())
            if from_table:
                if not db.exists():
                    raise ConfigError(f"warehouse file {db} not found; ingest the data first")
                opened = DuckDBWarehouse(db)
        options: dict[str, Any] = dict(
            warehouse_path=section,
            from_table=from_table,
            unlabelled=unlabelled,
            id_column=id,
            label=label,
        )
        if opened is not None:
            with opened as wh:
                made = init_project(directory, sql, warehouse=wh, **options)
        else:
            made = init_project(directory, sql, **options)
        typer.echo(f"created {made}; next: pipeline run --config {made}")

    _guard(go)


def _warehouse_section(path: Path, directory: Path) -> tuple[Any, list[str]]:
    """The [warehouse] of a TOML file: as a WarehouseConfig to open, and as the lines the new
    project's config gets (a DuckDB path made relative to the new project)."""
    import json
    import os
    import tomllib

    from pipeline.config import WarehouseConfig
    from pipeline.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"--warehouse-config {path} not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    section = raw.get("warehouse")
    if not isinstance(section, dict) or "type" not in section:
        raise ConfigError(f"{path}: no [warehouse] section with a type")
    base = path.resolve().parent
    wh = dict(section)
    paths = {k: (base / str(wh.pop(k))).resolve() for k in ("path", "seed_from") if k in wh}
    config = WarehouseConfig(
        type=str(wh.pop("type")),
        path=paths.get("path"),
        seed_from=paths.get("seed_from"),
        options=wh,
    )
    lines = [f"type = {json.dumps(config.type)}"]
    for key, p in paths.items():
        lines.append(f"{key} = {json.dumps(os.path.relpath(p, directory.resolve()))}")
    lines += [f"{k} = {json.dumps(v)}" for k, v in wh.items()]
    return config, lines


@app.command()
def show(config: Path = CONFIG) -> None:
    """What the config resolves to: warehouse, tables, features, model, latest runs.

    Example: pipeline show --config examples/titanic_fare/pipeline.toml
    """

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
