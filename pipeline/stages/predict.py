"""predict: the model's own frozen SQL over the raw tables -> scored in parallel -> JSON Lines
part files -> one atomic replace of this model's rows in the predictions table."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

from pipeline.core.errors import (
    ConfigError,
    DataError,
    MissingInputError,
    ScoringError,
    WarehouseError,
)
from pipeline.core.keys import load_key
from pipeline.core.vocabulary import Task
from pipeline.features.sql import Spec
from pipeline.model.meta import ModelMeta
from pipeline.model.trained import TrainedModel
from pipeline.scoring.pool import PartJob, Placement, ScoreReport, describe_mode, score_batches
from pipeline.scoring.progress import progress_bar
from pipeline.stages.base import RunOptions, from_path, holds_own_warehouse
from pipeline.stages.contracts import enforce
from pipeline.stages.ledger import StageResult, latest_model_id
from pipeline.stages.project import Project

# the neutral family of a warehouse column type (DuckDB and BigQuery names): int, float and
# decimal are one family, "numeric", because clean.sql casts every numeric feature to float
_FAMILIES = (
    ("boolean", re.compile(r"^(BOOL|BOOLEAN|LOGICAL)$")),
    (
        "numeric",
        re.compile(
            r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?(\d+)?|INT64|FLOAT(64|4|8)?|DOUBLE|REAL|"
            r"(BIG)?(NUMERIC|DECIMAL)(\(.*\))?|BIGDECIMAL)$"
        ),
    ),
    ("string", re.compile(r"^(VARCHAR|STRING|TEXT|CHAR|BPCHAR|NVARCHAR)(\(.*\))?$")),
    ("temporal", re.compile(r"^(DATE|TIME|DATETIME|INTERVAL|TIMESTAMP)\b")),
)


def type_family(type_name: str) -> str:
    """numeric, boolean, string or temporal; any other type is its own family (its name).
    int, float and decimal are the same family: a column moving between them scores alike."""
    name = type_name.strip().upper()
    for family, pattern in _FAMILIES:
        if pattern.match(name):
            return family
    return name.lower()


def raw_types(project: Project, table: str) -> dict[str, dict[str, str]]:
    """Each column's type as the warehouse describes it, and its family."""
    return {c: {"type": t, "family": type_family(t)} for c, t in project.warehouse.describe(table)}


def check_model_fits(project: Project, meta: ModelMeta) -> None:
    """A model trained for another task, id or label would be scored into nonsense (or fail
    on a data contract it was never meant for): say so first."""
    cfg = project.config
    pairs = (
        ("task", meta.task, cfg.task, "[columns] task"),
        ("id column", meta.spec.id, cfg.id_column, "[columns] id"),
        ("label column", meta.spec.label, cfg.label_column, "[columns] label"),
    )
    for what, trained, now, key in pairs:
        if trained is not None and str(trained) != now:
            raise ConfigError(
                f"model {meta.model_id} was trained for {what} {trained!r} but "
                f"{cfg.path.name} says {now!r} ({key}): score it with its own config, or "
                "train a model for this one"
            )


