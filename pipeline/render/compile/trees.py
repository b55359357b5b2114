"""Decision trees as nested CASE expressions, and the forests that average them: scikit-learn's
trees (float32 comparisons) and HistGradientBoosting's predictors (float64 comparisons)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.core.errors import ScoringError
from pipeline.render.compile.builder import Builder, num
from pipeline.render.compile.links import classify


def _tree_sql(
    b: Builder,
    left: Any,
    right: Any,
    feature: Any,
    threshold: Any,
    nulls_left: Any,
    leaf: Callable[[int], str],
    cast32: bool,
) -> str:
    """A nested CASE walking one tree from its root; `leaf(node)` is a leaf's SQL value."""
    parts: list[str] = []

    def walk(node: int) -> None:
        if left[node] == right[node] or left[node] < 0:  # a leaf (scikit-learn marks with -1)
            parts.append(leaf(node))
            return
        cond = b.condition(
            int(feature[node]), float(threshold[node]), bool(nulls_left[node]), cast32
        )
        parts.append(f"CASE WHEN {cond} THEN ")
        walk(int(left[node]))
        parts.append(" ELSE ")
        walk(int(right[node]))
        parts.append(" END")

    walk(0)
    return "".join(parts)


def sk_tree(b: Builder, tree: Any, values: Any) -> str:
    """A scikit-learn `Tree`: float32 comparisons; `values` holds each node's leaf value."""
    import numpy as np

    def leaf(node: int) -> str:
        return num(values[node])

    t = tree.tree_
    nulls_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    return _tree_sql(
        b, t.children_left, t.children_right, t.feature, t.threshold, nulls_left, leaf, True
    )


def hist_tree(b: Builder, predictor: Any) -> str:
    """A HistGradientBoosting `TreePredictor`: float64 comparisons, leaf values as they are."""
    nodes = predictor.nodes
    if nodes["is_categorical"].any():
        raise ScoringError("categorical splits in HistGradientBoosting are not compiled to SQL")
    is_leaf = nodes["is_leaf"].astype(bool)
    left = nodes["left"].astype("int64")
    right = nodes["right"].astype("int64")
    left[is_leaf] = right[is_leaf] = -1
    return _tree_sql(
        b,
        left,
        right,
        nodes["feature_idx"],
        nodes["num_threshold"],
        nodes["missing_go_to_left"],
        lambda n: num(nodes["value"][n]),
        False,
    )


def forest(b: Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """Mean of the trees' leaf values (class fractions for classifiers), summed in tree order."""
    import numpy as np

    trees = list(getattr(est, "estimators_", [est]))
    n = num(len(trees))
    q = b.quote
    if classes is None:
        walks = [[(f"t__{i}", sk_tree(b, t, t.tree_.value[:, 0, 0]))] for i, t in enumerate(trees)]
        (total,) = b.accumulate({"sum__0": (None, [q(w[0][0]) for w in walks])}, walks)
        return f"{total} / {n}", "NULL"
    k = len(classes)
    values = [t.tree_.value[:, 0, :k] for t in trees]  # (n_nodes, n_classes) fractions
    # two classes whose leaf fractions are exactly 1 - each other: one walk per tree
    complementary = k == 2 and all(np.array_equal(v[:, 0], 1.0 - v[:, 1]) for v in values)
    walked = [1] if complementary else list(range(k))
    walks = [
        [(f"t__{i}_{c}", sk_tree(b, t, v[:, c])) for c in walked]
        for i, (t, v) in enumerate(zip(trees, values, strict=True))
    ]
    terms = {c: [q(f"t__{i}_{c}") for i in range(len(trees))] for c in walked}
    if complementary:
        terms[0] = [f"(1.0e0 - {t})" for t in terms[1]]
    sums = b.accumulate({f"sum__{c}": (None, terms[c]) for c in range(k)}, walks)
    return classify(b, [f"{total} / {n}" for total in sums], classes)
