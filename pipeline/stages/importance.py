"""Feature importance of one model, for the evaluate stage: permutation importance on the
holdout (each raw feature shuffled in SQL, the rows made into features by the model's own
frozen SQL and scored by its estimator, the drop of the main metric by the metric SQL) and
the estimator's own importances (feature_importances_, |coef_|).

Raw features are shuffled, not model columns: a categorical's one-hot columns and a missing
indicator move with their feature, as scikit-learn's permutation_importance over a Pipeline on
raw columns does. One feature's rows are in memory at a time: repeats x [explain] max_rows."""

from __future__ import annotations

from pipeline.core.vocabulary import Dataset, ImportanceKind, Task
from pipeline.evaluation.importance import (
    MAIN_METRIC,
    GroupMetric,
    Importance,
    group_metric,
    importance_of,
)
from pipeline.features.sql import Source, clean_sql, features_sql
from pipeline.model.trained import TrainedModel, column, feature_matrix
from pipeline.render.templates import Rendered
from pipeline.stages.project import Project
from pipeline.stages.raw_types import Casts, check_types, with_casts
from pipeline.stages.spec import Table, staging_table

SAMPLE_TEMPLATE = "explain/sample.sql"
PERMUTED_TEMPLATE = "explain/permuted.sql"
ROWS_TEMPLATE = "explain/importance.sql"
BASELINE = "baseline"


def write_sample(project: Project, model: TrainedModel, casts: Casts, table: str) -> Rendered:
    """The holdout rows to shuffle, cleaned by the model's own SQL, sampled by hashed id into
    `table`: the raw table is read once, not once per feature."""
    spec, cfg = model.spec, project.config.explain
    mine = model.templates(project.warehouse.dialect)  # the model's frozen clean.sql
    labelled = Source(project.config.labelled_table, True, Dataset.train)
    clean = clean_sql(mine, spec, [labelled], with_label=True)
    rendered = project.templates.render(
        SAMPLE_TEMPLATE,
        relation=f"({with_casts(clean.sql, project, casts)})",
        id=spec.id,
        seed=cfg.seed,
        max_rows=cfg.max_rows,
        holdout=Dataset.holdout,
    )
    project.warehouse.replace_table(table, rendered.sql)
    return rendered


def render_permuted(
    project: Project, model: TrainedModel, sample: str, feature: str | None
) -> tuple[str, Rendered]:
    """The sampled rows with `feature` shuffled (none: as they are) as the model's feature
    rows (its own features.sql), in (dataset = repeat, id) order; and the rendered shuffle."""
    wh, spec, cfg = project.warehouse, model.spec, project.config.explain
    permuted = project.templates.render(
        PERMUTED_TEMPLATE,
        sample=sample,
        id=spec.id,
        label=spec.label,
        columns=[f.column for f in spec.features],
        feature=feature,
        repeats=cfg.repeats,
        seed=cfg.seed,
    )
    mine = model.templates(wh.dialect)
    features = features_sql(mine, spec, model.plans(), f"({permuted.sql})", None, True)
    ordered = f"SELECT * FROM ({features.sql}) AS f ORDER BY dataset, {wh.dialect.quote(spec.id)}"
    return ordered, permuted


def _scored(
    project: Project, model: TrainedModel, sql: str, metric: GroupMetric
) -> tuple[dict[str, float | None], int]:
    """{repeat: the main metric} of the rows `sql` makes, and how many rows each repeat has."""
    table = project.warehouse.query_arrow(sql)
    X = feature_matrix(table, model.feature_names)  # X: (n_rows, n_features)
    labels, score = model.predict_arrays(X)  # (n_rows,), (n_rows,) or None
    y = column(table, model.spec.label).to_numpy(zero_copy_only=False)  # (n_rows,)
    group = column(table, "dataset").to_numpy(zero_copy_only=False)  # (n_rows,)
    by_group = metric(y, labels, score, group)
    return by_group, table.num_rows // max(len(by_group), 1)


