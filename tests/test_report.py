"""The report draws each task's charts from numbers computed in SQL: a confusion matrix for
multiclass, predicted against actual and residuals for regression; the numbers equal
scikit-learn's / NumPy's on the same rows."""

from __future__ import annotations

import re
import shutil
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from pipeline.evaluation.axis import MAX_POINTS
from pipeline.evaluation.axis import nice_ticks as _ticks
from pipeline.evaluation.charts import PAD, H, W, histogram_chart, scatter_chart
from pipeline.evaluation.report import Evaluation, render_report
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from tests.conftest import REPO


def _run_example(tmp_path: Path, example: str) -> tuple[Path, Path, str]:
    """Run an example project end to end; returns its warehouse, report and model id."""
    project = tmp_path / "examples" / example
    project.mkdir(parents=True)
    shutil.copy(REPO / "examples" / example / "pipeline.toml", project / "pipeline.toml")
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    shutil.copy(REPO / "warehouse.duckdb.example", tmp_path / "warehouse.duckdb.example")
    options = RunOptions(
        config_path=project / "pipeline.toml",
        run_id=new_run_id(),
        models_dir=project / "models",
        out_dir=project / "runs",
    )
    evaluation = run_stages(options, None)[3]
    return (
        project / "warehouse.duckdb",
        Path(evaluation.details["report"]),
        str(evaluation.model_id),
    )


def _holdout(warehouse: Path, schema: str, model_id: str, label: str) -> list[tuple[Any, Any]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            f"SELECT l.{label}, p.prediction FROM {schema}.predictions AS p "
            f"JOIN {schema}.clean AS l USING (PassengerId) "
            "WHERE p.model_id = ? AND p.dataset = 'holdout' AND l.dataset = 'holdout'",
            [model_id],
        ).fetchall()
    finally:
        con.close()


def _rows(warehouse: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_multiclass_report_has_a_confusion_matrix_equal_to_sklearns(tmp_path: Path) -> None:
    warehouse, report, model_id = _run_example(tmp_path, "titanic_class")
    pairs = _holdout(warehouse, "ticket_class", model_id, "Pclass")
    y = [str(a) for a, _ in pairs]
    pred = [str(p) for _, p in pairs]
    classes = sorted(set(y) | set(pred), key=float)
    want = confusion_matrix(y, pred, labels=classes)

    stored = _rows(
        warehouse,
        "SELECT actual, predicted, n FROM ticket_class.confusion WHERE model_id = ?",
        model_id,
    )
    got = np.zeros_like(want)
    for actual, predicted, n in stored:
        got[classes.index(actual), classes.index(predicted)] = n
    assert (got == want).all(), (got, want)

    page = report.read_text()
    assert 'aria-label="confusion matrix"' in page
    chart = page[page.index('class="confusion"') :]
    chart = chart[: chart.index("</svg>")]
    cells = [int(c.replace(",", "")) for c in re.findall(r'class="cell">([\d,]+)</text>', chart)]
    assert cells == want.flatten().tolist()  # row by row: actual, then predicted


def test_regression_report_has_predicted_against_actual_and_residuals(tmp_path: Path) -> None:
    warehouse, report, model_id = _run_example(tmp_path, "titanic_fare")
    pairs = _holdout(warehouse, "fare", model_id, "Fare")
    y = np.array([a for a, _ in pairs], dtype=float)
    pred = np.array([p for _, p in pairs], dtype=float)

    curves = _rows(
        warehouse,
        "SELECT curve, x, y, threshold, n FROM fare.curves WHERE model_id = ?",
        model_id,
    )
    sample = sorted((x, yy) for c, x, yy, _, _ in curves if c == "actual_predicted")
    assert len(sample) == min(len(pairs), 1000)
    assert set(sample) <= set(zip(y.tolist(), pred.tolist(), strict=True))
    bins = sorted((x, t, n) for c, x, _, t, n in curves if c == "residuals")
    counts, edges = np.histogram(pred - y, bins=30)
    assert [n for _, _, n in bins if n] == [int(c) for c in counts if c]
    assert [lo for lo, _, _ in bins] == pytest.approx(
        [e for e, c in zip(edges[:-1], counts, strict=True) if c]
    )

    page = report.read_text()
    assert 'aria-label="predicted against actual"' in page
    assert 'aria-label="residuals"' in page
    assert page.count('class="dot"') == len(sample)
    assert page.count('class="bar"') == len(bins)
    assert 'class="diagonal"' in page


def test_confusion_chart_counts_zero_cells_and_orders_classes() -> None:
    rows = [
        {"actual": "10", "predicted": "10", "n": 3},
        {"actual": "2", "predicted": "10", "n": 1},
        {"actual": "2", "predicted": "2", "n": 5},
    ]
    e = Evaluation("r", "m", "multiclass", "holdout", {"rows": 9.0}, confusion=rows)
    page = render_report(e)
    cells = re.findall(r'class="cell">([\d,]+)</text>', page)
    assert cells == ["5", "1", "0", "3"]  # classes 2, 10 in numeric order


def test_ticks_are_round() -> None:
    assert _ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1.0]
    assert _ticks(-3.2, 97) == [0, 25, 50, 75]
    assert _ticks(-41.5, 212.0) == [0, 50, 100, 150, 200]


