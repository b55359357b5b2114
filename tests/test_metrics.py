"""The SQL metrics equal scikit-learn's on the same predictions, ties and edge cases included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from pipeline.metrics import metrics_of_arrays
from tests.conftest import REPO


def sql_metrics(
    y: np.ndarray, score: np.ndarray, threshold: float = 0.5
) -> dict[str, float | None]:
    """sql/evaluate/binary.sql on an in-memory DuckDB holding these labels and scores."""
    pred = (score >= threshold).astype(np.int64)
    return metrics_of_arrays(REPO / "sql", "binary", y, pred, score, positive=1)


def sklearn_metrics(
    y: np.ndarray, score: np.ndarray, threshold: float = 0.5
) -> dict[str, float | None]:
    pred = (score >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    return {
        "rows": float(len(y)),
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=np.nan) if pred.any() else None,
        "recall": skm.recall_score(y, pred, zero_division=np.nan) if y.any() else None,
        "f1": skm.f1_score(y, pred, zero_division=np.nan) if (pred.any() or y.any()) else None,
        "roc_auc": skm.roc_auc_score(y, score) if both else None,
    }


def _close(a: dict[str, float | None], b: dict[str, float | None]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if b[k] is None:
            assert a[k] is None, k
        else:
            assert a[k] == pytest.approx(b[k], abs=1e-9), k


@pytest.mark.parametrize("seed", range(12))
def test_random_labels_and_tied_scores_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y = rng.integers(0, 2, n)
    # coarse scores make many ties, which is where AUC implementations differ
    score = np.round(rng.random(n) * rng.choice([3, 10, 1000]), 0) / 1000.0 + 0.3 * y
    _close(sql_metrics(y, score), sklearn_metrics(y, score))


@pytest.mark.parametrize(
    ("y", "score"),
    [
        ([1, 1, 1, 1], [0.1, 0.9, 0.5, 0.5]),  # one class: AUC undefined
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]),  # constant scores: AUC 0.5
        ([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]),  # nothing predicted positive: precision undefined
        ([0, 1, 1, 0, 1], [0.9, 0.8, 0.7, 0.6, 0.55]),
    ],
)
def test_degenerate_cases(y: list[int], score: list[float]) -> None:
    _close(sql_metrics(np.array(y), np.array(score)), sklearn_metrics(np.array(y), np.array(score)))


def test_titanic_holdout_metrics_equal_sklearn(titanic_project: object) -> None:
    from pipeline.runner import run_stages

    options = titanic_project()  # type: ignore[operator]
    run_stages(options, None)
    con = __import__("duckdb").connect(str(Path(options.config_path).parent / "warehouse.duckdb"))
    rows = con.sql("""
        SELECT c.Survived AS y, p.prediction, p.score FROM pipeline.predictions AS p
        JOIN pipeline.clean AS c USING (PassengerId) WHERE p.dataset = 'holdout'
    """).fetchall()
    stored = dict(con.sql("SELECT metric, value FROM pipeline.metrics").fetchall())
    con.close()
    y, pred, score = (np.array(c) for c in zip(*rows, strict=True))
    assert stored["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert stored["precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert stored["recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert stored["f1"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert stored["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score), abs=1e-12)
    assert stored["accuracy"] >= 0.78


@pytest.mark.parametrize("seed", range(6))
def test_multiclass_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    y = rng.choice(["a", "b", "c", "d"], size=n, p=[0.5, 0.3, 0.15, 0.05])
    pred = np.where(rng.random(n) < 0.6, y, rng.choice(["a", "b", "c", "e"], size=n))
    got = metrics_of_arrays(REPO / "sql", "multiclass", y, pred, None)
    want = {"rows": float(n), "accuracy": skm.accuracy_score(y, pred)}
    for avg in ("macro", "weighted"):
        want[f"{avg}_precision"] = skm.precision_score(y, pred, average=avg, zero_division=0)
        want[f"{avg}_recall"] = skm.recall_score(y, pred, average=avg, zero_division=0)
        want[f"{avg}_f1"] = skm.f1_score(y, pred, average=avg, zero_division=0)
    _close(got, want)


@pytest.mark.parametrize("seed", range(6))
def test_regression_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y = rng.normal(30, 10, n)
    pred = y + rng.normal(2, 5, n)
    got = metrics_of_arrays(REPO / "sql", "regression", y, pred, None)
    _close(
        got,
        {
            "rows": float(n),
            "mae": skm.mean_absolute_error(y, pred),
            "mse": skm.mean_squared_error(y, pred),
            "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
            "r2": skm.r2_score(y, pred),
            "explained_variance": skm.explained_variance_score(y, pred),
        },
    )
