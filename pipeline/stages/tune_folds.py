"""[tune]'s cross-validation: per fold, the preprocessing statistics fitted in SQL on the
fold's training part only, that part's and the validation part's feature rows made with them,
every candidate fitted on the one and scored on the other by the project's metric SQL.

Folds are the outer loop: one fold's feature rows are read once (its statistics query returns
a few rows per feature), held while its candidates fit, and dropped before the next fold's
are read, so memory stays that of one normal train, and nothing holds the warehouse while
a candidate fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DataError
from pipeline.core.vocabulary import Task
from pipeline.evaluation.metrics import metrics_of_many
from pipeline.features.folds import FOLD_COLUMN, fold_features_sql, fold_stats_sql, folds_sql
from pipeline.features.plan import feature_names, plan
from pipeline.features.stats import Stats, stats_from_rows
from pipeline.model.trained import column, feature_matrix, predict_arrays
from pipeline.stages.estimator import make_estimator
from pipeline.stages.spec import Table
from pipeline.stages.threads import bounded_threads, fit_threads
from pipeline.stages.tune import (
    SearchResult,
    candidates,
    params_text,
    rank_scores,
    tune_metric,
)
from pipeline.warehouse.text import one_line

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from pipeline.render.templates import Rendered
    from pipeline.stages.project import Project


def fold_sql(project: Project, sample_salt: str) -> Rendered:
    """The rows the search cross-validates, with their fold (what the tests read as well)."""
    cfg = project.config
    assert cfg.tune is not None
    return folds_sql(
        project.templates,
        project.require(Table.clean),
        cfg.id_column,
        cfg.tune.folds,
        cfg.train.sample_rows,
        sample_salt,
    )


def fold_stats(project: Project, folds: Rendered, fold: int, run_id: str) -> Stats:
    """The statistics of one fold's training part, fitted by fit_stats.sql in the warehouse."""
    rendered = fold_stats_sql(project.templates, project.spec, folds, fold, run_id)
    sql = f"SELECT feature, stat, category, value FROM ({rendered.sql}) AS s"
    return stats_from_rows(project.warehouse.query_arrow(sql).to_pylist())


def _arrays(features: pa.Table, names: list[str], label: str) -> tuple[np.ndarray, np.ndarray]:
    X = feature_matrix(features, names)  # X: (n_rows, n_features)
    y = column(features, label).to_numpy(zero_copy_only=False)  # y: (n_rows,)
    return X, y


#: how many predicted values a fold's candidates keep before their metrics are computed
#: together (one in-memory DuckDB for many small folds, one per candidate for large ones)
BATCH_VALUES = 1_000_000


def _positive(model: Any, task: Task) -> Any:
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(model, "classes_", [])]
    return classes[1] if task == Task.binary and len(classes) > 1 else None


def _scores(
    project: Project, y: np.ndarray, predicted: list[Any], positive: Any, metric: str
) -> list[float | None]:
    """The metric of each candidate's predictions of one validation part, by the metric SQL
    evaluate uses. y: (n_rows,); predicted: (prediction, score) pairs of (n_rows,)."""
    cfg = project.config
    values = metrics_of_many(cfg.sql_dir, cfg.task, y, predicted, positive)
    found = [v.get(metric) for v in values]
    return [None if value is None else float(value) for value in found]


def _fold_scores(
    project: Project,
    folds: Rendered,
    fold: int,
    run_id: str,
    tried: list[dict[str, Any]],
    metric: str,
) -> list[float | None]:
    """Every candidate's metric on one fold: statistics and feature rows made from the
    fold's training part, candidates fitted on it, scored on its validation part."""
    cfg, wh, spec = project.config, project.warehouse, project.spec
    with wh.reading():
        stats = fold_stats(project, folds, fold, run_id)
        plans = plan(spec.features, stats)
        names = feature_names(plans)
        parts = [
            wh.query_arrow(fold_features_sql(project.templates, spec, plans, folds, fold, v))
            for v in (False, True)
        ]
    (X, y), (X_val, y_val) = (_arrays(p, names, spec.label) for p in parts)
    del parts
    assert cfg.tune is not None
    where = f"fold {fold} of [tune] folds = {cfg.tune.folds}"
    _check_classes(where, cfg.task, y)
    scores: list[float | None] = []
    pending: list[Any] = []  # (prediction, score) of the candidates not yet scored
    for i, params in enumerate(tried):
        model = make_estimator(
            cfg.model.estimator, {**cfg.model.params, **params}, cfg.model.packages
        )
        threads = fit_threads(cfg.train.threads)
        try:  # fitted and scored as train's own fit is (the same thread bounds)
            with bounded_threads(model, threads):
                model.fit(X, y)
            with bounded_threads(model, threads, fitting=False):
                pending.append(predict_arrays(model, X_val))  # (n_val,), (n_val,) or None
        except ValueError as exc:  # the estimator refuses this fold's rows
            raise DataError(
                f"{where}: candidate {params_text(params)} failed "
                f"({len(y)} training rows): {one_line(str(exc))}"
            ) from exc
        if len(pending) * len(y_val) >= BATCH_VALUES or i == len(tried) - 1:
            scores += _scores(project, y_val, pending, _positive(model, cfg.task), metric)
            pending = []
    return scores