# --- axes and long curves ----------------------------------------------------------------------


def _x_tick_labels(svg: str, y: float) -> list[tuple[float, str]]:
    """(x, text) of the centred labels drawn on the line y of an SVG, left to right."""
    found = re.findall(rf'<text x="([-\d.]+)" y="{y:g}" text-anchor="middle">([^<]*)</text>', svg)
    return sorted((float(x), text) for x, text in found)


def _overlapping(labels: list[tuple[float, str]]) -> list[tuple[str, str]]:
    """Neighbouring centred labels closer than half their widths (6 px a character)."""
    return [(a, b) for (xa, a), (xb, b) in pairwise(labels) if xb - xa < 6 * (len(a) + len(b)) / 2]


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(-1.13, 95.0), (0.0, 1e-4), (12_345.0, 12_399.0), (-0.3, 0.7), (-5e6, 2e7), (0.99, 1.0)],
)
def test_axis_tick_labels_never_overlap(lo: float, hi: float) -> None:
    edges = np.linspace(lo, hi, 8).tolist()
    points = [(x, x) for x in edges]
    bins = [(a, b, 1.0 + i) for i, (a, b) in enumerate(pairwise(edges))]
    for svg in (
        scatter_chart("t", points, "actual", "predicted"),
        histogram_chart("t", bins, "predicted - actual"),
    ):
        labels = _x_tick_labels(svg, H - PAD + 14)
        assert len(labels) >= 2 and _overlapping(labels) == [], (lo, hi, labels)
        ys = [float(y) for y in re.findall(r'<text x="\d+" y="([-\d.]+)" text-anchor="end">', svg)]
        assert all(b - a >= 11 for a, b in pairwise(sorted(ys))), ys


def _roc(rows: int) -> tuple[list[dict[str, Any]], float]:
    """The exact ROC curve of `rows` random scores (as the curves table holds it) and its AUC."""
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, rows)  # (rows,)
    score = np.round(y * 0.3 + rng.random(rows), 5)  # (rows,): ties, as real scores have
    fpr, tpr, thresholds = roc_curve(y, score, drop_intermediate=False)
    curve = [
        {"curve": "roc", "x": float(x), "y": float(t), "threshold": float(th), "n": 1}
        for x, t, th in zip(fpr, tpr, thresholds, strict=True)
    ]
    return curve, float(roc_auc_score(y, score))


def _polyline(page: str) -> list[tuple[float, float]]:
    """The pixels of the first curve drawn (the ROC's) in a report."""
    points = re.search(r'<polyline points="([^"]*)" class="line"/>', page)
    assert points is not None
    return [(float(a), float(b)) for a, b in (p.split(",") for p in points.group(1).split())]


def test_a_long_curve_is_drawn_with_a_bounded_number_of_points() -> None:
    curve, auc = _roc(200_000)
    assert len(curve) > 50_000
    # the precision-recall curve as long (its points: the ROC's, as another curve)
    pr = [{**c, "curve": "pr", "x": c["y"], "y": 1 - c["x"] / 2} for c in curve]
    page = render_report(
        Evaluation("r", "m", "binary", "holdout", {"roc_auc": auc}, curves=curve + pr)
    )
    lines = re.findall(r'<polyline points="([^"]*)" class="line"/>', page)
    assert len(lines) == 2 and all(len(p.split()) <= MAX_POINTS for p in lines)
    assert len(page) < 80_000  # a 1.5 MB report before
    drawn = _polyline(page)
    assert drawn[0] == (PAD, H - PAD) and drawn[-1] == (W - PAD, PAD)  # (0, 0) and (1, 1)
    # the shape stays: the area under what is drawn is the AUC
    x = (np.array([p[0] for p in drawn]) - PAD) / (W - 2 * PAD)  # (points,)
    y = (H - PAD - np.array([p[1] for p in drawn])) / (H - 2 * PAD)  # (points,)
    assert np.trapezoid(y, x) == pytest.approx(auc, abs=0.002)
    assert page == render_report(
        Evaluation("r", "m", "binary", "holdout", {"roc_auc": auc}, curves=(curve + pr)[::-1])
    )


def test_a_short_curve_is_drawn_point_for_point() -> None:
    curve, auc = _roc(300)
    page = render_report(Evaluation("r", "m", "binary", "holdout", {"roc_auc": auc}, curves=curve))
    drawn = _polyline(page)
    expected = [
        (round(PAD + c["x"] * (W - 2 * PAD), 1), round(H - PAD - c["y"] * (H - 2 * PAD), 1))
        for c in sorted(curve, key=lambda c: (c["x"], c["y"]))
    ]
    assert len(curve) < MAX_POINTS and drawn == pytest.approx(expected, abs=0.051)
