"""The evaluation report: one self-contained HTML file (inline SVG, no scripts, no network) with
the metrics, the charts of the task (binary: confusion matrix, ROC, precision-recall,
calibration; multiclass: confusion matrix; regression: predicted against actual, residuals) and
the per-segment table. `render_report` is pure: figures in, text out; the stage writes the file."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.vocabulary import Dataset, DriftMetric, Task
from pipeline.evaluation.charts import (
    class_confusion_chart,
    confusion_chart,
    histogram_chart,
    line_chart,
    scatter_chart,
)
from pipeline.evaluation.importance import Importance, importance_section


@dataclass
class Evaluation:
    """Everything the evaluate stage computed for one model on one dataset."""

    run_id: str
    model_id: str
    task: Task
    dataset: Dataset
    metrics: dict[str, float | None]
    segments: list[dict[str, Any]] = field(default_factory=list)  # slice, segment, metric, value
    curves: list[dict[str, Any]] = field(default_factory=list)  # curve, x, y, threshold, n
    confusion: list[dict[str, Any]] = field(default_factory=list)  # actual, predicted, n
    importance: list[Importance] = field(default_factory=list)  # [explain] repeats > 0
    # the model's latest scoring run's drift rows: dataset, feature, metric, value, status...
    drift: list[dict[str, Any]] = field(default_factory=list)


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def segment_table(evaluation: Evaluation) -> str:
    rows = [r for r in evaluation.segments if r["slice"] != "all"]
    if not rows:
        return "<p>No slice columns configured ([evaluate] slices in the config).</p>"
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    keep = [m for m in metrics if m not in ("tp", "fp", "fn", "tn")]
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        grouped.setdefault((r["slice"], r["segment"]), {})[r["metric"]] = r["value"]
    return _table(
        ["slice", "segment", *keep],
        [[s, g, *(values.get(m) for m in keep)] for (s, g), values in sorted(grouped.items())],
    )


def drift_table(evaluation: Evaluation) -> str:
    """One row per scored dataset and feature, one column per drift metric; a value over a
    [monitor] threshold says which (warn, fail)."""
    rows = evaluation.drift
    if not rows:
        return "<p>No drift measured for this model (the predict stage measures it).</p>"
    present = {str(r["metric"]) for r in rows}
    metrics = [str(m) for m in DriftMetric if m in present]  # the vocabulary's order
    grouped: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:  # rows: datasets x features x metrics, a few hundred at most
        flag = f" ({r['status']})" if r["status"] in ("warn", "fail", "few_rows") else ""
        cell = _fmt(r["value"]) + flag
        grouped.setdefault((r["dataset"], r["feature"]), {})[str(r["metric"])] = cell
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(v)}</td>" for v in (d, f))
        + "".join(f"<td>{cells.get(m, '')}</td>" for m in metrics)
        + "</tr>"
        for (d, f), cells in sorted(grouped.items())
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["dataset", "feature", *metrics])
    run = html.escape(str(rows[0]["run_id"]))
    return (
        f'<p class="meta">scoring run {run}: the scored rows against the training split '
        "(null rate; mean shift in training standard deviations; PSI over the training "
        "quantile bins, few_rows: not judged, too few values; share of unseen categories)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d5d9e2; padding: .3rem .6rem; text-align: right; }
th { background: #f0f2f7; } td:first-child, th:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
svg text { font-size: 11px; fill: #333; } svg .title { font-size: 13px; font-weight: 600; }
svg .count { font-size: 14px; font-weight: 600; }
.frame { fill: #fafbfd; stroke: #c9ced8; } .diagonal { stroke: #aaa; stroke-dasharray: 4 4; }
.line { fill: none; stroke: #2f6fdf; stroke-width: 2; } circle { fill: #2f6fdf; }
.meta { color: #5b6475; }
.dot { fill: #2f6fdf; fill-opacity: .45; } .bar { fill: #2f6fdf; fill-opacity: .75; }
"""


def render_report(evaluation: Evaluation) -> str:
    """The whole report as one HTML document."""
    e = evaluation
    overall = [[k, v] for k, v in e.metrics.items() if k not in ("tp", "fp", "fn", "tn")]
    charts = []
    if e.task == Task.binary:
        by_curve: dict[str, list[tuple[float, float]]] = {}
        for c in sorted(e.curves, key=lambda c: (c["curve"], c["x"] or 0, c["y"] or 0)):
            by_curve.setdefault(c["curve"], []).append((c["x"], c["y"]))
        auc = _fmt(e.metrics.get("roc_auc"))
        ap = _fmt(e.metrics.get("average_precision"))
        charts = [
            line_chart(
                f"ROC (AUC {auc})",
                by_curve.get("roc", []),
                "false positive rate",
                "true positive rate",
                diagonal=True,
            ),
            line_chart(
                f"Precision-recall (AP {ap})", by_curve.get("pr", []), "recall", "precision"
            ),
            line_chart(
                "Calibration",
                by_curve.get("calibration", []),
                "mean predicted score",
                "fraction positive",
                diagonal=True,
                markers=True,
            ),
            confusion_chart(e.metrics),
        ]
    elif e.task == Task.multiclass:
        charts = [class_confusion_chart(e.confusion)]
    elif e.task == Task.regression:
        sample = [(c["x"], c["y"]) for c in e.curves if c["curve"] == "actual_predicted"]
        bins = sorted(
            (c["x"], c["threshold"], c["n"]) for c in e.curves if c["curve"] == "residuals"
        )
        charts = [
            scatter_chart(
                f"Predicted against actual ({len(sample):,} rows)", sample, "actual", "predicted"
            ),
            histogram_chart("Residuals (predicted - actual)", bins, "predicted - actual"),
        ]
    title = f"Evaluation of {e.model_id}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">run {html.escape(e.run_id)} &middot; task {html.escape(e.task)} &middot;
dataset {html.escape(e.dataset)} &middot; every figure computed by SQL in the warehouse</p>
<h2>Metrics</h2>
{_table(["metric", "value"], overall)}
{'<h2>Charts</h2><div class="charts">' + "".join(charts) + "</div>" if charts else ""}
<h2>Per segment</h2>
{segment_table(e)}
{importance_section(e.importance)}<h2>Drift</h2>
{drift_table(e)}
</body></html>
"""
