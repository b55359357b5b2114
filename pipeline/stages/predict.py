"""predict: the model's own frozen SQL over the raw tables -> scored in parallel -> JSON Lines
part files -> one atomic replace of this model's rows in the predictions table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from pipeline.contracts import enforce
from pipeline.errors import (
    ConfigError,
    DataError,
    MissingInputError,
    ScoringError,
    WarehouseError,
)
from pipeline.ledger import StageResult, latest_model_id
from pipeline.model import TrainedModel
from pipeline.progress import progress_bar
from pipeline.project import Project
from pipeline.scoring import PartJob, Placement, ScoreReport, describe_mode, score_batches
from pipeline.stages import RunOptions, from_path, holds_own_warehouse


def scored_datasets(project: Project) -> list[str]:
    """Every split but train: the holdout, and the unlabelled rows when there are any."""
    return [d for d in project.datasets() if d != "train"]


def resolve_model_dir(project: Project, options: RunOptions) -> Path:
    """The model named on the command line, else the newest one trained in this warehouse."""
    model_dir = options.model_dir
    if model_dir is None:
        model_id = latest_model_id(project)
        if model_id is None:
            raise MissingInputError(
                "no trained model found: run `pipeline run --stage train` first"
            )
        model_dir = options.models_dir / model_id
    if not Path(model_dir).is_dir():
        raise MissingInputError(
            f"model directory {model_dir} not found: run `pipeline run --stage train` first"
        )
    return Path(model_dir)


def resolve_model(project: Project, options: RunOptions) -> TrainedModel:
    return TrainedModel.load(resolve_model_dir(project, options))


def prediction_columns(model: TrainedModel) -> dict[str, str]:
    """The predictions table's schema, in neutral types, whichever way the rows were scored."""
    spec = model.spec
    return {
        "run_id": "string",
        "model_id": "string",
        spec.id: model.meta["id_type"],
        "dataset": "string",
        "prediction": "float" if model.meta["task"] == "regression" else model.meta["label_type"],
        "score": "float",
        "scored_by": "string",  # inprocess, thread, process, dask or warehouse
    }


@contextmanager
def placement(
    executor: str | Executor, scheduler: str | None, model: TrainedModel, workers: int
) -> Iterator[Placement]:
    """Where the scoring tasks run: this machine for a mode name or a given Executor, or, for
    "dask", the cluster at `scheduler` with the model shipped to its workers."""
    if executor != "dask":
        yield Placement(executor, workers)
        return
    if not scheduler:
        raise ConfigError(
            "--executor dask needs --scheduler tcp://HOST:PORT (or [scoring] scheduler)"
        )
    from pipeline.cluster import dask_executor

    with dask_executor(scheduler, model) as cluster:
        yield replace(cluster, workers=workers or cluster.workers)


def score_in_python(
    project: Project,
    model: TrainedModel,
    features_sql: str,
    job: PartJob,
    executor: str | Executor,
    workers: int,
    batch_rows: int,
    scheduler: str | None,
    quiet: bool,
) -> ScoreReport:
    """Read the feature rows out and score them on `executor` without holding the warehouse;
    `load_parts` then loads the parts back."""
    wh = project.warehouse
    total, batches = wh.read_out(features_sql, batch_rows, Path(job.out_dir).parent)
    with (
        placement(executor, scheduler, model, workers) as where,
        progress_bar(total, "predict", quiet) as advance,
    ):
        report = score_batches(
            model,
            batches,
            total,
            replace(job, ship=where.ship),
            executor=where.executor,
            workers=where.workers,
            progress=advance,
            batch_rows=batch_rows,
            scored_by=where.scored_by,
            reason=where.reason,
        )
    return report


def load_parts(project: Project, model: TrainedModel, report: ScoreReport, job: PartJob) -> None:
    """Replace this model's rows in the predictions table with the scored parts."""
    wh = project.warehouse
    try:
        wh.replace_rows_from_jsonl(
            project.table("predictions"),
            report.parts,
            prediction_columns(model),
            "model_id",
            model.model_id,
        )
    except WarehouseError as exc:
        raise DataError(
            f"the JSON Lines parts in {job.out_dir} do not load into "
            f"{project.table('predictions')} with its schema {prediction_columns(model)}: {exc}"
        ) from exc


