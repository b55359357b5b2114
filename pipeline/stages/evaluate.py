"""evaluate: holdout predictions joined to their labels -> metrics (overall and per segment),
curves and a self-contained HTML report. Every figure is SQL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import check_identifier
from pipeline.core.errors import ConfigError, MissingInputError
from pipeline.core.vocabulary import Dataset, Stage, Task
from pipeline.evaluation.metrics import Judged, render_curves, render_metrics
from pipeline.evaluation.report import Evaluation, render_report
from pipeline.render.templates import Rendered, Templates
from pipeline.stages.aliases import model_id_named
from pipeline.stages.base import RunOptions
from pipeline.stages.common import model_flags, model_label, resolve_model_dir
from pipeline.stages.importance import importance_from_data, importance_message
from pipeline.stages.ledger import LEDGER_TABLE, StageResult
from pipeline.stages.monitor import latest_drift
from pipeline.stages.project import Project
from pipeline.stages.spec import Table, made_by, run_first, staging_table

if TYPE_CHECKING:
    import pyarrow as pa

DATASET = Dataset.holdout
# the regression charts: at most this many points in the scatter, residuals in this many bins
SCATTER_POINTS = 1000
RESIDUAL_BINS = 30


def render_confusion(templates: Templates, judged: Judged) -> Rendered:
    """(actual, predicted, n) of a classifier: the report's confusion matrix."""
    return templates.render("evaluate/confusion.sql", raw="", slices=[], **vars(judged))


def render_residuals(
    templates: Templates, judged: Judged, points: int = SCATTER_POINTS, bins: int = RESIDUAL_BINS
) -> Rendered:
    """A sample of (actual, predicted) and a histogram of residuals of a regressor."""
    return templates.render("evaluate/residuals.sql", points=points, bins=bins, **vars(judged))


def _replace(project: Project, table: Table, sql: str, model_id: str) -> list[dict[str, Any]]:
    """Write one model's rows of an output table atomically and return them."""
    wh = project.warehouse
    staging = project.table(staging_table(table))
    wh.replace_table(staging, sql)
    rows = wh.query_arrow(f"SELECT * FROM {wh.dialect.quote(staging)}").to_pylist()
    wh.replace_rows(project.table(table), staging, "model_id", model_id)
    return rows


def unjudged_note(project: Project, judged: Judged) -> str | None:
    """A note when some of the model's predictions of the dataset have no row in `clean`
    (labelled rows `predict --incremental` scored after the last preprocess)."""
    wh = project.warehouse
    sql = project.templates.render(
        "evaluate/unjudged.sql",
        predictions=judged.predictions,
        labels=judged.labels,
        model_id=judged.model_id,
        dataset=judged.dataset,
        id=judged.id,
    ).sql
    n = int(wh.query_arrow(sql).to_pylist()[0]["n"])
    if not n:
        return None
    return (
        f"evaluate: {n} {judged.dataset} predictions of model {judged.model_id} have no row in "
        f"{judged.labels} (labelled rows scored after the last preprocess) and are not "
        f"evaluated: {run_first(Stage.preprocess)} to bring them in (rows already there keep "
        "their side of the split)"
    )


def evaluate_from_data(
    project: Project,
    model_id: str,
    positive: Any,
    run_id: str,
    result: StageResult,
    flags: str = "",
) -> Evaluation:
    """Compute the metrics and the charts' points in SQL; replace this model's rows in
    `metrics`, `curves` (binary: ROC, PR, calibration; regression: actual against predicted,
    residuals) and `confusion` (multiclass). `flags`: the options that named the model, for
    the advice when it has no predictions yet."""
    cfg = project.config
    predictions = project.require(Table.predictions, flags=flags)
    labels = project.require(Table.clean)
    if cfg.evaluate.slices:
        present = {c for c, _ in project.warehouse.describe(cfg.labelled_table)}
        missing = [c for c in cfg.evaluate.slices if c not in present]
        if missing:
            raise ConfigError(
                f"[evaluate] slices {missing} are not columns of {cfg.labelled_table}"
            )
    judged = Judged(
        predictions, labels, model_id, DATASET, cfg.id_column, cfg.label_column, positive, run_id
    )
    rendered = render_metrics(
        project.templates,
        cfg.task,
        judged,
        raw=cfg.labelled_table,
        slices=cfg.evaluate.slices,
        threshold=cfg.evaluate.threshold,
    )
    rows = _replace(project, Table.metrics, rendered.sql, model_id)
    overall = {r["metric"]: r["value"] for r in rows if r["slice"] == "all"}
    if not overall.get("rows"):
        raise MissingInputError(
            f"no {DATASET} predictions of model {model_id} in {predictions}: "
            f"{run_first(made_by(Table.predictions), flags)}"
        )
    unjudged = unjudged_note(project, judged)
    if unjudged:
        result.warnings.append(unjudged)
    result.sql_hashes = {rendered.name: rendered.hash}
    curves: list[dict[str, Any]] = []
    confusion: list[dict[str, Any]] = []
    if cfg.task == Task.binary:
        curves_sql = render_curves(project.templates, judged, bins=cfg.evaluate.calibration_bins)
        curves = _replace(project, Table.curves, curves_sql.sql, model_id)
        result.sql_hashes[curves_sql.name] = curves_sql.hash
    elif cfg.task == Task.multiclass:
        confusion_sql = render_confusion(project.templates, judged)
        confusion = _replace(project, Table.confusion, confusion_sql.sql, model_id)
        result.sql_hashes[confusion_sql.name] = confusion_sql.hash
    elif cfg.task == Task.regression:
        curves_sql = render_residuals(project.templates, judged)
        curves = _replace(project, Table.curves, curves_sql.sql, model_id)
        result.sql_hashes[curves_sql.name] = curves_sql.hash
    return Evaluation(
        run_id=run_id,
        model_id=model_id,
        task=cfg.task,
        dataset=DATASET,
        metrics=overall,
        segments=rows,
        curves=curves,
        confusion=confusion,
    )


