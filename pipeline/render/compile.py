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
  one column per tree in a single layer made a 400-tree forest take 7 s to plan.

The result is a list of layers, each a SELECT over the one before;
`sql/predict/in_warehouse.sql` turns it into one query over the model's frozen features.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ScoringError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pipeline.render.dialect import Dialect
    from pipeline.render.templates import Rendered, Templates

#: terms per expression in a running sum; DuckDB refuses expressions nested 1,000 deep
SUM_CHUNK = 200


@dataclass
class Layer:
    """One SELECT: the columns of the layer before that later layers still read (`keep`),
    and new (alias, expression) columns."""

    keep: list[str]
    new: list[tuple[str, str]]


@dataclass
class CompiledModel:
    """Layers over the feature columns; `prediction` and `score` read the last layer."""

    estimator: str
    layers: list[Layer] = field(default_factory=list)
    prediction: str = "NULL"
    score: str = "NULL"

    @property
    def columns(self) -> int:
        return sum(len(layer.new) for layer in self.layers)


def num(value: float) -> str:
    """A double literal both engines read as DOUBLE/FLOAT64 and round-trip exactly: the shortest
    repr, with an exponent (DuckDB reads `0.1` as DECIMAL, `0.1e0` as DOUBLE)."""
    value = float(value)
    if not math.isfinite(value):
        raise ScoringError(f"cannot write the non-finite number {value!r} into SQL")
    text = repr(value)
    if "e" not in text:
        text += "e0"
    return f"({text})" if text.startswith("-") else text


def float32_bound(threshold: float) -> float:
    """The largest double d such that float32(d) <= threshold, so that for every double x,
    `float32(x) <= threshold` exactly when `x <= d`. Casting to float32 rounds to nearest,
    ties to even, and never reverses order: the doubles that round to at most f (the largest
    float32 <= threshold) are those below the midpoint between f and the next float32, plus
    the midpoint itself when the tie rounds down to f."""
    import numpy as np

    f = np.float32(threshold)
    if float(f) > threshold:
        f = np.nextafter(f, np.float32(-np.inf))
    up = np.nextafter(f, np.float32(np.inf))
    if np.isinf(up):  # above the largest float32: only overflow to inf lies beyond
        return float(np.finfo(np.float64).max)
    midpoint = (float(f) + float(up)) / 2  # exact: a float32 midpoint fits in a double
    if np.float32(midpoint) == f:
        return midpoint
    return float(np.nextafter(midpoint, -np.inf))


class _Builder:
    def __init__(self, features: list[str], quote: Callable[[str], str]):
        self.features = features
        self.x = [quote(f) for f in features]
        self.quote = quote
        self.layers: list[Layer] = []
        self.live = list(features)  # the columns the last layer yields (besides id, dataset)

    def step(self, new: list[tuple[str, str]], keep: list[str] | None = None) -> list[str]:
        """A layer of `new` columns over the last one, which keeps `keep` (default: all of
        the last layer's columns); returns the new columns, quoted."""
        keep = self.live if keep is None else keep
        self.layers.append(Layer(list(keep), new))
        self.live = list(keep) + [alias for alias, _ in new]
        return [self.quote(alias) for alias, _ in new]

    def accumulate(
        self,
        sums: Mapping[str, tuple[str | None, list[str]]],
        walks: list[list[tuple[str, str]]] | None = None,
    ) -> list[str]:
        """`start + terms[0] + terms[1] + ...` for each alias, left to right as numpy adds.
        Term i reads the feature columns, or the columns `walks[i]` computes a layer earlier
        (tree walks). `SUM_CHUNK` terms (and walks) per layer; returns the sums, quoted."""
        n = len(next(iter(sums.values()))[1])
        chunks = [(lo, min(lo + SUM_CHUNK, n)) for lo in range(0, n, SUM_CHUNK)]
        lag = 1 if walks else 0  # a walk's column is summed in the layer after it
        heads = {alias: start for alias, (start, _) in sums.items()}
        for j in range(len(chunks) + lag):
            new: list[tuple[str, str]] = []
            if j >= lag:
                lo, hi = chunks[j - lag]
                for alias, (_, terms) in sums.items():
                    head = heads[alias]
                    name = f"{alias}_{j - lag}"
                    new.append((name, " + ".join(([head] if head else []) + terms[lo:hi])))
                    heads[alias] = self.quote(name)
            if walks and j < len(chunks):
                lo, hi = chunks[j]
                new += [column for tree in walks[lo:hi] for column in tree]
            # the features, while a later layer still walks or sums over them
            keep = self.features if j + 1 < len(chunks) else []
            self.step(new, keep=keep)
        return [h for h in heads.values() if h is not None]

    def condition(self, feature: int, threshold: float, nulls_left: bool, cast32: bool) -> str:
        x = self.x[feature]
        if math.isinf(threshold):
            test = f"{x} IS NOT NULL" if threshold > 0 else "FALSE"
        else:
            bound = float32_bound(threshold) if cast32 else threshold
            test = f"{x} <= {num(bound)}"
        return f"({test} OR {x} IS NULL)" if nulls_left else test


