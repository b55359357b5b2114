"""Run stages in order under one run id: the one place that opens the project, takes the run
lock and runs the stage bodies. The registry fails loudly on an unknown name."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pipeline.core.errors import ConfigError, is_interrupt
from pipeline.core.vocabulary import Stage
from pipeline.stages import checks
from pipeline.stages.base import RunOptions, StageBody, run_recorded
from pipeline.stages.evaluate import run_evaluate
from pipeline.stages.ledger import StageResult, record
from pipeline.stages.predict import run_predict
from pipeline.stages.preprocess import run_preprocess
from pipeline.stages.project import Project
from pipeline.stages.spec import STAGES
from pipeline.stages.train import run_train

log = logging.getLogger("pipeline")

# the body of each declared stage (pipeline/stages/spec.py), in run order
BODIES: dict[Stage, StageBody] = {
    Stage.preprocess: run_preprocess,
    Stage.train: run_train,
    Stage.predict: run_predict,
    Stage.evaluate: run_evaluate,
}


def run_stages(
    options: RunOptions,
    stages: list[str] | None = None,
    on_result: Callable[[StageResult], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> list[StageResult]:
    """Run the named stages (all, in order, by default); stops at the first failure.
    `on_start` gets the run id once the run lock is held: a run refused by the lock never
    started, so nothing should name it.

    The run lock is held from the first stage to the last, so a second `pipeline run` cannot
    interleave its stages with these; the warehouse itself is held only while a stage reads
    or writes, so `pipeline sql` and `show` get in between."""
    unknown = [s for s in stages or () if s not in BODIES]
    if unknown:
        raise ConfigError(f"unknown stage {unknown[0]!r}; stages: {', '.join(STAGES)}")
    names = [Stage(s) for s in stages] if stages else list(STAGES)
    results = []
    with (
        Project.open(options.config_path, on_demand=True) as project,
        project.exclusive_run(options.run_id),
    ):
        if on_start:
            on_start(options.run_id)
        unused = checks.unused_options(options, names)
        if unused:
            log.warning(unused)
        current: Stage | None = names[0]  # the stage a Ctrl-C now would interrupt
        started = datetime.now(UTC)
        try:
            # estimator, names, classes, dirs, model, types: refused before any stage writes
            checks.check_before_writes(project, options, names)
            for name in names:
                current, started = name, datetime.now(UTC)
                result = run_recorded(project, options, name, BODIES[name])
                current = None  # its row is written
                results.append(result)
                if on_result:
                    on_result(result)
        except BaseException as exc:
            if current and is_interrupt(exc) and not getattr(exc, "ledger_recorded", False):
                # Ctrl-C before a stage's own row could be written (its checks, its hold
                # of the warehouse): the ledger still says the run was interrupted there
                try:
                    record(project, options.run_id, StageResult(stage=current.value), started, exc)
                except Exception as failure:
                    log.warning("could not record the interrupted run: %s", failure)
            raise
    return results
