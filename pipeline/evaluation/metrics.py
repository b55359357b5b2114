"""Evaluation metrics: SQL templates per task, run in the warehouse or on arrays in memory.

The same templates score the holdout in the warehouse (evaluate stage) and the training rows in
an in-memory DuckDB (the training metrics saved with the model), so every number comes from
one implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import Task
from pipeline.render.templates import Rendered, Templates, templates_for

if TYPE_CHECKING:
    import numpy as np

# task -> metric template; an unknown task fails with the known ones
METRIC_TEMPLATES: dict[Task, str] = {
    Task.binary: "evaluate/binary.sql",
    Task.multiclass: "evaluate/multiclass.sql",
    Task.regression: "evaluate/regression.sql",
}


CURVES_TEMPLATE = "evaluate/curves.sql"

#: the in-memory DuckDB that scores arrays runs on one thread: its float sums (log loss,
#: brier, average precision) are then added in one order, so the training metrics in
#: model.json and a search's fold scores are the same bytes on every run and machine (on
#: several threads their last bits changed from run to run)
IN_MEMORY_SETTINGS: dict[str, str | int] = {"threads": 1}


@dataclass(frozen=True)
class Judged:
    """Which model's predictions of which dataset to judge against which labels."""

    predictions: str  # table
    labels: str  # the clean table: id, label, dataset
    model_id: str
    dataset: str
    id: str
    label: str
    positive: Any  # the class whose probability is the score (binary tasks)
    run_id: str


def render_metrics(
    templates: Templates,
    task: Task | str,
    judged: Judged,
    raw: str = "",
    slices: tuple[str, ...] = (),
    threshold: float | None = None,
) -> Rendered:
    """The task's metrics, overall (slice 'all') and per value of each slice column of `raw`."""
    if task not in METRIC_TEMPLATES:
        raise ConfigError(f"no metrics for task {task!r}; known: {', '.join(METRIC_TEMPLATES)}")
    return templates.render(
        METRIC_TEMPLATES[Task(task)],
        raw=raw,
        slices=list(slices),
        threshold=threshold,
        **vars(judged),
    )


def render_curves(templates: Templates, judged: Judged, bins: int = 10) -> Rendered:
    """ROC, precision-recall and calibration points of a binary classifier."""
    return templates.render(CURVES_TEMPLATE, raw="", slices=[], bins=bins, **vars(judged))


def metrics_of_arrays(
    sql_dir: Path,
    task: Task | str,
    y: np.ndarray,
    prediction: np.ndarray,
    score: np.ndarray | None,
    positive: Any = None,
    threshold: float | None = None,
) -> dict[str, float | None]:
    """The task's overall SQL metrics of in-memory labels and predictions.
    y, prediction, score: (n,)."""
    return metrics_of_many(sql_dir, task, y, [(prediction, score)], positive, threshold)[0]


def metrics_of_many(
    sql_dir: Path,
    task: Task | str,
    y: np.ndarray,
    predicted: Sequence[tuple[np.ndarray, np.ndarray | None]],
    positive: Any = None,
    threshold: float | None = None,
) -> list[dict[str, float | None]]:
    """The metrics of several (prediction, score) pairs of the same labels (a [tune] search's
    candidates on one validation fold), in one in-memory DuckDB: one connection and one
    labels table, one query per pair. y, each prediction and score: (n,)."""
    import numpy as np
    import pyarrow as pa

    from pipeline.warehouse.duckdb import DuckDBWarehouse

    n, m = len(y), len(predicted)
    ids = np.arange(n)
    nulls = pa.nulls(n, pa.float64())
    rows = pa.table(  # every pair's rows, told apart by model_id
        {
            "id": np.tile(ids, m),
            "dataset": ["d"] * (n * m),
            "model_id": np.repeat([f"m{k}" for k in range(m)], n),
            "prediction": pa.concat_arrays([pa.array(p) for p, _ in predicted]),
            "score": pa.concat_arrays(
                [nulls if s is None else pa.array(s, type=pa.float64()) for _, s in predicted]
            ),
        }
    )
    with DuckDBWarehouse.in_memory(IN_MEMORY_SETTINGS) as wh:
        wh.ensure_schema("m")
        wh.register("l", pa.table({"id": ids, "label": y, "dataset": ["d"] * n}))
        wh.register("p", rows)
        wh.replace_table("m.labels", "SELECT * FROM l")
        wh.replace_table("m.predictions", "SELECT * FROM p")
        templates = templates_for(sql_dir, wh.dialect)
        out: list[dict[str, float | None]] = []
        for k in range(m):
            judged = Judged("m.predictions", "m.labels", f"m{k}", "d", "id", "label", positive, "")
            sql = render_metrics(templates, task, judged, threshold=threshold).sql
            out.append({r["metric"]: r["value"] for r in wh.query_arrow(sql).to_pylist()})
        return out
