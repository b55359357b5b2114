"""Feature rows as arrays, and an estimator's labels and scores for them: the numeric core
that training, the batch scoring workers and `TrainedModel.predict` share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ModelIntegrityError

if TYPE_CHECKING:
    import numpy as np


def predict_arrays(estimator: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels and a score for feature rows. X: (n_rows, n_features) float64.

    For a classifier the label is the argmax of predict_proba (what scikit-learn's forests do
    internally), so one call gives both; the score is P(classes_[1]) for binary tasks and the
    top class's probability otherwise. Regression has no score."""
    import numpy as np

    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)  # (n_rows, n_classes)
        labels = estimator.classes_.take(np.argmax(proba, axis=1))  # (n_rows,)
        score = proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)  # (n_rows,)
        return labels, score
    return estimator.predict(X), None


def column(table: Any, name: str) -> Any:
    """An Arrow column by name, matched without regard to case when no exact match exists: SQL
    identifiers are case-insensitive (BigQuery, and DuckDB too), and an engine may return a
    name in another case than the alias that made it."""
    if name in table.column_names:
        return table.column(name)
    folded = [c for c in table.column_names if c.lower() == name.lower()]
    if len(folded) != 1:
        raise ModelIntegrityError(f"rows lack the column {name!r}; they have {table.column_names}")
    return table.column(folded[0])


def feature_matrix(table: Any, names: list[str]) -> np.ndarray:
    """Arrow columns to a C-ordered float64 matrix. X: (n_rows, n_features)."""
    import numpy as np

    present = {c.lower() for c in table.column_names}
    missing = [n for n in names if n.lower() not in present]
    if missing:
        raise ModelIntegrityError(f"feature rows lack the model's columns {missing}")
    X = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        X[:, j] = column(table, name).to_numpy(zero_copy_only=False)
    return X