def _tree_sql(
    b: _Builder,
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


def _sk_tree(b: _Builder, tree: Any, values: Any) -> str:
    """A scikit-learn `Tree`: float32 comparisons; `values` holds each node's leaf value."""
    import numpy as np

    def leaf(node: int) -> str:
        return num(values[node])

    t = tree.tree_
    nulls_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=np.uint8))
    return _tree_sql(
        b, t.children_left, t.children_right, t.feature, t.threshold, nulls_left, leaf, True
    )


def _hist_tree(b: _Builder, predictor: Any) -> str:
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


# --- links from raw scores to what predict_arrays returns -------------------------------------
def _classify(b: _Builder, probs: list[str], classes: list[str]) -> tuple[str, str]:
    """prediction = classes[argmax(probs)], the first on ties as numpy's argmax; score =
    P(classes[1]) for two classes, else the top probability."""
    cols = b.step([(f"p__{k}", p) for k, p in enumerate(probs)])
    if len(cols) == 2:
        return f"CASE WHEN {cols[1]} > {cols[0]} THEN {classes[1]} ELSE {classes[0]} END", cols[1]
    whens = [
        f"WHEN {cols[k]} >= GREATEST({', '.join(cols[k + 1 :])}) THEN {classes[k]}"
        for k in range(len(cols) - 1)
    ]
    label = f"CASE {' '.join(whens)} ELSE {classes[-1]} END"
    return label, f"GREATEST({', '.join(cols)})"


def _from_raw(b: _Builder, raw: list[str], link: str, classes: list[str] | None) -> tuple[str, str]:
    """Raw scores (one per class, or one) through the loss's inverse link."""
    if classes is None:  # regression
        if link == "identity":
            return raw[0], "NULL"
        if link == "log":
            return f"EXP({raw[0]})", "NULL"
        raise ScoringError(f"no SQL for the inverse of link {link!r}")
    if len(raw) == 1:  # binary: P(1) = expit(raw), P(0) = 1 - P(1)
        (p1,) = b.step([("expit__1", f"1.0e0 / (1.0e0 + EXP(-({raw[0]})))")])
        return _classify(b, [f"1.0e0 - {p1}", p1], classes)
    # softmax over the classes, shifted by the largest raw score as scikit-learn does
    (top,) = b.step([("raw__max", f"GREATEST({', '.join(raw)})")])
    exps = b.step([(f"e__{k}", f"EXP({r} - {top})") for k, r in enumerate(raw)])
    (total,) = b.step([("e__sum", " + ".join(exps))])
    return _classify(b, [f"{e} / {total}" for e in exps], classes)


# --- estimators --------------------------------------------------------------------------------
def _linear(b: _Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """X @ coef.T + intercept."""
    import numpy as np

    coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))  # (n_outputs, n_features)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))  # (n_outputs,)
    sums = {
        f"raw__{k}": (None, [f"{x} * {num(w)}" for x, w in zip(b.x, row, strict=True)] + [num(c)])
        for k, (row, c) in enumerate(zip(coef, intercept, strict=True))
    }
    return _from_raw(b, b.accumulate(sums), "identity", classes)


