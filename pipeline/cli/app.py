"""The `pipeline` Typer app, its global options, and the options the commands share."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.output import setup_logging

app = typer.Typer(
    help="SQL-first, warehouse-backed ML: SQL does the data work, Python fits and scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CONFIG = typer.Option(Path("pipeline.toml"), "--config", "-c", help="Project config file.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print only the results: no warnings.")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Also print debugging detail.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"pipeline {version('sql-first-pipeline')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            typer.echo("pipeline (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """SQL-first, warehouse-backed ML: SQL does the data work, Python fits and scores."""
    setup_logging(quiet, verbose)
