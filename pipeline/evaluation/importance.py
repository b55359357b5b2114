"""Permutation importance's numbers: the task's main metric of scored rows per repeat, by the
project's metric SQL, the drop from the unshuffled rows' metric, and the report's bar chart.

Which metric, and which way is "more important":
- binary: roc_auc, importance = baseline - shuffled;
- multiclass: accuracy, importance = baseline - shuffled;
- regression: rmse, importance = shuffled - baseline (the drop of -rmse, which is what
  scikit-learn's `scoring="neg_root_mean_squared_error"` gives).
So for every task a larger number means the model leans on the feature more. The mean and the
standard deviation over repeats are NumPy's (`np.std`, ddof 0), as permutation_importance's."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.vocabulary import ImportanceKind, Task
from pipeline.evaluation.axis import spaced_ticks
from pipeline.evaluation.metrics import IN_MEMORY_SETTINGS, Judged, render_metrics
from pipeline.render.templates import templates_for

if TYPE_CHECKING:
    import numpy as np

    from pipeline.warehouse.duckdb import DuckDBWarehouse


@dataclass(frozen=True)
class MainMetric:
    name: str  # a metric of the task's metric template
    sign: float  # importance = sign * (baseline - shuffled)

    @property
    def change(self) -> str:
        """How the metric moves when a feature the model needs is shuffled."""
        return "drop" if self.sign > 0 else "rise"


MAIN_METRIC: dict[Task, MainMetric] = {
    Task.binary: MainMetric("roc_auc", 1.0),
    Task.multiclass: MainMetric("accuracy", 1.0),
    Task.regression: MainMetric("rmse", -1.0),
}


@dataclass(frozen=True)
class Importance:
    """One row of feature_importance: a raw feature's permutation importance (mean and std
    over `repeats` shuffles of `holdout_rows` rows; `baseline` is the unshuffled metric), or
    a model column's own importance (`metric` names the attribute; no std)."""

    kind: ImportanceKind
    feature: str
    metric: str
    mean: float | None
    std: float | None = None
    repeats: int | None = None
    holdout_rows: int | None = None
    baseline: float | None = None


#: the raw column of the in-memory tables that holds the repeat (a slice of the metric SQL)
GROUP = "permutation"


@dataclass(frozen=True)
class GroupMetric:
    """The main metric of scored rows, one value per group, by the project's metric SQL run in
    one in-memory DuckDB kept open for many calls."""

    wh: DuckDBWarehouse
    sql_dir: Path
    task: Task
    positive: Any

    @property
    def metric(self) -> MainMetric:
        return MAIN_METRIC[self.task]

    def __call__(
        self,
        y: np.ndarray,
        prediction: np.ndarray,
        score: np.ndarray | None,
        group: np.ndarray,
    ) -> dict[str, float | None]:
        """{group: metric}. y, prediction, score, group: (n_rows,); group holds strings."""
        import numpy as np
        import pyarrow as pa

        n = len(y)
        ids = np.arange(n)  # rows of all groups at once: the row number is their id
        scores = (
            pa.array(score, type=pa.float64()) if score is not None else pa.nulls(n, pa.float64())
        )
        d = ["d"] * n
        tables = {
            "labels": pa.table({"id": ids, "label": y, "dataset": d}),
            "predictions": pa.table(
                {"id": ids, "dataset": d, "model_id": ["m"] * n, "prediction": prediction}
            ).append_column("score", scores),
            "groups": pa.table({"id": ids, GROUP: pa.array(group, type=pa.string())}),
        }
        for name, table in tables.items():
            self.wh.register(f"_{name}", table)
            self.wh.replace_table(f"m.{name}", f"SELECT * FROM _{name}")
            self.wh.unregister(f"_{name}")
        judged = Judged("m.predictions", "m.labels", "m", "d", "id", "label", self.positive, "")
        sql = render_metrics(
            templates_for(self.sql_dir, self.wh.dialect),
            self.task,
            judged,
            raw="m.groups",
            slices=(GROUP,),
        ).sql
        return {
            r["segment"]: r["value"]
            for r in self.wh.query_arrow(sql).to_pylist()
            if r["slice"] == GROUP and r["metric"] == self.metric.name
        }


