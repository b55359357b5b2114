"""predict: the model's own frozen SQL over the raw tables -> scored in parallel -> JSON Lines
part files -> one atomic replace of this model's rows in the predictions table."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Executor as TaskExecutor
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from pipeline.core.vocabulary import Executor
from pipeline.model.trained import TrainedModel
from pipeline.scoring.modes import describe_mode
from pipeline.scoring.parts import parts_bytes, remove_parts
from pipeline.scoring.stream import ScoreReport
from pipeline.scoring.tasks import PartJob
from pipeline.stages.aliases import refresh_latest_predictions
from pipeline.stages.base import RunOptions
from pipeline.stages.common import check_model_fits, model_label, not_trained_now, resolve_model
from pipeline.stages.contracts import enforce
from pipeline.stages.incremental import (
    append_parts,
    count_new_rows,
    first_score,
    nothing_new,
    rows_scored_before,
    unscored_only,
)
from pipeline.stages.ledger import StageResult
from pipeline.stages.monitor import measure_drift, refuse_drift, scored_unseen, write_drift
from pipeline.stages.predict_scoring import (
    load_parts,
    prediction_columns,
    score_in_python,
    score_in_warehouse,
    scored_datasets,
)
from pipeline.stages.project import Project
from pipeline.stages.raw_types import Casts, check_types, with_casts
from pipeline.stages.spec import Table, staging_table


def clear_predictions(project: Project, model: TrainedModel) -> None:
    """Nothing to score: this model's rows in `predictions` become none at all, so no rows of
    an earlier run stay there looking current."""
    wh = project.warehouse
    columns = ", ".join(
        f"CAST(NULL AS {wh.dialect.type_name(t)}) AS {wh.dialect.quote(c)}"
        for c, t in prediction_columns(model).items()
    )
    staging = project.table(staging_table(Table.predictions))
    # a FROM for the WHERE: BigQuery refuses a WHERE without one
    wh.replace_table(staging, f"SELECT {columns} FROM (SELECT 1 AS one) AS nothing WHERE FALSE")
    wh.replace_rows(project.table(Table.predictions), staging, "model_id", model.model_id)


def predict_from_data(
    project: Project,
    model: TrainedModel,
    run_id: str,
    parts_dir: Path,
    executor: str | TaskExecutor,
    workers: int,
    batch_rows: int,
    quiet: bool = True,
    scheduler: str | None = None,
    messages: list[str] | None = None,
    incremental: bool = False,
    allow_drift: bool = False,
    warnings: list[str] | None = None,
) -> tuple[ScoreReport, dict[str, str]]:
    """Score the holdout and test rows and replace this model's rows in `predictions`;
    returns the report and the hashes of the SQL that made them.

    `executor` is a local mode (auto, process, thread, inprocess), "dask" (with `scheduler`),
    "warehouse" (the model compiled to SQL), or any concurrent.futures.Executor. Notes for the
    user (casts, nothing to score) are appended to `messages`, drift over a [monitor] warn
    threshold to `warnings` (else `messages`); over a fail threshold nothing is written
    (DataError) unless `allow_drift`. `incremental`: score only the rows this model has not
    scored and append them (pipeline/stages/incremental.py); drift is measured on those rows.

    A failure or Ctrl-C removes what this call wrote under the run directory (the parent of
    `parts_dir`: the parts, the spilled feature rows), and that directory if it made it."""
    with discarded_on_failure(parts_dir.parent):
        wh = project.warehouse
        with wh.reading():
            check_model_fits(project, model.meta)
            project.check_raw_columns(model.spec, f"model {model.model_id} was trained on it")
            trained = model.meta.raw_types
            casts: Casts = {}
            if trained is None:
                notes = [
                    f"predict: model {model.model_id} records no raw column types (saved by an "
                    "older pipeline): type changes are not checked"
                ]
            else:
                casts, notes = check_types(
                    project, model.spec, trained, f"model {model.model_id} was trained on"
                )
            enforce(project, model.spec, project.raw_sources())
        asked = incremental  # the re-run a drift refusal suggests has the same flags
        scored_before = rows_scored_before(project, model) if incremental else 0
        if incremental and not scored_before:
            notes.append(first_score(project, model))
        incremental = scored_before > 0  # a model never scored is scored in full
        none_new = False
        with wh.reading():  # drift of the rows about to be scored, refused before any write
            only = partial(unscored_only, project, model) if incremental else None
            drift = measure_drift(
                project, model, scored_datasets(project), run_id, casts, rows_filter=only
            )
        refuse_drift(drift, allow_drift, asked)
        job = None
        if executor != Executor.warehouse:  # scored holding nothing, then one write loads it
            sql, hashes = model.transform_sql(
                wh.dialect, project.raw_sources(), scored_datasets(project)
            )
            sql = with_casts(sql, project, casts)
            if incremental:
                sql = unscored_only(project, model, sql, hashes)
            assert model.directory is not None
            job = PartJob(
                run_id, model.model_id, str(model.directory), model.spec.id, str(parts_dir)
            )
            report = score_in_python(
                project, model, sql, job, executor, workers, batch_rows, scheduler, quiet
            )
            none_new = incremental and report.rows == 0
        elif incremental:  # counted before any write: nothing new writes nothing
            none_new = not count_new_rows(project, model, casts, scored_datasets(project))
            report, hashes = ScoreReport(0, [], "none", "no new rows to score", 0.0), {}
        if none_new:
            notes.append(nothing_new(project, model, scored_before))
            if messages is not None:
                messages.extend(notes)
            return report, hashes
        with wh.writing(), wh.transaction():  # the writes commit together
            # first: past the query size limit it reads the rows being scored again (with
            # --incremental, those the model has not scored: not appended yet)
            write_drift(project, drift, run_id)
            if job is None:
                report, hashes = score_in_warehouse(project, model, run_id, casts, incremental)
            elif report.rows == 0:
                clear_predictions(project, model)
            elif incremental:
                append_parts(project, prediction_columns(model), report, job)
            else:
                load_parts(project, model, report, job)
            unseen = model.unseen_sql(
                wh.dialect, project.raw_sources(), scored_datasets(project), run_id
            )
            unseen = with_casts(unseen, project, casts)
            unseen_staging = project.table(staging_table(Table.unseen_categories))
            wh.replace_table(unseen_staging, unseen)
            wh.replace_rows(
                project.table(Table.unseen_categories), unseen_staging, "model_id", model.model_id
            )
            refresh_latest_predictions(project)
        if report.rows == 0 and not incremental:
            notes.append(
                f"predict: no rows to score in {scored_sources(project)}: wrote 0 rows, and model "
                f"{model.model_id} has no rows left in {project.table(Table.predictions)}"
            )
        hashes = {**hashes, **drift.hashes}
        drift.tell(notes, warnings)
        if messages is not None:
            messages.extend(notes)
        return report, hashes


@contextmanager
def discarded_on_failure(run_dir: Path) -> Iterator[None]:
    """A failure or Ctrl-C inside removes what appeared in `run_dir` meanwhile, and the
    directory itself when it was made meanwhile and is left empty: a failed predict leaves
    nothing on disk."""
    made = not run_dir.exists()
    before = set() if made else set(run_dir.iterdir())
    try:
        yield
    except BaseException:
        discard_run_files(run_dir, before, made)
        raise


def discard_run_files(run_dir: Path, before: set[Path], made_run_dir: bool) -> None:
    """Remove what appeared in `run_dir` since `before`, and the directory itself when this
    run made it and it is left empty: a failed predict leaves nothing on disk."""
    if not run_dir.is_dir():
        return
    for path in set(run_dir.iterdir()) - before:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if made_run_dir:
        with suppress(OSError):  # not empty: something else wrote there meanwhile
            run_dir.rmdir()


def scored_sources(project: Project) -> str:
    """Where the scored rows come from, for the message when there are none."""
    c = project.config
    parts = []
    if c.unlabelled_table:
        parts.append(c.unlabelled_table)
    parts.append(f"the holdout of {c.labelled_table}")
    return " and ".join(parts)


def remove_stale_spills(out_dir: Path, run_id: str) -> None:
    """A predict killed outright (SIGKILL, power) leaves its copy of the feature rows, as
    large as the rows scored; runs are exclusive, so any copy but this run's is stale."""
    from pipeline.warehouse.base import SPILL_NAME

    for spill in out_dir.glob(f"*/{SPILL_NAME}"):
        if spill.parent.name != run_id:
            spill.unlink(missing_ok=True)


