"""Every SQL metric equals scikit-learn's, on random labels and scores (hypothesis), ties and
degenerate cases included. Documented differences: an undefined metric is NULL here, where
scikit-learn warns and returns 0 or nan."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from pipeline.evaluation.metrics import metrics_of_arrays
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import REPO, OptionsFactory

SQL = REPO / "sql"
PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sklearn_binary(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float | None]:
    pred = (score >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        return {
            "rows": float(len(y)),
            "accuracy": skm.accuracy_score(y, pred),
            "precision": skm.precision_score(y, pred, zero_division=0) if pred.any() else None,
            "recall": skm.recall_score(y, pred, zero_division=0) if y.any() else None,
            "f1": skm.f1_score(y, pred) if (pred.any() or y.any()) else None,
            "positive_rate": float(pred.mean()),
            "prevalence": float(y.mean()),
            "log_loss": skm.log_loss(y, score, labels=[0, 1]),
            "brier": skm.brier_score_loss(y, score, pos_label=1),
            "tp": float(tp),
            "fp": float(fp),
            "fn": float(fn),
            "tn": float(tn),
            "roc_auc": skm.roc_auc_score(y, score) if both else None,
            "average_precision": skm.average_precision_score(y, score) if y.any() else None,
        }


def assert_close(got: dict[str, float | None], want: dict[str, float | None]) -> None:
    assert got.keys() == want.keys()
    for k, v in want.items():
        if v is None:
            assert got[k] is None, k
        else:
            assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k


def binary_sql(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float | None]:
    pred = (score >= threshold).astype(np.int64)  # ignored: the threshold decides
    return metrics_of_arrays(SQL, "binary", y, pred, score, positive=1, threshold=threshold)


# scores on a coarse grid make many ties, which is where ranking metrics differ most
scores = st.integers(0, 20).map(lambda k: k / 20)


@PROPERTY
@given(
    st.lists(st.tuples(st.integers(0, 1), scores), min_size=1, max_size=80),
    st.sampled_from([0.5, 0.3, 0.05, 1.0]),
)
def test_binary_metrics_equal_sklearn(rows: list[tuple[int, float]], threshold: float) -> None:
    y = np.array([r[0] for r in rows])
    score = np.array([r[1] for r in rows])
    assert_close(binary_sql(y, score, threshold), sklearn_binary(y, score, threshold))


@pytest.mark.parametrize(
    ("y", "score"),
    [
        ([1, 1, 1, 1], [0.1, 0.9, 0.5, 0.5]),  # one class: AUC and AP undefined -> NULL
        ([0, 0, 0], [0.2, 0.2, 0.9]),  # no positives: recall and AP undefined
        ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]),  # constant scores: AUC 0.5
        ([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]),  # nothing predicted positive: precision NULL
        ([0, 1], [0.0, 1.0]),  # scores at 0 and 1: log loss clipped as scikit-learn
    ],
)
def test_degenerate_binary_cases(y: list[int], score: list[float]) -> None:
    y_, s_ = np.array(y), np.array(score)
    assert_close(binary_sql(y_, s_, 0.5), sklearn_binary(y_, s_, 0.5))


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcde")), min_size=1, max_size=80)
)
def test_multiclass_metrics_equal_sklearn(rows: list[tuple[str, str]]) -> None:
    y = np.array([r[0] for r in rows])
    pred = np.array([r[1] for r in rows])
    want: dict[str, float | None] = {"rows": float(len(y)), "accuracy": skm.accuracy_score(y, pred)}
    for avg in ("macro", "weighted"):
        want[f"{avg}_precision"] = skm.precision_score(y, pred, average=avg, zero_division=0)
        want[f"{avg}_recall"] = skm.recall_score(y, pred, average=avg, zero_division=0)
        want[f"{avg}_f1"] = skm.f1_score(y, pred, average=avg, zero_division=0)
    assert_close(metrics_of_arrays(SQL, "multiclass", y, pred, None), want)


@PROPERTY
@given(
    st.lists(
        st.tuples(st.floats(0, 500, allow_nan=False), st.floats(0, 500, allow_nan=False)),
        min_size=2,
        max_size=80,
    )
)
def test_regression_metrics_equal_sklearn(rows: list[tuple[float, float]]) -> None:
    y = np.array([r[0] for r in rows])
    pred = np.array([r[1] for r in rows])
    # scikit-learn's rule, which NULL replaces here: a zero denominator, not "constant labels"
    constant = float(np.sum((y - y.mean()) ** 2)) == 0.0
    want: dict[str, float | None] = {
        "rows": float(len(y)),
        "mae": skm.mean_absolute_error(y, pred),
        "mse": skm.mean_squared_error(y, pred),
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "msle": skm.mean_squared_log_error(y, pred),
        "median_absolute_error": skm.median_absolute_error(y, pred),
        "r2": None if constant else skm.r2_score(y, pred),
        "explained_variance": None if constant else skm.explained_variance_score(y, pred),
    }
    got = metrics_of_arrays(SQL, "regression", y, pred, None)
    assert got.keys() == want.keys()
    for k, v in want.items():
        if v is None:
            assert got[k] is None, k
        else:  # sums of squares of values up to 500: compare relative to the scale
            assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-9 * max(1.0, abs(v))), k


def test_msle_is_null_for_negative_values() -> None:
    got = metrics_of_arrays(SQL, "regression", np.array([1.0, -2.0]), np.array([1.0, 2.0]), None)
    assert got["msle"] is None


def test_titanic_holdout_metrics_and_curves_equal_sklearn(titanic_project: OptionsFactory) -> None:
    from pipeline.stages.runner import run_stages

    options = titanic_project()
    run_stages(options, None)
    con = duckdb.connect(str(Path(options.config_path).parent / "warehouse.duckdb"))
    rows = con.sql(
        """
        SELECT c.Survived AS y, p.prediction, p.score, r.Pclass, r.Sex
        FROM pipeline.predictions AS p
        JOIN pipeline.clean AS c USING (PassengerId)
        JOIN raw.titanic_train AS r USING (PassengerId)
        WHERE p.dataset = 'holdout'
        """
    ).fetchall()
    stored = con.sql("SELECT slice, segment, metric, value FROM pipeline.metrics").fetchall()
    curves = con.sql("SELECT curve, x, y, threshold, n FROM pipeline.curves").fetchall()
    con.close()
    y, pred, score, pclass, sex = (np.array(c) for c in zip(*rows, strict=True))
    metrics = {(s, g, m): v for s, g, m, v in stored}

    def check(mask: np.ndarray, slice_: str, segment: str) -> None:
        yy, pp, ss = y[mask], pred[mask], score[mask]
        got = {m: v for (s, g, m), v in metrics.items() if (s, g) == (slice_, segment)}
        assert got["accuracy"] == pytest.approx(skm.accuracy_score(yy, pp), abs=1e-12)
        assert got["f1"] == pytest.approx(skm.f1_score(yy, pp), abs=1e-12)
        assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(yy, ss), abs=1e-12)
        assert got["log_loss"] == pytest.approx(skm.log_loss(yy, ss, labels=[0, 1]), abs=1e-12)
        assert got["average_precision"] == pytest.approx(
            skm.average_precision_score(yy, ss), abs=1e-12
        )

    check(np.ones(len(y), bool), "all", "all")
    assert metrics[("all", "all", "accuracy")] >= 0.78
    for value in ("1", "2", "3"):
        check(pclass.astype(str) == value, "Pclass", value)
    for value in ("female", "male"):
        check(sex == value, "Sex", value)

    fpr, tpr, _ = skm.roc_curve(y, score, drop_intermediate=False)
    roc = sorted((x, yv) for c, x, yv, _, _ in curves if c == "roc")
    np.testing.assert_allclose(roc, sorted(zip(fpr, tpr, strict=True)), rtol=0, atol=1e-12)
    precision, recall, thresholds = skm.precision_recall_curve(y, score)
    pr = sorted((t, x, yv) for c, x, yv, t, _ in curves if c == "pr")
    want = sorted(zip(thresholds, recall[:-1], precision[:-1], strict=True))
    np.testing.assert_allclose(pr, want, rtol=0, atol=1e-12)
    from sklearn.calibration import calibration_curve

    prob_true, prob_pred = calibration_curve(y, score, n_bins=10)
    cal = sorted((x, yv) for c, x, yv, _, _ in curves if c == "calibration")
    np.testing.assert_allclose(
        cal, sorted(zip(prob_pred, prob_true, strict=True)), rtol=0, atol=1e-12
    )


def test_metrics_of_arrays_are_the_same_bytes_on_every_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Float sums over 200k rows on several threads changed in their last bits from run to
    run (model.json's training log_loss alternated): the in-memory DuckDB runs on one thread,
    whatever the machine's cores, so every run gives the same bytes: those of a DuckDB forced
    to one thread (on this data, 2 threads already give other last bits)."""
    rng = np.random.default_rng(0)
    n = 200_000
    y = rng.integers(0, 2, n)  # (n,)
    score = rng.random(n)  # (n,)
    runs = {
        repr(
            sorted(
                metrics_of_arrays(SQL, "binary", y, (score >= 0.5).astype(int), score, 1).items()
            )
        )
        for _ in range(3)
    }
    assert len(runs) == 1
    with monkeypatch.context() as m:
        opened = DuckDBWarehouse.in_memory
        m.setattr(DuckDBWarehouse, "in_memory", lambda settings=None: opened({"threads": 1}))
        one = metrics_of_arrays(SQL, "binary", y, (score >= 0.5).astype(int), score, 1)
    assert runs == {repr(sorted(one.items()))}
    target = rng.normal(size=n)  # (n,)
    guess = target + rng.normal(size=n)  # (n,)
    runs = {
        repr(sorted(metrics_of_arrays(SQL, "regression", target, guess, None).items()))
        for _ in range(2)
    }
    assert len(runs) == 1
