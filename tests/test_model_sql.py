"""The estimator-to-SQL compiler, against scikit-learn itself, in a real (in-memory) DuckDB.

Every supported estimator is fitted on a small synthetic table, compiled, run through
sql/predict/in_warehouse.sql, and compared with `predict_arrays`: labels identical,
probabilities within 1e-9 for linear models and 1e-6 for trees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn import ensemble, linear_model, tree

from pipeline.core.errors import ScoringError
from pipeline.model.trained import predict_arrays
from pipeline.render.compile import (
    SUM_CHUNK,
    compile_estimator,
    float32_bound,
    leaf_count,
    num,
    scoring_query,
)
from pipeline.render.templates import Templates
from pipeline.warehouse.duckdb import DuckDBWarehouse

SQL = Path(__file__).resolve().parents[1] / "sql"
FEATURES = ["age", "Fare", "is_male", "x 3"]  # mixed case and a space: names are quoted


def data(seed: int = 0, n: int = 600, nan: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack(  # X: (n_rows, n_features)
        [
            rng.normal(30, 12, n),
            rng.lognormal(3, 1, n),
            rng.integers(0, 2, n).astype(float),
            rng.uniform(-1, 1, n),
        ]
    )
    logit = 0.05 * (X[:, 0] - 30) - 0.02 * X[:, 1] + 1.5 * X[:, 2] + X[:, 3]
    y = (logit + rng.normal(0, 1, n) > 0).astype(int)  # y: (n_rows,)
    if nan:
        X[rng.random(n) < 0.1, 0] = np.nan
    return X, y


def sql_predict(estimator, X: np.ndarray, label_type: str = "BIGINT") -> tuple[list, np.ndarray]:
    with DuckDBWarehouse.in_memory() as wh:
        columns = {name: X[:, j] for j, name in enumerate(FEATURES)}
        table = pa.table(
            {"id": np.arange(len(X)), "dataset": ["holdout"] * len(X), **columns}
        ).to_pandas()
        wh.register("rows", table)
        compiled = compile_estimator(estimator, FEATURES, wh.dialect)
        templates = Templates(SQL, wh.dialect)
        sql = scoring_query(
            templates, compiled, "SELECT * FROM rows", "id", label_type, "r", "m"
        ).sql
        out = wh.query_arrow(f"SELECT * FROM ({sql}) AS s ORDER BY id")
    assert out.column("scored_by").to_pylist() == ["warehouse"] * len(X)
    score = out.column("score").to_numpy(zero_copy_only=False)
    return out.column("prediction").to_pylist(), score


CLASSIFIERS = [
    (linear_model.LogisticRegression(max_iter=1000), 1e-9),
    (tree.DecisionTreeClassifier(max_depth=6, random_state=0), 1e-6),
    (ensemble.RandomForestClassifier(n_estimators=30, max_depth=8, random_state=0), 1e-6),
    (ensemble.RandomForestClassifier(n_estimators=5, random_state=0), 1e-6),  # deep, pure
    (ensemble.ExtraTreesClassifier(n_estimators=20, max_depth=6, random_state=0), 1e-6),
    (ensemble.GradientBoostingClassifier(n_estimators=40, random_state=0), 1e-6),
    (ensemble.HistGradientBoostingClassifier(max_iter=40, random_state=0), 1e-6),
]


@pytest.mark.parametrize(("estimator", "tol"), CLASSIFIERS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("classes", [2, 3])
def test_classifiers_match_scikit_learn(estimator, tol, classes):
    X, y = data()
    if classes == 3:
        y = y + (X[:, 3] > 0.5)  # a third class
    estimator.fit(X, y)
    X_new, _ = data(seed=1)
    labels, score = predict_arrays(estimator, X_new)
    sql_labels, sql_score = sql_predict(estimator, X_new)
    assert sql_labels == labels.tolist()
    np.testing.assert_allclose(sql_score, score, rtol=0, atol=tol)


REGRESSORS = [
    (linear_model.LinearRegression(), 1e-9),
    (linear_model.Ridge(alpha=2.0), 1e-9),
    (tree.DecisionTreeRegressor(max_depth=7, random_state=0), 1e-9),
    (ensemble.RandomForestRegressor(n_estimators=20, max_depth=8, random_state=0), 1e-9),
    (ensemble.GradientBoostingRegressor(n_estimators=40, random_state=0), 1e-9),
    (ensemble.HistGradientBoostingRegressor(max_iter=40, random_state=0), 1e-9),
    (ensemble.HistGradientBoostingRegressor(max_iter=20, loss="poisson", random_state=0), 1e-9),
]


@pytest.mark.parametrize(("estimator", "tol"), REGRESSORS, ids=lambda e: type(e).__name__)
def test_regressors_match_scikit_learn(estimator, tol):
    X, _ = data()
    rng = np.random.default_rng(3)
    target = np.abs(0.5 * X[:, 0] + 10 * X[:, 2] + 5 * X[:, 3]) + 1 + rng.gamma(2, 2, len(X))
    estimator.fit(X, target)  # positive target, so the Poisson loss applies
    X_new, _ = data(seed=1)
    predicted, _ = predict_arrays(estimator, X_new)
    sql_predicted, sql_score = sql_predict(estimator, X_new, "DOUBLE")
    np.testing.assert_allclose(sql_predicted, predicted, rtol=1e-12, atol=tol)
    assert np.isnan(sql_score).all()


@pytest.mark.parametrize(
    "estimator",
    [
        ensemble.HistGradientBoostingClassifier(max_iter=30, random_state=0),
        ensemble.RandomForestClassifier(n_estimators=20, random_state=0),
        tree.DecisionTreeClassifier(random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_missing_values_go_where_the_tree_sends_them(estimator):
    """NaN in Python is NULL in SQL: both follow the node's missing_go_to_left."""
    X, y = data(nan=True)
    estimator.fit(X, y)
    X_new, _ = data(seed=2, nan=True)
    labels, score = predict_arrays(estimator, X_new)
    sql_labels, sql_score = sql_predict(estimator, X_new)
    assert sql_labels == labels.tolist()
    np.testing.assert_allclose(sql_score, score, rtol=0, atol=1e-6)