def _forest(b: _Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """Mean of the trees' leaf values (class fractions for classifiers), summed in tree order."""
    import numpy as np

    trees = list(getattr(est, "estimators_", [est]))
    n = num(len(trees))
    q = b.quote
    if classes is None:
        walks = [[(f"t__{i}", _sk_tree(b, t, t.tree_.value[:, 0, 0]))] for i, t in enumerate(trees)]
        (total,) = b.accumulate({"sum__0": (None, [q(w[0][0]) for w in walks])}, walks)
        return f"{total} / {n}", "NULL"
    k = len(classes)
    values = [t.tree_.value[:, 0, :k] for t in trees]  # (n_nodes, n_classes) fractions
    # two classes whose leaf fractions are exactly 1 - each other: one walk per tree
    complementary = k == 2 and all(np.array_equal(v[:, 0], 1.0 - v[:, 1]) for v in values)
    walked = [1] if complementary else list(range(k))
    walks = [
        [(f"t__{i}_{c}", _sk_tree(b, t, v[:, c])) for c in walked]
        for i, (t, v) in enumerate(zip(trees, values, strict=True))
    ]
    terms = {c: [q(f"t__{i}_{c}") for i in range(len(trees))] for c in walked}
    if complementary:
        terms[0] = [f"(1.0e0 - {t})" for t in terms[1]]
    sums = b.accumulate({f"sum__{c}": (None, terms[c]) for c in range(k)}, walks)
    return _classify(b, [f"{total} / {n}" for total in sums], classes)


def _init_raw(est: Any, n_features: int) -> list[float]:
    """Classic gradient boosting's starting raw score: constant for its built-in inits."""
    import numpy as np

    init = est.init_
    if init != "zero" and type(init).__name__ not in ("DummyClassifier", "DummyRegressor"):
        raise ScoringError(f"a gradient boosting init of {type(init).__name__} is not compiled")
    raw = est._raw_predict_init(np.zeros((1, n_features), dtype=np.float32))  # (1, n_trees)
    return [float(r) for r in raw[0]]


def _link_of(est: Any) -> str:
    name = type(est._loss.link).__name__
    return {"IdentityLink": "identity", "LogLink": "log", "LogitLink": "logit"}.get(
        name, "softmax" if "Multinomial" in name else name
    )


def _boosted_sums(
    b: _Builder, starts: list[float], walks: list[list[tuple[str, str]]]
) -> list[str]:
    """start_k + the walk of tree k of every stage, in stage order."""
    terms = {
        f"raw__{k}": (num(start), [b.quote(stage[k][0]) for stage in walks])
        for k, start in enumerate(starts)
    }
    return b.accumulate(terms, walks)


def _boosting(b: _Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """Classic gradient boosting: init + learning_rate * leaf value, stage by stage."""
    scale = float(est.learning_rate)
    starts = _init_raw(est, len(b.x))
    walks = [
        [
            (f"t__{i}_{k}", _sk_tree(b, t, scale * t.tree_.value[:, 0, 0]))
            for k, t in enumerate(stage)
        ]
        for i, stage in enumerate(est.estimators_)  # (n_stages, n_trees_per_stage)
    ]
    return _from_raw(b, _boosted_sums(b, starts, walks), _link_of(est), classes)


def _hist_boosting(b: _Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """HistGradientBoosting: baseline + leaf value, iteration by iteration."""
    if getattr(est, "is_categorical_", None) is not None and est.is_categorical_.any():
        raise ScoringError("HistGradientBoosting with categorical features is not compiled")
    starts = [float(v) for v in est._baseline_prediction[0]]  # (n_trees_per_iteration,)
    walks = [
        [(f"t__{i}_{k}", _hist_tree(b, predictor)) for k, predictor in enumerate(iteration)]
        for i, iteration in enumerate(est._predictors)
    ]
    return _from_raw(b, _boosted_sums(b, starts, walks), _link_of(est), classes)


COMPILERS: dict[str, Callable[[_Builder, Any, list[str] | None], tuple[str, str]]] = {
    "LogisticRegression": _linear,
    "LogisticRegressionCV": _linear,
    "LinearRegression": _linear,
    "Ridge": _linear,
    "RidgeCV": _linear,
    "Lasso": _linear,
    "LassoCV": _linear,
    "ElasticNet": _linear,
    "ElasticNetCV": _linear,
    "DecisionTreeClassifier": _forest,
    "DecisionTreeRegressor": _forest,
    "ExtraTreeClassifier": _forest,
    "ExtraTreeRegressor": _forest,
    "RandomForestClassifier": _forest,
    "RandomForestRegressor": _forest,
    "ExtraTreesClassifier": _forest,
    "ExtraTreesRegressor": _forest,
    "GradientBoostingClassifier": _boosting,
    "GradientBoostingRegressor": _boosting,
    "HistGradientBoostingClassifier": _hist_boosting,
    "HistGradientBoostingRegressor": _hist_boosting,
}


def check_compilable(
    estimator: Any,
) -> Callable[[_Builder, Any, list[str] | None], tuple[str, str]]:
    """The compiler for this kind of estimator, or a ScoringError naming it: checked before
    training too, so `pipeline run --executor warehouse` fails before its first write."""
    name = type(estimator).__name__
    compiler = COMPILERS.get(name)
    if compiler is None:
        raise ScoringError(
            f"{name} cannot be compiled to SQL (compiled: {', '.join(sorted(COMPILERS))}); "
            "score it in Python with --executor auto, process, thread or dask"
        )
    return compiler


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
    b = _Builder(features, dialect.quote)
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
