"""Compile a trained estimator to SQL, so the warehouse scores rows where they are.

Why our own compiler rather than `orbital` (scikit-learn to SQL through ibis): orbital goes
through an ONNX export (skl2onnx, onnx), whose trees hold float32 thresholds and leaf weights
and compare the unrounded feature with them, so rows near a split and probabilities drift from
scikit-learn's. Here the estimator's own arrays are read and the arithmetic follows
scikit-learn's order, so labels match exactly and probabilities to the last few bits:

- scikit-learn's trees (forests, extra trees, classic gradient boosting) cast X to float32 and
  test `float32(x) <= threshold`. BigQuery has no float32, so each threshold becomes the largest
  double `d` with `float32(d) <= threshold` (`float32_bound`): `x <= d` is then the same test.
- HistGradientBoosting compares float64 values with its thresholds as they are.
- NULL (NaN on the Python side) goes where the node's `missing_go_to_left` sends it.
- Sums are evaluated left to right as scikit-learn accumulates them, `SUM_CHUNK` terms per
  layer, so no expression is deeper than the engines' parsers allow.
- An ensemble is walked `SUM_CHUNK` trees per layer, and each layer carries on only the columns
  later layers read: DuckDB's planning time grows with the square of a projection's width, so
  one column per tree in a single layer made large forests slow to plan.

The result is a list of layers, each a SELECT over the one before;
`sql/predict/in_warehouse.sql` turns it into one query over the model's frozen features.

`registry` says which compiler takes which scikit-learn class (`trees`, `linear`, `boosting`,
all writing through the `builder`, with `links` from raw scores to labels and scores).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ScoringError
from pipeline.render.compile.builder import (
    SUM_CHUNK,
    Builder,
    CompiledModel,
    Layer,
    float32_bound,
    num,
)
from pipeline.render.compile.registry import check_compilable

if TYPE_CHECKING:
    from pipeline.render.dialect import Dialect
    from pipeline.render.templates import Rendered, Templates

__all__ = [
    "SUM_CHUNK",
    "CompiledModel",
    "Layer",
    "check_compilable",
    "compile_estimator",
    "float32_bound",
    "leaf_count",
    "num",
    "scoring_query",
]


def compile_estimator(
    estimator: Any,
    features: list[str],
    dialect: Dialect,
) -> CompiledModel:
    """The estimator as SQL over columns named `features`, matching `model.predict_arrays`."""
    name = type(estimator).__name__
    compiler = check_compilable(estimator)
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise ScoringError(f"{name} with several outputs is not compiled to SQL")
    classes = None
    if hasattr(estimator, "classes_"):
        classes = [dialect.literal(getattr(c, "item", lambda c=c: c)()) for c in estimator.classes_]
    b = Builder(features, dialect.quote)
    prediction, score = compiler(b, estimator, classes)
    return CompiledModel(name, b.layers, prediction, score)


def leaf_count(estimator: Any) -> int:
    """Leaves across an ensemble's trees: what the compiled SQL's size grows with."""
    if hasattr(estimator, "_predictors"):
        return sum(int(p.nodes["is_leaf"].sum()) for it in estimator._predictors for p in it)
    trees: Any = getattr(estimator, "estimators_", [estimator])
    flat = trees.ravel() if hasattr(trees, "ravel") else trees
    return sum(int(t.tree_.n_leaves) for t in flat if hasattr(t, "tree_"))


def scoring_query(
    templates: Templates,
    compiled: CompiledModel,
    features: str,
    id_column: str,
    prediction_type: str,
    run_id: str,
    model_id: str,
) -> Rendered:
    """The predictions table's rows for the rows of `features` (SQL yielding the id, dataset
    and feature columns), scored by the compiled model."""
    return templates.render(
        "predict/in_warehouse.sql",
        features=features,
        id=id_column,
        layers=compiled.layers,
        prediction=compiled.prediction,
        score=compiled.score,
        prediction_type=prediction_type,
        run_id=run_id,
        model_id=model_id,
    )
