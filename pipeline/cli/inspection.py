"""Looking at a project: `pipeline sql`, `compare` and `show`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import CONFIG
from pipeline.cli.output import guard, setup_logging
from pipeline.core.vocabulary import OutputFormat


def sql(
    query: str = typer.Argument(..., help="The SQL to run: one read-only query unless --write."),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None,
        help="A DuckDB file to query instead of the config's warehouse; when given, the "
        "config is not read (so it works before `pipeline init`).",
        show_default="the config's warehouse",
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
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="Output format."
    ),
) -> None:
    """Run ad-hoc SQL on the configured warehouse and print the result.

    Read-only by default: one SELECT-like query (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE,
    EXPLAIN, PRAGMA); anything else is refused (exit 2) unless --write is given.

    Example: pipeline sql "SELECT dataset, count(*) FROM pipeline.predictions GROUP BY 1"
    """
    setup_logging(quiet=True)

    def go() -> None:
        from pipeline.tools.query import format_result, run_query

        table = run_query(config, query, warehouse=warehouse, write=write, wait=wait)
        typer.echo(format_result(table, format))

    guard(go)


def compare(
    a: str | None = typer.Argument(
        None,
        help="The model to compare from: a model id, an alias or latest.",
        show_default="the older of the last two",
    ),
    b: str | None = typer.Argument(
        None,
        help="The model to compare to: a model id, an alias or latest.",
        show_default="the newest evaluated",
    ),
    config: Path = CONFIG,
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="Output format."
    ),
) -> None:
    """Show how the holdout metrics moved between two models.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline compare   (the two models evaluated most recently)

    Example: pipeline compare production latest
    """
    setup_logging(quiet=True)

    def go() -> None:
        from pipeline.stages.evaluate import compare_from_path
        from pipeline.tools.query import format_result

        typer.echo(format_result(compare_from_path(config, a, b), format))

    guard(go)


def show(config: Path = CONFIG) -> None:
    """What the config resolves to: warehouse, tables, model and the one scoring uses now,
    train, tune and monitor settings, features; then latest runs, aliases, holdout metrics.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline show --config examples/titanic_fare/pipeline.toml
    """
    setup_logging(quiet=True)

    def go() -> None:
        from pipeline.tools.show import show_from_path

        typer.echo(show_from_path(config))

    guard(go)