def run_predict(project: Project, options: RunOptions, result: StageResult) -> None:
    model = resolve_model(project, options)
    result.model_id = model.model_id
    other = not_trained_now(project, options, model.model_id, "predict")
    if other:
        result.warnings.append(other)
    for name in model.changed_templates(project.config.sql_dir):
        result.warnings.append(
            f"predict: sql/{name} changed since model {model.model_id} was trained; "
            "scoring uses the model's own copy (retrain to use the new SQL)"
        )
    cfg = project.config.scoring
    parts_dir = options.out_dir / options.run_id / "predictions"
    remove_stale_spills(options.out_dir, options.run_id)
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
        result.messages,
        options.incremental,
        options.allow_drift,
        result.warnings,
    )
    result.rows_in = result.rows_out = report.rows
    result.details.update(
        mode=report.mode, parts=len(report.parts), parts_bytes=parts_bytes(report.parts)
    )
    if options.incremental:
        result.details["incremental"] = True
    if not options.keep_parts or not report.parts:  # the parts are spent; none: no empty dirs
        remove_parts(report.parts, parts_dir)
    result.details["unseen"], unseen = scored_unseen(
        project, model.model_id, options.run_id, report.rows, options.incremental
    )
    result.warnings.extend(unseen)
    via = f"{parts_dir} -> " if report.parts else ""
    if report.mode == "none":  # nothing was scored: the note from predict_from_data says so
        return
    new = " new" if options.incremental else ""
    result.messages.append(
        f"predict: {model_label(project, options, model.model_id)}: {report.rows}{new} rows "
        f"scored {describe_mode(report.mode)} "
        f"({report.reason}) in {report.seconds:.2f} s -> {via}{project.table(Table.predictions)}"
    )
