"""evaluate: holdout predictions joined to their labels -> metrics table. SQL only."""

from __future__ import annotations

from typing import Any

from pipeline.errors import MissingInputError
from pipeline.ledger import StageResult, latest_model_id, recorded
from pipeline.metrics import render_metrics
from pipeline.project import Project
from pipeline.stages import RunOptions


def evaluate_from_data(
    project: Project, model_id: str, positive: Any, run_id: str, result: StageResult
) -> dict[str, float | None]:
    """Compute the metrics in SQL and replace this model's rows in the metrics table."""
    wh, cfg = project.warehouse, project.config
    predictions = project.require_table(project.table("predictions"), "predict")
    labels = project.require_table(project.table("clean"), "preprocess")
    rendered = render_metrics(
        project.templates,
        cfg.task,
        predictions=predictions,
        labels=labels,
        model_id=model_id,
        dataset="holdout",
        id=cfg.id_column,
        label=cfg.label_column,
        positive=positive,
        run_id=run_id,
    )
    staging = project.table("metrics__staging")
    wh.replace_table(staging, rendered.sql)
    metrics = {
        r["metric"]: r["value"]
        for r in wh.query_arrow(f"SELECT metric, value FROM {wh.quote(staging)}").to_pylist()
    }
    if not metrics.get("rows"):
        wh.execute(f"DROP TABLE {wh.quote(staging)}")
        raise MissingInputError(
            f"no holdout predictions of model {model_id} in {predictions}: run "
            "`pipeline run --stage predict` first"
        )
    wh.replace_rows(project.table("metrics"), staging, "model_id", model_id)
    result.sql_hashes = {rendered.name: rendered.hash}
    return metrics


def evaluate_from_path(options: RunOptions) -> StageResult:
    from pipeline.stages.predict import resolve_model

    with (
        Project.open(options.config_path) as project,
        recorded(project, options.run_id, "evaluate") as result,
    ):
        if options.model_dir is None and latest_model_id(project) is None:
            raise MissingInputError(
                "no trained model found: run `pipeline run --stage train` first"
            )
        model = resolve_model(project, options)
        result.model_id = model.model_id
        metrics = evaluate_from_data(
            project, model.model_id, model.meta["positive_class"], options.run_id, result
        )
        result.rows_in = int(metrics.pop("rows") or 0)
        result.rows_out = len(metrics)
        result.details["metrics"] = metrics
        shown = ", ".join(f"{k} {'n/a' if v is None else f'{v:.4f}'}" for k, v in metrics.items())
        result.messages.append(f"evaluate: holdout ({result.rows_in} rows) {shown}")
    return result
