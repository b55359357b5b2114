"""Where and how predict scores: the placement of the Python scoring tasks, the parts loaded
back into the predictions table, or the model compiled to one SQL query in the warehouse."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Executor as TaskExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError, ScoringError, WarehouseError
from pipeline.core.vocabulary import ColumnType, Dataset, Executor, Task
from pipeline.model.trained import TrainedModel
from pipeline.scoring.modes import mode_named
from pipeline.scoring.progress import progress_bar
from pipeline.scoring.stream import Placement, ScoreReport, ScoringPlan, score_batches
from pipeline.scoring.tasks import PartJob
from pipeline.stages.incremental import append_rows, unscored_only
from pipeline.stages.project import Project
from pipeline.stages.raw_types import Casts, with_casts
from pipeline.stages.spec import Table, staging_table


def scored_datasets(project: Project) -> list[str]:
    """Every split but train: the holdout, and the unlabelled rows when there are any."""
    return [d for d in project.datasets() if d != Dataset.train]


def prediction_columns(model: TrainedModel) -> dict[str, str]:
    """The predictions table's schema, in neutral types, whichever way the rows were scored."""
    spec = model.spec
    regression = model.meta.task == Task.regression
    return {
        "run_id": ColumnType.string,
        "model_id": ColumnType.string,
        spec.id: model.meta.id_type,
        "dataset": ColumnType.string,
        "prediction": ColumnType.float if regression else model.meta.label_type,
        "score": ColumnType.float,
        "scored_by": ColumnType.string,  # inprocess, thread, process, dask or warehouse
    }


@contextmanager
def placement(
    executor: str | TaskExecutor, scheduler: str | None, model: TrainedModel, workers: int
) -> Iterator[Placement]:
    """Where the scoring tasks run: this machine for a mode name or a given Executor, or, for
    "dask", the cluster at `scheduler` with the model shipped to its workers."""
    if isinstance(executor, TaskExecutor):
        yield Placement(executor, workers)
        return
    mode = mode_named(executor)
    if mode != Executor.dask:
        yield Placement(mode, workers)
        return
    if not scheduler:
        raise ConfigError(
            "--executor dask needs --scheduler tcp://HOST:PORT (or [scoring] scheduler)"
        )
    from pipeline.scoring.dask import dask_executor

    with dask_executor(scheduler, model) as cluster:
        yield replace(cluster, workers=workers or cluster.workers)


def score_in_python(
    project: Project,
    model: TrainedModel,
    features_sql: str,
    job: PartJob,
    executor: str | TaskExecutor,
    workers: int,
    batch_rows: int,
    scheduler: str | None,
    quiet: bool,
) -> ScoreReport:
    """Read the feature rows out and score them on `executor` without holding the warehouse;
    `load_parts` then loads the parts back."""
    wh = project.warehouse
    total, batches = wh.read_out(features_sql, batch_rows, Path(job.out_dir).parent)
    if total == 0:
        return ScoreReport(0, [], "none", "no rows to score", 0.0)
    with (
        placement(executor, scheduler, model, workers) as where,
        progress_bar(total, "predict", quiet) as advance,
    ):
        plan = ScoringPlan(job, total, where, batch_rows)
        return score_batches(model, batches, plan, advance)


def load_parts(project: Project, model: TrainedModel, report: ScoreReport, job: PartJob) -> None:
    """Replace this model's rows in the predictions table with the scored parts."""
    wh = project.warehouse
    try:
        wh.replace_rows_from_jsonl(
            project.table(Table.predictions),
            report.parts,
            prediction_columns(model),
            "model_id",
            model.model_id,
        )
    except WarehouseError as exc:
        raise DataError(
            f"the JSON Lines parts in {job.out_dir} do not load into "
            f"{project.table(Table.predictions)} with its schema {prediction_columns(model)}: {exc}"
        ) from exc


def score_in_warehouse(
    project: Project,
    model: TrainedModel,
    run_id: str,
    casts: Casts | None = None,
    incremental: bool = False,
) -> tuple[ScoreReport, dict[str, str]]:
    """The model compiled to one SQL query that the warehouse runs: no row leaves it.
    `incremental`: only the rows the model has not scored, appended to its rows."""
    start = time.perf_counter()
    wh = project.warehouse
    prediction_type = wh.dialect.type_name(prediction_columns(model)["prediction"])
    sql, hashes, compiled = model.in_warehouse_sql(
        wh.dialect,
        project.templates,
        project.raw_sources(),
        scored_datasets(project),
        run_id,
        prediction_type,
    )
    sql = with_casts(sql, project, casts or {})
    if incremental:
        sql = unscored_only(project, model, sql, hashes)
    size, limit = len(sql.encode()), wh.dialect.max_query_bytes
    if limit is not None and size > limit:
        raise ScoringError(
            f"{compiled.estimator} compiles to {size:,} bytes of SQL, more than the "
            f"{limit:,} the {wh.dialect.name} warehouse accepts in one query: score it in Python "
            "(--executor auto, process or dask), or train a smaller ensemble"
        )
    staging = project.table(staging_table(Table.predictions))
    with wh.wide_queries():
        rows = wh.replace_table(staging, sql)
    if incremental:
        append_rows(wh, project.table(Table.predictions), staging)
    else:
        wh.replace_rows(project.table(Table.predictions), staging, "model_id", model.model_id)
    reason = (
        f"{compiled.estimator} compiled to {len(sql):,} characters of SQL, "
        f"{compiled.columns:,} expressions in {len(compiled.layers)} layers"
    )
    return ScoreReport(rows, [], Executor.warehouse, reason, time.perf_counter() - start), hashes
