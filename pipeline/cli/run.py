"""`pipeline run`: the stages of a project."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from pipeline.cli.app import CONFIG, QUIET, VERBOSE
from pipeline.cli.output import guard, log, print_messages, say, setup_logging
from pipeline.core.vocabulary import Executor, Stage


def run(
    stage: Stage = typer.Option(Stage.all, "--stage", "-s", help="One stage, or all in order."),
    config: Path = CONFIG,
    models_dir: Path | None = typer.Option(
        None, help="Where model directories go.", show_default="models/ beside the config"
    ),
    out: Path | None = typer.Option(
        None, help="Where each run's files go.", show_default="runs/ beside the config"
    ),
    model_dir: Path | None = typer.Option(
        None, help="Score or evaluate this model directory.", show_default="the newest model"
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Score or evaluate this model: an alias (pipeline promote), a model id or latest; "
        "not with --model-dir.",
        show_default="[scoring] model of the config",
    ),
    incremental: bool = typer.Option(
        False,
        "--incremental",
        help="predict scores only the rows the model has not scored yet (by id and dataset) "
        "and appends them; the model's other rows stay as they are.",
    ),
    executor: Executor | None = typer.Option(
        None,
        help="How predict scores: auto picks in-process, threads or worker processes by "
        "timing; dask scores on the cluster at --scheduler; warehouse runs the model as SQL.",
        show_default="[scoring] executor of the config",
    ),
    scheduler: str | None = typer.Option(
        None,
        help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786.",
        show_default="[scoring] scheduler of the config",
    ),
    workers: int | None = typer.Option(
        None, min=1, help="Scoring workers.", show_default="[scoring] workers of the config"
    ),
    batch_rows: int | None = typer.Option(
        None,
        min=1,
        help="Rows per scoring batch.",
        show_default="[scoring] batch_rows of the config",
    ),
    keep_parts: bool = typer.Option(
        False,
        "--keep-parts",
        help="Keep predict's JSON Lines parts (runs/<run_id>/predictions/*.jsonl.gz) after "
        "they are loaded.",
    ),
    allow_drift: bool = typer.Option(
        False,
        "--allow-drift",
        help="Write predictions even when drift is over a [monitor] fail threshold (the breach "
        "is still printed and recorded in the drift table).",
    ),
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Run the pipeline: preprocess, train, predict, evaluate.

    Example: pipeline run --stage preprocess --config pipeline.toml
    """
    if quiet or verbose:  # as a command option too: `pipeline run -q` reads naturally
        setup_logging(quiet, verbose)

    def go() -> None:
        from pipeline.stages.threads import wait_passively

        wait_passively()  # before anything loads OpenMP: it reads the policy once
        from pipeline.tools.run import run_project

        # the run id is printed once the run lock is held: a refused run never happened
        run_project(
            config,
            None if stage is Stage.all else [stage.value],
            models_dir=models_dir,
            out=out,
            model_dir=model_dir,
            model=model,
            incremental=incremental,
            quiet=quiet or log.getEffectiveLevel() > logging.WARNING,
            executor=executor,
            workers=workers,
            batch_rows=batch_rows,
            scheduler=scheduler,
            keep_parts=keep_parts,
            allow_drift=allow_drift,
            on_result=print_messages,
            on_start=lambda run_id: say(f"run {run_id}"),
        )

    guard(go)
