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


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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
        None, help="How predict scores: auto picks in-process or worker processes by timing."
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
