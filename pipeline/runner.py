"""Run stages in order under one run id. The stage registry fails loudly on an unknown name."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import ConfigError, WarehouseError
from pipeline.ledger import StageResult
from pipeline.project import Project
from pipeline.stages import RunOptions, StageBody, run_recorded
from pipeline.stages.evaluate import run_evaluate
from pipeline.stages.predict import run_predict
from pipeline.stages.preprocess import run_preprocess
from pipeline.stages.train import run_train

STAGES: dict[str, StageBody] = {
    "preprocess": run_preprocess,
    "train": run_train,
    "predict": run_predict,
    "evaluate": run_evaluate,
}


def run_stages(
    options: RunOptions,
    stages: list[str] | None = None,
    on_result: Callable[[StageResult], None] | None = None,
) -> list[StageResult]:
    """Run the named stages (all, in order, by default); stops at the first failure.

    The run lock is held from the first stage to the last, so a second `pipeline run` cannot
    interleave its stages with these; the warehouse itself is held only while a stage reads
    or writes, so `pipeline sql` and `show` get in between."""
    names = stages if stages else list(STAGES)
    unknown = [s for s in names if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage {unknown[0]!r}; stages: {', '.join(STAGES)}")
    results = []
    with (
        Project.open(options.config_path, on_demand=True) as project,
        project.exclusive_run(options.run_id),
    ):
        _check_warehouse_file(project)
        if "train" in names:
            # a config error found by a late stage must not follow writes by an early one
            from pipeline.stages.train import check_estimator_kind, make_estimator

            model = project.config.model
            estimator = make_estimator(model.estimator, model.params, model.packages)
            check_estimator_kind(estimator, project.config.task, model.estimator)
            executor = options.executor or project.config.scoring.executor
            if "predict" in names and executor == "warehouse":
                from pipeline.model_sql import check_compilable

                check_compilable(estimator)
        from pipeline.contracts import check_before_writes

        check_before_writes(project, options, names)  # names, classes, dirs, model, types
        for name in names:
            result = run_recorded(project, options, name, STAGES[name])
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _check_warehouse_file(project: Project) -> None:
    """A DuckDB file that is still absent after seeding holds no raw table, so no stage can
    run; say so before the first open creates an empty file at what is likely a typo."""
    from pipeline.warehouse.duckdb import DuckDBWarehouse

    wh = project.warehouse
    if isinstance(wh, DuckDBWarehouse) and str(wh.path) != ":memory:" and not wh.path.exists():
        raise WarehouseError(
            f"warehouse file {wh.path} (named in {project.config.path}) does not exist; "
            "`pipeline ingest` creates it, or set [warehouse] seed_from"
        )