@contextmanager
def group_metric(sql_dir: Path, task: Task, positive: Any) -> Iterator[GroupMetric]:
    from pipeline.warehouse.duckdb import DuckDBWarehouse

    with DuckDBWarehouse.in_memory(IN_MEMORY_SETTINGS) as wh:  # the same bytes every run
        wh.ensure_schema("m")
        yield GroupMetric(wh, sql_dir, task, positive)


def importance_of(
    metric: MainMetric, baseline: float | None, shuffled: list[float | None]
) -> tuple[float | None, float | None]:
    """(mean, std) over repeats of the drop of the metric; None when a metric is undefined
    (a holdout sample with one class has no ROC AUC)."""
    import numpy as np

    if baseline is None or not shuffled or any(s is None for s in shuffled):
        return None, None
    drops = metric.sign * (baseline - np.array(shuffled, dtype=np.float64))  # (repeats,)
    return float(np.mean(drops)), float(np.std(drops))


def importance_chart(rows: list[Importance], width: int = 560) -> str:
    """A horizontal bar per feature: mean permutation importance, a whisker of +- std."""
    shown = sorted(
        (r for r in rows if r.mean is not None), key=lambda r: (-(r.mean or 0), r.feature)
    )
    if not shown:
        return ""
    label_w, bar_h, top, pad = 150, 22, 40, 20
    height = top + bar_h * len(shown) + 36
    means = [(r.mean or 0.0, r.std or 0.0) for r in shown]
    lo = min(0.0, *(m - s for m, s in means))
    hi = max(0.0, *(m + s for m, s in means)) or 1.0
    span = (hi - lo) or 1.0

    def x(v: float) -> float:
        return label_w + (v - lo) / span * (width - label_w - pad)

    title = f"Permutation importance ({_change(rows[0].metric)}, mean ± std)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{width / 2}" y="18" text-anchor="middle" class="title">'
        f"{html.escape(title)}</text>",
        f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 30}" '
        'class="diagonal"/>',
    ]
    for i, (r, (mean, std)) in enumerate(zip(shown, means, strict=True)):
        y = top + i * bar_h
        left, right = sorted((x(0.0), x(mean)))
        parts += [
            f'<text x="{label_w - 6}" y="{y + bar_h / 2 + 4:.1f}" text-anchor="end">'
            f"{html.escape(r.feature)}</text>",
            f'<rect x="{left:.1f}" y="{y + 3}" width="{max(right - left, 0.5):.1f}" '
            f'height="{bar_h - 6}" class="bar importance"/>',
            f'<line x1="{x(mean - std):.1f}" y1="{y + bar_h / 2:.1f}" '
            f'x2="{x(mean + std):.1f}" y2="{y + bar_h / 2:.1f}" class="line" '
            'style="stroke: #1d2330; stroke-width: 1.5"/>',
        ]
    for at, text in spaced_ticks(lo, hi, x):  # round values, never two labels on each other
        parts.append(f'<text x="{at:.1f}" y="{height - 14}" text-anchor="middle">{text}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def importance_section(rows: list[Importance]) -> str:
    """The report's "Feature importance" section; empty when importance was not computed."""
    perm = [r for r in rows if r.kind == ImportanceKind.permutation]
    if not perm:
        return ""
    first = perm[0]
    ranked = sorted(perm, key=lambda r: (r.mean is None, -(r.mean or 0.0), r.feature))
    body = "".join(
        f"<tr><td>{html.escape(r.feature)}</td><td>{_num(r.mean)}</td><td>{_num(r.std)}</td></tr>"
        for r in ranked
    )
    return (
        "<h2>Feature importance</h2>\n"
        f'<p class="meta">each raw feature shuffled {first.repeats} times over '
        f"{first.holdout_rows} holdout rows; the {html.escape(_change(first.metric))} "
        f"(unshuffled: {_num(first.baseline)}); every figure in pipeline.feature_importance"
        "</p>\n"
        f'<div class="charts">{importance_chart(perm)}</div>\n'
        "<table><thead><tr><th>feature</th><th>mean</th><th>std</th></tr></thead>"
        f"<tbody>{body}</tbody></table>\n"
    )


def _change(metric: str) -> str:
    """ "drop of roc_auc", "rise of rmse": what a bar measures."""
    word = next((m.change for m in MAIN_METRIC.values() if m.name == metric), "change")
    return f"{word} of {metric}"


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"