def type_changes(
    project: Project, spec: Spec, trained: dict[str, dict[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(table, column, trained type, type now) for each column the model reads whose type
    family differs from the one it was trained on."""
    changes = []
    for source in project.raw_sources():
        now = {c.lower(): t for c, t in project.warehouse.describe(source.table)}
        wanted = [spec.id, *(f.column for f in spec.features)]
        for name in wanted:
            was, is_now = trained.get(name), now.get(name.lower())
            if was is None or is_now is None:
                continue
            if type_family(is_now) != was["family"]:
                changes.append((source.table, name, was["type"], is_now))
    return changes


def check_types(
    project: Project, spec: Spec, trained: dict[str, dict[str, str]], trained_on: str
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Refuse (DataError) a raw column whose type family changed since training, or, with
    `[scoring] on_type_change = "cast"`, cast it back to the trained type. Returns the casts,
    {table: {column: neutral type}}, and one note per cast. `trained_on` ends the message:
    "... is not the type BIGINT <trained_on>"."""
    changes = type_changes(project, spec, trained)
    if not changes:
        return {}, []
    policy = project.config.scoring.on_type_change
    if policy != "cast":
        table, name, was, now = changes[0]
        raise DataError(
            f"table {table}, column {name}: type {now} is not the type {was} {trained_on}"
            f"{f' (and {len(changes) - 1} more)' if len(changes) > 1 else ''}: fix the table, "
            'or set [scoring] on_type_change = "cast" to cast it back'
        )
    casts: dict[str, dict[str, str]] = {}
    notes = []
    for table, name, was, now in changes:
        neutral = _NEUTRAL.get(type_family(was), "string")
        if neutral == "float" and re.match(r"^U?(TINY|SMALL|BIG|HUGE)?INT|^INT64$", was.upper()):
            neutral = "int"
        casts.setdefault(table, {})[name] = neutral
        notes.append(
            f"predict: cast {table}.{name} from {now} to {was}, the type {trained_on} "
            '([scoring] on_type_change = "cast")'
        )
    return casts, notes


_NEUTRAL = {"numeric": "float", "boolean": "bool", "string": "string", "temporal": "timestamp"}


def with_casts(sql: str, project: Project, casts: dict[str, dict[str, str]]) -> str:
    """Read each raw table through a SELECT that casts the changed columns back to their
    trained type; the model's own SQL is left as it was saved."""
    wh = project.warehouse
    for table, columns in casts.items():
        quoted = wh.dialect.quote(table)
        if f"FROM {quoted}" not in sql:  # a model saved with other templates reads it otherwise
            raise ScoringError(
                f"cannot cast columns of {table} back to their trained types: the model's SQL "
                f"does not read it as FROM {quoted}; fix the table's types instead"
            )
        replaced = ", ".join(
            f"CAST({wh.dialect.quote(c)} AS {wh.dialect.type_name(t)}) AS {wh.dialect.quote(c)}"
            for c, t in sorted(columns.items())
        )
        alias = wh.dialect.quote(table.split(".")[1])
        wrapped = f"(SELECT * REPLACE ({replaced}) FROM {quoted}) AS {alias}"
        sql = sql.replace(f"FROM {quoted}", f"FROM {wrapped}")
    return sql


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
    key = load_key(project.config.model.signing_key)
    return TrainedModel.load(resolve_model_dir(project, options), key)


def prediction_columns(model: TrainedModel) -> dict[str, str]:
    """The predictions table's schema, in neutral types, whichever way the rows were scored."""
    spec = model.spec
    return {
        "run_id": "string",
        "model_id": "string",
        spec.id: model.meta.id_type,
        "dataset": "string",
        "prediction": "float" if model.meta.task == Task.regression else model.meta.label_type,
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
    from pipeline.scoring.dask import dask_executor

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
    if total == 0:
        return ScoreReport(0, [], "none", "no rows to score", 0.0)
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


def clear_predictions(project: Project, model: TrainedModel) -> None:
    """Nothing to score: this model's rows in `predictions` become none at all, so no rows of
    an earlier run stay there looking current."""
    wh = project.warehouse
    columns = ", ".join(
        f"CAST(NULL AS {wh.dialect.type_name(t)}) AS {wh.dialect.quote(c)}"
        for c, t in prediction_columns(model).items()
    )
    staging = project.table("predictions__staging")
    # a FROM for the WHERE: BigQuery refuses a WHERE without one
    wh.replace_table(staging, f"SELECT {columns} FROM (SELECT 1 AS one) AS nothing WHERE FALSE")
    wh.replace_rows(project.table("predictions"), staging, "model_id", model.model_id)


def score_in_warehouse(
    project: Project,
    model: TrainedModel,
    run_id: str,
    casts: dict[str, dict[str, str]] | None = None,
) -> tuple[ScoreReport, dict[str, str]]:
    """The model compiled to one SQL query that the warehouse runs: no row leaves it."""
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
    size, limit = len(sql.encode()), wh.dialect.max_query_bytes
    if limit is not None and size > limit:
        raise ScoringError(
            f"{compiled.estimator} compiles to {size:,} bytes of SQL, more than the "
            f"{limit:,} the {wh.dialect.name} warehouse accepts in one query: score it in Python "
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
    messages: list[str] | None = None,
) -> tuple[ScoreReport, dict[str, str]]:
    """Score the holdout and test rows and replace this model's rows in `predictions`;
    returns the report and the hashes of the SQL that made them.

    `executor` is a local mode (auto, process, thread, inprocess), "dask" (with `scheduler`),
    "warehouse" (the model compiled to SQL), or any concurrent.futures.Executor. Notes for the
    user (casts, nothing to score) are appended to `messages`.

    A failure or Ctrl-C removes what this call wrote under the run directory (the parent of
    `parts_dir`: the parts, the spilled feature rows), and that directory if it made it."""
    with discarded_on_failure(parts_dir.parent):
        wh = project.warehouse
        with wh.reading():
            check_model_fits(project, model.meta)
            project.check_raw_columns(model.spec, f"model {model.model_id} was trained on it")
            trained = model.meta.raw_types
            casts: dict[str, dict[str, str]] = {}
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
        job = None
        if executor != "warehouse":  # scored holding nothing; then one short write loads it all
            sql, hashes = model.transform_sql(
                wh.dialect, project.raw_sources(), scored_datasets(project)
            )
            sql = with_casts(sql, project, casts)
            assert model.directory is not None
            job = PartJob(
                run_id, model.model_id, str(model.directory), model.spec.id, str(parts_dir)
            )
            report = score_in_python(
                project, model, sql, job, executor, workers, batch_rows, scheduler, quiet
            )
        with wh.writing(), wh.transaction():  # the writes commit together
            if job is None:
                report, hashes = score_in_warehouse(project, model, run_id, casts)
            elif report.rows == 0:
                clear_predictions(project, model)
            else:
                load_parts(project, model, report, job)
            unseen = model.unseen_sql(
                wh.dialect, project.raw_sources(), scored_datasets(project), run_id
            )
            unseen = with_casts(unseen, project, casts)
            staging = project.table("unseen_categories__staging")
            wh.replace_table(staging, unseen)
            wh.replace_rows(project.table("unseen_categories"), staging, "model_id", model.model_id)
        if report.rows == 0:
            notes.append(
                f"predict: no rows to score in {scored_sources(project)}: wrote 0 rows, and model "
                f"{model.model_id} has no rows left in {project.table('predictions')}"
            )
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


@holds_own_warehouse  # reads, scores holding nothing, then one write
def run_predict(project: Project, options: RunOptions, result: StageResult) -> None:
    model = resolve_model(project, options)
    result.model_id = model.model_id
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
    )
    result.rows_in = result.rows_out = report.rows
    result.details.update(mode=report.mode, parts=len(report.parts))
    wh = project.warehouse
    unseen = wh.query_arrow(
        "SELECT feature, sum(row_count) AS n, count(*) AS k FROM "
        f"{wh.dialect.quote(project.table('unseen_categories'))} "
        f"WHERE model_id = {wh.dialect.literal(model.model_id)} GROUP BY feature ORDER BY feature"
    ).to_pylist()
    result.details["unseen"] = {u["feature"]: int(u["n"]) for u in unseen}
    for u in unseen:
        result.warnings.append(
            f"predict: {u['n']} rows had {u['k']} {u['feature']} value(s) the training "
            f"split never had (scored as unknown; see {project.table('unseen_categories')})"
        )
    via = f"{parts_dir} -> " if report.parts else ""
    if report.mode == "none":  # nothing was scored: the note from predict_from_data says so
        return
    result.messages.append(
        f"predict: {report.rows} rows scored {describe_mode(report.mode)} "
        f"({report.reason}) in {report.seconds:.2f} s -> {via}{project.table('predictions')}"
    )


def predict_from_path(options: RunOptions) -> StageResult:
    return from_path("predict", run_predict, options)