def model_importances(model: TrainedModel) -> list[Importance]:
    """The estimator's own importances per model column: feature_importances_, else the
    absolute coefficients (multiclass: the mean absolute coefficient over classes)."""
    import numpy as np

    est = model.estimator
    if hasattr(est, "feature_importances_"):
        name = "feature_importances_"
        values = np.asarray(est.feature_importances_, dtype=np.float64)  # (n_features,)
    elif hasattr(est, "coef_"):
        name = "abs_coef"
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))  # (n_classes | 1, n_features)
        values = np.abs(coef).mean(axis=0)  # (n_features,)
    else:
        return []
    return [
        Importance(ImportanceKind.model, f, name, float(v))
        for f, v in zip(model.feature_names, values, strict=True)
    ]


def permutation_importances(
    project: Project, model: TrainedModel, sample: str
) -> tuple[list[Importance], dict[str, str]]:
    """One row per raw feature of the rows in the `sample` table: the mean and std over
    repeats of the drop of the main metric when that feature is shuffled; and the hashes of
    the SQL that shuffled them."""
    cfg = project.config
    task = Task(model.meta.task or cfg.task)
    hashes: dict[str, str] = {}
    rows = []
    with group_metric(cfg.sql_dir, task, model.meta.positive_class) as metric:
        sql, rendered = render_permuted(project, model, sample, None)
        base, n = _scored(project, model, sql, metric)
        hashes[f"{rendered.name}#{BASELINE}"] = rendered.hash
        baseline = base.get(BASELINE)
        for f in model.spec.features:
            sql, rendered = render_permuted(project, model, sample, f.column)
            shuffled, _ = _scored(project, model, sql, metric)
            hashes[f"{rendered.name}#{f.column}"] = rendered.hash
            per_repeat = [shuffled.get(str(r)) for r in range(cfg.explain.repeats)]
            mean, std = importance_of(metric.metric, baseline, per_repeat)
            rows.append(
                Importance(
                    ImportanceKind.permutation,
                    f.column,
                    metric.metric.name,
                    mean,
                    std,
                    repeats=len(per_repeat),
                    holdout_rows=n,
                    baseline=baseline,
                )
            )
    return rows, hashes


def importance_from_data(
    project: Project, model: TrainedModel, run_id: str
) -> tuple[list[Importance], dict[str, str]]:
    """Replace this model's rows in feature_importance and return them (permutation first,
    then the model's own), with the hashes of the SQL that made them. [explain] repeats = 0:
    nothing is computed or written."""
    if project.config.explain.repeats == 0:
        return [], {}
    casts: Casts = {}
    if model.meta.raw_types is not None:
        casts, _ = check_types(
            project, model.spec, model.meta.raw_types, f"model {model.model_id} was trained on"
        )
    wh = project.warehouse
    # the staging table holds the sampled rows first, then this model's importance rows
    staging = project.table(staging_table(Table.feature_importance))
    sampled = write_sample(project, model, casts, staging)
    rows, hashes = permutation_importances(project, model, staging)
    hashes[sampled.name] = sampled.hash
    rows += model_importances(model)
    written = project.templates.render(
        ROWS_TEMPLATE, run_id=run_id, model_id=model.model_id, rows=[vars(r) for r in rows]
    )
    hashes[written.name] = written.hash
    wh.replace_table(staging, written.sql)
    wh.replace_rows(project.table(Table.feature_importance), staging, "model_id", model.model_id)
    return rows, hashes


def importance_message(rows: list[Importance], top: int = 3) -> str:
    """evaluate: importance (roc_auc drop, 5 repeats of 180 holdout rows) Sex 0.2185, ..."""
    perm = [r for r in rows if r.kind == ImportanceKind.permutation and r.mean is not None]
    if not perm:
        return "evaluate: feature importance undefined (the holdout sample's metric is n/a)"
    perm.sort(key=lambda r: (-(r.mean or 0.0), r.feature))
    shown = ", ".join(f"{r.feature} {r.mean:.4f}" for r in perm[:top])
    first = perm[0]
    change = next(m.change for m in MAIN_METRIC.values() if m.name == first.metric)
    return (
        f"evaluate: importance ({first.metric} {change}, {first.repeats} repeats of "
        f"{first.holdout_rows} holdout rows) {shown}"
    )