def compare_from_data(project: Project, a: str | None = None, b: str | None = None) -> pa.Table:
    """Metrics of model `a` and `b` side by side with the change; by default the two models
    evaluated most recently (older first). Each is a model id, an alias or `latest`."""
    metrics = project.require(Table.metrics)
    a, b = (None if m is None else model_id_named(project, m) for m in (a, b))
    if a is None or b is None:
        ledger = project.require(LEDGER_TABLE, rows_of=Stage.evaluate)
        sql = project.templates.render("ledger/evaluated_models.sql", table=ledger, limit=2).sql
        recent = [r["model_id"] for r in project.warehouse.query_arrow(sql).to_pylist()]
        if len(recent) < 2:
            raise MissingInputError(
                "comparing needs two evaluated models: train another (change [model]) and run "
                "`pipeline run` again, or name two model ids"
            )
        b = b or recent[0]
        a = a or next(m for m in recent if m != b)
    for model_id in (a, b):
        check_identifier(model_id.replace("-", "_"), "model id")
    wh = project.warehouse
    evaluated = [
        r["model_id"]
        for r in wh.query_arrow(
            f"SELECT DISTINCT model_id FROM {wh.dialect.quote(metrics)} "
            f"WHERE dataset = {wh.dialect.literal(DATASET)} ORDER BY model_id"
        ).to_pylist()
    ]
    for model_id in (a, b):
        if model_id not in evaluated:
            raise MissingInputError(
                f"model {model_id} has no {DATASET} metrics in {metrics}: evaluated models are "
                f"{', '.join(evaluated) or 'none'}"
            )
    sql = project.templates.render(
        "evaluate/compare.sql", metrics=metrics, a=a, b=b, dataset=DATASET
    ).sql
    return project.warehouse.query_arrow(sql)


def compare_from_path(config_path: Path, a: str | None = None, b: str | None = None) -> pa.Table:
    with Project.open(config_path, read_only=True) as project:
        return compare_from_data(project, a, b)


HEADLINE = {
    Task.binary: ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    Task.multiclass: ("accuracy", "macro_f1", "weighted_f1"),
    Task.regression: ("mae", "rmse", "r2"),
}


def run_evaluate(project: Project, options: RunOptions, result: StageResult) -> None:
    from pipeline.core.keys import load_key
    from pipeline.model.trained import TrainedModel

    # the metrics need the model's id and positive class, not the estimator: no unpickling
    key = load_key(project.config.model.signing_key)
    meta = TrainedModel.read_meta(resolve_model_dir(project, options), key)
    result.model_id = meta.model_id
    evaluation = evaluate_from_data(
        project, meta.model_id, meta.positive_class, options.run_id, result, model_flags(options)
    )
    if project.config.explain.repeats:  # feature importance needs the estimator itself
        model = TrainedModel.load(resolve_model_dir(project, options), key)
        rows, hashes = importance_from_data(project, model, options.run_id)
        result.sql_hashes.update(hashes)
        evaluation.importance = rows
    evaluation.drift = latest_drift(project, meta.model_id)
    metrics = dict(evaluation.metrics)
    result.rows_in = int(metrics.pop("rows") or 0)
    result.rows_out = len(evaluation.segments)
    result.details["metrics"] = metrics
    report = options.out_dir / options.run_id / "report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_report(evaluation))
    result.details["report"] = str(report)
    shown = ", ".join(
        f"{k} {'n/a' if metrics.get(k) is None else f'{metrics[k]:.4f}'}"
        for k in HEADLINE[project.config.task]
    )
    label = model_label(project, options, meta.model_id)
    result.messages.append(f"evaluate: {label}: {DATASET} ({result.rows_in} rows) {shown}")
    if evaluation.importance:
        result.messages.append(importance_message(evaluation.importance))
    result.messages.append(f"evaluate: report {report}")
