"""Model aliases: `pipeline promote` and `pipeline aliases`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import CONFIG
from pipeline.cli.output import guard, say, setup_logging
from pipeline.core.vocabulary import OutputFormat


def promote(
    model: str = typer.Argument(
        ..., help="The model to promote: a model id, another alias, or latest (newest trained)."
    ),
    alias: str = typer.Option(..., "--alias", "-a", help="The alias to point at it."),
    note: str | None = typer.Option(None, help="Why, kept in the alias history."),
    config: Path = CONFIG,
    models_dir: Path | None = typer.Option(
        None, help="Where model directories are.", show_default="models/ beside the config"
    ),
) -> None:
    """Point an alias at a model: one row appended to the model_aliases table.

    Rollback is promoting the previous model again (`pipeline aliases` lists them).

    Example: pipeline promote latest --alias production
    """
    setup_logging(quiet=True)

    def go() -> None:
        from pipeline.stages.aliases import promote_from_path

        row = promote_from_path(config, models_dir, model, alias, note)
        if row is None:
            say(f"promote: alias {alias} already points at that model: nothing written")
        else:
            was = f" (was {row.previous_model_id})" if row.previous_model_id else ""
            say(f"promote: {alias} -> {row.model_id}{was}")

    guard(go)


def aliases(
    alias: str | None = typer.Option(None, "--alias", "-a", help="Only this alias."),
    config: Path = CONFIG,
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="Output format."
    ),
) -> None:
    """The history of the model aliases: who moved which alias, when, from which model to which.

    Empty before the first promotion; an --alias never promoted is refused (exit 3).

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline aliases --alias production
    """
    setup_logging(quiet=True)

    def go() -> None:
        from pipeline.stages.aliases import history_from_path
        from pipeline.tools.query import format_result

        typer.echo(format_result(history_from_path(config, alias), format))

    guard(go)
