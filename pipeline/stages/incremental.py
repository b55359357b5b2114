"""Incremental scoring (`pipeline run --stage predict --incremental`): score only the rows whose
(id, dataset) the model has not scored yet, and append them to `predictions` in one write, so
a nightly job over a growing table scores what is new. The holdout is filtered the same way: a
new labelled row that falls in the holdout is scored, one already scored is not. A model with
no rows in `predictions` yet is scored in full. Rows whose values changed under an id already
scored are not scored again: a full predict (without --incremental) replaces every row."""

from __future__ import annotations

from pipeline.core.errors import DataError, WarehouseError
from pipeline.model.trained import TrainedModel
from pipeline.scoring.stream import ScoreReport
from pipeline.scoring.tasks import PartJob
from pipeline.stages.project import Project
from pipeline.stages.raw_types import Casts, with_casts
from pipeline.stages.spec import Table, staging_table
from pipeline.warehouse import Warehouse


def rows_scored_before(project: Project, model: TrainedModel) -> int:
    """How many rows of `predictions` this model has (0: no table yet)."""
    wh = project.warehouse
    table = project.table(Table.predictions)
    with wh.reading():
        if not wh.table_exists(table):
            return 0
        return wh.count_rows(
            f"SELECT 1 FROM {wh.dialect.quote(table)} "
            f"WHERE model_id = {wh.dialect.literal(model.model_id)}"
        )


def unscored_only(
    project: Project, model: TrainedModel, rows_sql: str, hashes: dict[str, str] | None = None
) -> str:
    """`rows_sql` (feature rows, or scored rows, with the id and dataset columns) less the rows
    this model already has in `predictions`; the template's hash goes into `hashes`."""
    rendered = project.templates.render(
        "predict/unscored.sql",
        rows=rows_sql,
        predictions=project.table(Table.predictions),
        model_id=model.model_id,
        id=model.spec.id,
    )
    if hashes is not None:
        hashes[rendered.name] = rendered.hash
    return rendered.sql


def count_new_rows(project: Project, model: TrainedModel, casts: Casts, datasets: list[str]) -> int:
    """How many rows of `datasets` the model has not scored: in-warehouse scoring counts them
    before it writes, so that nothing new writes nothing."""
    wh = project.warehouse
    sql, _ = model.transform_sql(wh.dialect, project.raw_sources(), datasets)
    with wh.reading():
        return wh.count_rows(unscored_only(project, model, with_casts(sql, project, casts)))


def append_parts(
    project: Project, columns: dict[str, str], report: ScoreReport, job: PartJob
) -> None:
    """Load the scored parts (of the predictions table's `columns`) into the staging table,
    then append them to `predictions` in one INSERT: the rows already there are never
    touched, and a failure adds none."""
    wh = project.warehouse
    staging = project.table(staging_table(Table.predictions))
    try:
        wh.load_jsonl(report.parts, staging, columns)
    except WarehouseError as exc:
        raise DataError(
            f"the JSON Lines parts in {job.out_dir} do not load into {staging} with the "
            f"schema {columns}: {exc}"
        ) from exc
    append_rows(wh, project.table(Table.predictions), staging)


def append_rows(wh: Warehouse, target: str, source: str) -> int:
    """Append every row of `source` to `target` in one INSERT (atomic on any engine; the rows
    already in `target` are not touched), creating `target` from `source`'s schema if needed,
    then drop `source`; returns the number of rows appended."""
    t, s = wh.dialect.quote(target), wh.dialect.quote(source)
    with wh.transaction():
        if not wh.table_exists(target):
            wh.execute(f"CREATE TABLE {t} AS SELECT * FROM {s} WHERE FALSE")
        columns = wh.describe(source)
        wh.add_missing_columns(target, columns)
        n = wh.count_rows(f"SELECT 1 FROM {s}")
        names = ", ".join(wh.dialect.quote(c) for c, _ in columns)
        wh.execute(f"INSERT INTO {t} ({names}) SELECT {names} FROM {s}")
        wh.execute(f"DROP TABLE {s}")
    return n


def first_score(project: Project, model: TrainedModel) -> str:
    """The note of an incremental run for a model never scored."""
    return (
        f"predict: --incremental: model {model.model_id} has no rows in "
        f"{project.table(Table.predictions)} yet: every row is scored"
    )


def nothing_new(project: Project, model: TrainedModel, scored: int) -> str:
    """The note of an incremental run that found no new rows."""
    return (
        f"predict: --incremental: model {model.model_id} has scored every row already "
        f"({scored} in {project.table(Table.predictions)}): nothing written"
    )
