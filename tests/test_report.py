"""The report draws each task's charts from numbers computed in SQL: a confusion matrix for
multiclass, predicted against actual and residuals for regression; the numbers equal
scikit-learn's / NumPy's on the same rows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from pipeline.evaluation.charts import _ticks
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
