"""`pipeline run`: the stages of a project, with the paths and scoring settings the command line
gives (models/ and runs/ beside the config by default)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pipeline.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import Executor
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import StageResult, new_run_id
from pipeline.stages.runner import run_stages

log = logging.getLogger("pipeline")


def run_project(
    config: Path,
    stages: list[str] | None = None,
    *,
    models_dir: Path | None = None,
    out: Path | None = None,
    model_dir: Path | None = None,
    model: str | None = None,
    incremental: bool = False,
    quiet: bool = False,
    executor: Executor | None = None,
    workers: int | None = None,
    batch_rows: int | None = None,
    scheduler: str | None = None,
    keep_parts: bool = False,
    allow_drift: bool = False,
    on_result: Callable[[StageResult], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> list[StageResult]:
    """Run the named stages (all, in order, by default). `on_start` gets the run id once the
    run lock is held; `on_result` each stage's result as it finishes."""
    load_config(config)  # a broken config fails before a run id is handed out
    if model is not None and model_dir is not None:
        raise ConfigError("--model and --model-dir name a model each: give one of them")
    base = config.resolve().parent
    options = RunOptions(
        config_path=config,
        run_id=new_run_id(),
        models_dir=models_dir or base / "models",
        out_dir=out or base / "runs",
        model_dir=model_dir,
        model=model,
        incremental=incremental,
        quiet=quiet,
        executor=executor.value if executor else None,
        workers=workers,
        batch_rows=batch_rows,
        scheduler=scheduler,
        keep_parts=keep_parts,
        allow_drift=allow_drift,
    )
    log.debug("run options: %s", options)
    return run_stages(options, stages, on_result=on_result, on_start=on_start)