def score_in_warehouse(
    project: Project, model: TrainedModel, run_id: str
) -> tuple[ScoreReport, dict[str, str]]:
    """The model compiled to one SQL query that the warehouse runs: no row leaves it."""
    start = time.perf_counter()
    wh = project.warehouse
    prediction_type = wh.type_names[prediction_columns(model)["prediction"]]
    sql, hashes, compiled = model.in_warehouse_sql(
        wh,
        project.templates,
        project.raw_sources(),
        scored_datasets(project),
        run_id,
        prediction_type,
    )
    size, limit = len(sql.encode()), wh.max_query_bytes
    if limit is not None and size > limit:
        raise ScoringError(
            f"{compiled.estimator} compiles to {size:,} bytes of SQL, more than the "
            f"{limit:,} the {wh.dialect} warehouse accepts in one query: score it in Python "
            "(--executor auto, process or dask), or train a smaller ensemble"
        )
    staging = project.table("predictions__staging")
    with wh.wide_queries():
        rows = wh.replace_table(staging, sql)
    wh.replace_rows(project.table("predictions"), staging, "model_id", model.model_id)
    reason = (
        f"{compiled.estimator} compiled to {len(sql):,} characters of SQL, "
        f"{compiled.columns:,} expressions in {len(compiled.layers)} layers"
    )
    return ScoreReport(rows, [], "warehouse", reason, time.perf_counter() - start), hashes


def predict_from_data(
    project: Project,
    model: TrainedModel,
    run_id: str,
    parts_dir: Path,
    executor: str | Executor,
    workers: int,
    batch_rows: int,
    quiet: bool = True,
    scheduler: str | None = None,
) -> tuple[ScoreReport, dict[str, str]]:
    """Score the holdout and test rows and replace this model's rows in `predictions`;
    returns the report and the hashes of the SQL that made them.

    `executor` is a local mode (auto, process, thread, inprocess), "dask" (with `scheduler`),
    "warehouse" (the model compiled to SQL), or any concurrent.futures.Executor."""
    wh = project.warehouse
    with wh.reading():
        project.check_raw_columns(model.spec, f"model {model.model_id} was trained on it")
        enforce(project, model.spec, project.raw_sources())
    job = None
    if executor != "warehouse":  # scored holding nothing; then one short write loads it all
        sql, hashes = model.transform_sql(wh, project.raw_sources(), scored_datasets(project))
        assert model.directory is not None
        job = PartJob(run_id, model.model_id, str(model.directory), model.spec.id, str(parts_dir))
        report = score_in_python(
            project, model, sql, job, executor, workers, batch_rows, scheduler, quiet
        )
    with wh.writing(), wh.transaction():  # the writes commit together
        if job is None:
            report, hashes = score_in_warehouse(project, model, run_id)
        else:
            load_parts(project, model, report, job)
        unseen = model.unseen_sql(wh, project.raw_sources(), scored_datasets(project), run_id)
        staging = project.table("unseen_categories__staging")
        wh.replace_table(staging, unseen)
        wh.replace_rows(project.table("unseen_categories"), staging, "model_id", model.model_id)
    return report, hashes


@holds_own_warehouse  # reads, scores holding nothing, then one write
def run_predict(project: Project, options: RunOptions, result: StageResult) -> None:
    model = resolve_model(project, options)
    result.model_id = model.model_id
    for name in model.changed_templates(project.config.sql_dir):
        result.messages.append(
            f"predict: sql/{name} changed since model {model.model_id} was trained; "
            "scoring uses the model's own copy (retrain to use the new SQL)"
        )
    cfg = project.config.scoring
    parts_dir = options.out_dir / options.run_id / "predictions"
    report, result.sql_hashes = predict_from_data(
        project,
        model,
        options.run_id,
        parts_dir,
        options.executor or cfg.executor,
        options.workers if options.workers is not None else cfg.workers,
        options.batch_rows or cfg.batch_rows,
        options.quiet,
        options.scheduler or cfg.scheduler,
    )
    result.rows_in = result.rows_out = report.rows
    result.details.update(mode=report.mode, parts=len(report.parts))
    wh = project.warehouse
    unseen = wh.query_arrow(
        "SELECT feature, sum(row_count) AS n, count(*) AS k FROM "
        f"{wh.quote(project.table('unseen_categories'))} "
        f"WHERE model_id = {wh.literal(model.model_id)} GROUP BY feature ORDER BY feature"
    ).to_pylist()
    result.details["unseen"] = {u["feature"]: int(u["n"]) for u in unseen}
    for u in unseen:
        result.messages.append(
            f"predict: {u['n']} rows had {u['k']} {u['feature']} value(s) the training "
            f"split never had (scored as unknown; see {project.table('unseen_categories')})"
        )
    via = f"{parts_dir} -> " if report.parts else ""
    result.messages.append(
        f"predict: {report.rows} rows scored {describe_mode(report.mode)} "
        f"({report.reason}) in {report.seconds:.2f} s -> {via}{project.table('predictions')}"
    )


def predict_from_path(options: RunOptions) -> StageResult:
    return from_path("predict", run_predict, options)