def _check_classes(where: str, task: Task | str, y: np.ndarray) -> None:
    """A classifier needs 2 classes to fit: a fold's training part with one is named, as
    train names a training split with one. y: (n_rows,)."""
    import numpy as np

    if Task(task) == Task.regression:
        return
    classes = np.unique(y)  # (n_classes,)
    if len(classes) < 2:
        shown = ", ".join(str(c.item() if hasattr(c, "item") else c) for c in classes)
        raise DataError(
            f"{where}: its training part has {len(y)} rows of {len(classes)} class "
            f"({shown or 'none'}); task {str(task)!r} needs 2 label values: use fewer folds "
            "or more rows ([train] sample_rows)"
        )


#: why a metric has no value on some rows (the metric SQL gives NULL where scikit-learn
#: warns or fails)
UNDEFINED_WHEN = {
    "roc_auc": "a validation part with one class",
    "average_precision": "a validation part without the positive class",
    "precision": "no row predicted positive",
    "recall": "a validation part without the positive class",
    "f1": "no positive row, predicted or labelled",
    "msle": "a negative label or prediction",
    "r2": "a constant label in a validation part",
    "explained_variance": "a constant label in a validation part",
}


def check_defined(scores: list[list[float | None]], metric: str, rows: dict[int, int]) -> None:
    """No candidate with a mean is no ranking at all: refuse rather than train the first
    candidate (GridSearchCV ranks them all 1 and so picks it). scores: (n_candidates,
    n_folds); rows: each fold's validation rows."""
    if any(all(v is not None for v in row) for row in scores):
        return
    undefined = sorted({f for row in scores for f, v in enumerate(row) if v is None})
    where = ", ".join(
        f"fold {f} ({rows.get(f, 0)} validation row{'' if rows.get(f) == 1 else 's'})"
        for f in undefined
    )
    why = UNDEFINED_WHEN.get(metric, "some rows")
    raise DataError(
        f"[tune] metric {metric!r} has no value for any candidate: undefined on {where}, "
        f"as it is for {why}; choose another [tune] metric, fewer folds or more rows"
    )


def cross_validate(project: Project, run_id: str, sample_salt: str) -> SearchResult:
    """Every candidate of [tune] on every fold; the ranking as GridSearchCV makes it."""
    cfg, wh = project.config, project.warehouse
    tune = cfg.tune
    assert tune is not None
    metric = tune_metric(tune, cfg.task)
    tried = candidates(tune)
    scores: list[list[float | None]] = [[] for _ in tried]  # (n_candidates, n_folds)
    with wh.reading():
        folds = fold_sql(project, sample_salt)
        q = wh.dialect.quote
        counts = {
            int(r["fold"]): int(r["n"])
            for r in wh.query_arrow(
                f"SELECT {q(FOLD_COLUMN)} AS fold, count(*) AS n FROM ({folds.sql}) AS f "
                f"GROUP BY {q(FOLD_COLUMN)}"
            ).to_pylist()
        }
    rows = sum(counts.values())
    for fold in range(tune.folds):
        if not counts.get(fold) or counts[fold] == rows:
            raise DataError(
                f"fold {fold} of [tune] folds = {tune.folds} has no "
                f"{'validation' if not counts.get(fold) else 'training'} rows: "
                f"{'the [train] sample of ' if cfg.train.sample_rows else ''}the training "
                f"split of {cfg.labelled_table} has {rows} rows; use fewer folds"
            )
        for i, value in enumerate(_fold_scores(project, folds, fold, run_id, tried, metric)):
            scores[i].append(value)
    check_defined(scores, metric, counts)
    return SearchResult(
        metric=metric,
        folds=tune.folds,
        search=tune.search,
        seed=tune.seed if tune.candidates is not None else None,
        rows=rows,
        scored=rank_scores(tried, scores, metric),
    )