def test_long_ensembles_sum_in_layers():
    """More trees than one expression may nest: running sums spread over layers."""
    X, y = data(n=300)
    forest = ensemble.RandomForestClassifier(
        n_estimators=SUM_CHUNK * 2 + 7, max_depth=3, random_state=0
    ).fit(X, y)
    compiled = compile_estimator(forest, FEATURES, DuckDBWarehouse.dialect)
    assert len(compiled.layers) >= 3
    labels, score = predict_arrays(forest, X)
    sql_labels, sql_score = sql_predict(forest, X)
    assert sql_labels == labels.tolist()
    np.testing.assert_allclose(sql_score, score, rtol=0, atol=1e-12)
    assert leaf_count(forest) == sum(t.tree_.n_leaves for t in forest.estimators_)


def test_float32_bound_is_the_float32_comparison():
    """float32(x) <= t  exactly when  x <= float32_bound(t), at and around every edge."""
    rng = np.random.default_rng(0)
    thresholds = np.concatenate(
        [rng.normal(0, 100, 300), rng.uniform(-1, 1, 300), [0.0, 0.5, 1.5, -2.5, 1e-30, 3e38]]
    )
    for t in thresholds:
        bound = float32_bound(float(t))
        f = np.float32(t)
        around = [bound, np.nextafter(bound, np.inf), np.nextafter(bound, -np.inf), float(f)]
        around += list(bound + rng.normal(0, abs(bound) * 1e-7 + 1e-45, 20))
        for x in around:
            assert (np.float32(x) <= t) == (x <= bound), (t, x, bound)


def test_numbers_are_exact_double_literals():
    with DuckDBWarehouse.in_memory() as wh:
        values = [0.1, 0.35000000000000003, -2.5, 1e-300, 123456789.125, 5e-324]
        row = wh.query_arrow(
            "SELECT " + ", ".join(f"{num(v)} AS c{i}" for i, v in enumerate(values))
        )
        assert [row.column(i)[0].as_py() for i in range(len(values))] == values
        assert str(row.schema.field(0).type) == "double"


def test_uncompilable_estimators_are_named():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data(n=50)
    knn = KNeighborsClassifier().fit(X, y)
    with pytest.raises(ScoringError, match="KNeighborsClassifier cannot be compiled to SQL"):
        compile_estimator(knn, FEATURES, DuckDBWarehouse.dialect)


class MyForest(ensemble.RandomForestClassifier):
    """A user's own forest: compiled as the scikit-learn class it derives from."""


class RandomForestClassifier:
    """Not scikit-learn's: a foreign class that only shares a compiled estimator's name."""

    classes_ = np.array([0, 1])


def test_a_subclass_of_a_compiled_estimator_compiles_as_its_parent():
    X, y = data()
    parent = ensemble.RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)
    child = MyForest(n_estimators=10, max_depth=6, random_state=0)
    parent.fit(X, y)
    child.fit(X, y)
    X_new, _ = data(seed=1)
    parent_labels, parent_score = sql_predict(parent, X_new)
    child_labels, child_score = sql_predict(child, X_new)
    assert child_labels == parent_labels
    np.testing.assert_array_equal(child_score, parent_score)
    labels, score = predict_arrays(child, X_new)
    assert child_labels == labels.tolist()
    np.testing.assert_allclose(child_score, score, rtol=0, atol=1e-6)


def test_a_foreign_class_is_refused_whatever_its_name():
    """The registry maps scikit-learn classes, not names: a class that merely shares the name
    of a compiled estimator gets the message any uncompilable estimator gets."""
    with pytest.raises(ScoringError) as refused:
        compile_estimator(RandomForestClassifier(), FEATURES, DuckDBWarehouse.dialect)
    from sklearn.neighbors import KNeighborsClassifier

    with pytest.raises(ScoringError) as unsupported:
        compile_estimator(KNeighborsClassifier(), FEATURES, DuckDBWarehouse.dialect)
    message = str(unsupported.value).replace("KNeighborsClassifier", "RandomForestClassifier", 1)
    assert str(refused.value) == message
    assert message.startswith("RandomForestClassifier cannot be compiled to SQL (compiled: ")


def test_a_scikit_learn_class_derived_from_a_compiled_one_is_still_refused():
    """RidgeClassifier derives from Ridge but predicts labels: the nearest scikit-learn class
    decides, and it has no compiler."""
    X, y = data(n=80)
    ridge = linear_model.RidgeClassifier().fit(X, y)
    with pytest.raises(ScoringError, match="RidgeClassifier cannot be compiled to SQL"):
        compile_estimator(ridge, FEATURES, DuckDBWarehouse.dialect)
