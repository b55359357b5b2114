"""Where a [tune] search is recorded: `cv_results` (one row per candidate, per model), the model
directory's cv_results.json and the train stage's ledger row; and forgotten, when the same
model id is trained again without [tune]."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipeline.core.vocabulary import Search
from pipeline.stages.spec import Table, staging_table
from pipeline.stages.tune import SEARCH_FILE, SearchResult, params_text

if TYPE_CHECKING:
    from pipeline.model.trained import TrainedModel
    from pipeline.stages.ledger import StageResult
    from pipeline.stages.project import Project


def write_cv_results(project: Project, search: SearchResult, model_id: str, run_id: str) -> None:
    """The search's rows replace the model's rows of cv_results (writes of the caller's
    transaction: train holds the warehouse itself)."""
    wh, t = project.warehouse, project.templates
    rows = [
        {
            "candidate": c.candidate,
            "params": params_text(c.params),
            "mean": c.mean,
            "std": c.std,
            "rank": c.rank,
            "fold_scores": json.dumps(list(c.fold_scores)),
        }
        for c in search.scored
    ]
    rendered = t.render(
        "tune/cv_results.sql",
        run_id=run_id,
        model_id=model_id,
        metric=search.metric,
        folds=search.folds,
        rows=rows,
    )
    staging = project.table(staging_table(Table.cv_results))
    wh.replace_table(staging, rendered.sql)
    wh.replace_rows(project.table(Table.cv_results), staging, "model_id", model_id)


def forget_search(project: Project, model_id: str) -> None:
    """Trained without [tune]: the model's cv_results rows (of an earlier tuned fit of the
    same id) go, as its directory has no cv_results.json. A short write, only if needed."""
    wh = project.warehouse
    table = wh.dialect.quote(project.table(Table.cv_results))
    where = f"WHERE model_id = {wh.dialect.literal(model_id)}"
    with wh.reading():
        if not wh.table_exists(project.table(Table.cv_results)):
            return
        if not wh.count_rows(f"SELECT 1 FROM {table} {where}"):
            return
    with wh.writing(), wh.transaction():
        wh.execute(f"DELETE FROM {table} {where}")


def record_search(
    project: Project, search: SearchResult, model: TrainedModel, run_id: str, result: StageResult
) -> None:
    """The search, everywhere it is kept: cv_results (one write hold and transaction, before
    the model is saved), the model directory's cv_results.json, the stage's result and its
    ledger row."""
    wh = project.warehouse
    with wh.writing(), wh.transaction():
        write_cv_results(project, search, model.model_id, run_id)
    model.extras[SEARCH_FILE] = search.to_json()
    result.details["tune"] = search.summary()
    best, tune, n = search.best, project.config.tune, len(search.scored)
    if tune and tune.search == Search.random and (tune.candidates or 0) > n:
        result.messages.append(
            f"train: [tune] candidates = {tune.candidates}: all {n} "
            "combinations of the grid were tried"
        )
    result.messages.append(
        f"train: [tune] {n} candidates x {search.folds} folds on "
        f"{search.rows} rows; best {params_text(best.params)}: {search.metric} "
        f"{_number(best.mean)} +/- {_number(best.std)} -> {project.table(Table.cv_results)}"
    )


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"
