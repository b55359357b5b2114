"""Feature importance (the evaluate stage, [explain]): permutation importance equals
scikit-learn's permutation_importance given the same permutations, the model's own importances
equal the estimator's attributes, repeats = 0 changes nothing, and reruns give the same bytes."""

from __future__ import annotations

import copy
import hashlib
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.inspection import _permutation_importance, permutation_importance

from pipeline.core.vocabulary import Dataset, ImportanceKind, Task
from pipeline.evaluation.importance import Importance
from pipeline.evaluation.report import Evaluation, render_report
from pipeline.model.trained import TrainedModel
from pipeline.stages.base import RunOptions
from pipeline.stages.common import resolve_model
from pipeline.stages.importance import importance_from_data, model_importances
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from tests.conftest import REPO, OptionsFactory, _options_factory

SEED, REPEATS, MAX_ROWS = 7, 3, 50


def _explain(config: Path, **keys: int) -> None:
    """Append an [explain] section to the project's config."""
    lines = "".join(f"{k} = {v}\n" for k, v in keys.items())
    config.write_text(config.read_text() + f"\n[explain]\n{lines}")


def _fraction(salt: str, value: object) -> float:
    """sql/macros/hash_fraction.sql in Python: the first 32 bits of md5(salt || value)."""
    return int(hashlib.md5(f"{salt}{value}".encode()).hexdigest()[:8], 16) / 4294967296.0


def _hash_order(ids: np.ndarray, salt: str) -> np.ndarray:
    """Indices of `ids` ordered by (hash of the id with `salt`, id). ids: (n,)"""
    keys = np.array([_fraction(salt, i) for i in ids])
    return np.lexsort((ids, keys))


def _sample(project: Project) -> pd.DataFrame:
    """The holdout rows importance uses, by id: the smallest hashes of the id."""
    cfg, wh = project.config, project.warehouse
    holdout = wh.query_arrow(
        f"SELECT {cfg.id_column} AS id FROM {cfg.table('clean')} WHERE dataset = 'holdout'"
    ).column("id")
    raw = wh.query_arrow(f"SELECT * FROM {cfg.labelled_table}").to_pandas()
    raw = raw[raw[cfg.id_column].isin(holdout.to_pylist())]
    ids = raw[cfg.id_column].to_numpy()
    chosen = ids[_hash_order(ids, f"importance:{SEED}:rows:")[:MAX_ROWS]]
    return raw[raw[cfg.id_column].isin(chosen)].sort_values(cfg.id_column).reset_index(drop=True)


def _permutations(ids: np.ndarray, feature: str) -> list[np.ndarray]:
    """The SQL's shuffles: repeat r puts the value of the k-th row in hash order on the k-th row
    in id order. ids: (n,) sorted; each permutation: (n,) indices into them."""
    return [_hash_order(ids, f"importance:{SEED}:{r}:{feature}:") for r in range(REPEATS)]


class _Shuffles:
    """Stands in for the RandomState permutation_importance makes per feature (it calls
    `check_random_state(seed)` once, then once per column in order): each `shuffle(idx)` makes
    the column, which scikit-learn permutes cumulatively, equal the SQL's r-th permutation."""

    def __init__(self, permutations: list[np.ndarray]):
        self.permutations = permutations
        self.r = 0

    def randint(self, high: int) -> int:
        return 0

    def shuffle(self, idx: np.ndarray) -> None:
        now = self.permutations[self.r]
        before = self.permutations[self.r - 1] if self.r else np.arange(len(idx))
        idx[:] = np.argsort(before)[now]  # column_r = column_{r-1}[idx] = original[now]
        self.r += 1


class _RawRows(BaseEstimator):
    """A trained model as scikit-learn sees a Pipeline on raw columns: raw rows in, the frozen
    SQL then the estimator."""

    def __init__(self, model: Any = None):
        self.model = model

    def fit(self, X: pd.DataFrame, y: Any = None) -> _RawRows:
        return self

    def _scored(self, X: pd.DataFrame) -> pd.DataFrame:
        id_ = self.model.spec.id
        out = self.model.predict(X.assign(**{id_: np.arange(len(X))}))
        return out.sort_values(id_).reset_index(drop=True)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._scored(X)["prediction"].to_numpy()


class _RawClassifier(ClassifierMixin, _RawRows):
    @property
    def classes_(self) -> np.ndarray:
        return self.model.estimator.classes_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        s = self._scored(X)["score"].to_numpy(dtype=np.float64)  # P(classes_[1])
        return np.column_stack([1 - s, s])  # (n_rows, 2)


class _RawRegressor(RegressorMixin, _RawRows):
    pass


def _table(project: Project) -> list[dict[str, Any]]:
    return (
        project.warehouse.query_arrow(
            "SELECT * EXCLUDE (run_id) FROM pipeline.feature_importance ORDER BY kind, feature"
        )
        .to_pandas()
        .replace({np.nan: None})
        .to_dict("records")
    )


def _check_against_scikit_learn(
    options: RunOptions, monkeypatch: pytest.MonkeyPatch, scoring: str, wrapper: type
) -> None:
    """Permutation importance of the latest model equals scikit-learn's, given its shuffles."""
    _explain(options.config_path, repeats=REPEATS, seed=SEED, max_rows=MAX_ROWS)
    with Project.open(options.config_path) as project:
        model = resolve_model(project, options)
        rows, _ = importance_from_data(project, model, options.run_id)
        sample = _sample(project)
    ids = sample[model.spec.id].to_numpy()
    assert len(ids) == MAX_ROWS  # fewer than the holdout: the sample is bounded
    features = [f.column for f in model.spec.features]
    fakes = [_Shuffles(_permutations(ids, f)) for f in features]
    calls = iter([_Shuffles([]), *fakes])
    monkeypatch.setattr(_permutation_importance, "check_random_state", lambda _: next(calls))
    expected = permutation_importance(
        wrapper(model),
        sample[features],
        sample[model.spec.label],
        scoring=scoring,
        n_repeats=REPEATS,
        random_state=0,
    )
    assert all(f.r == REPEATS for f in fakes)  # scikit-learn shuffled with ours alone
    perm = {r.feature: r for r in rows if r.kind == ImportanceKind.permutation}
    assert list(perm) == features
    for j, f in enumerate(features):
        assert perm[f].repeats == REPEATS and perm[f].holdout_rows == MAX_ROWS
        assert perm[f].mean == pytest.approx(expected.importances_mean[j], abs=1e-12), f
        assert perm[f].std == pytest.approx(expected.importances_std[j], abs=1e-12), f
    assert np.abs(expected.importances_mean).max() > 0.01  # the shuffles did move the metric


def test_permutation_importance_equals_scikit_learn(
    ran_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_against_scikit_learn(ran_project(), monkeypatch, "roc_auc", _RawClassifier)


@pytest.mark.parametrize(
    ("example", "estimator", "scoring", "wrapper"),
    [
        (
            "titanic_fare",
            "sklearn.linear_model.Ridge",
            "neg_root_mean_squared_error",
            _RawRegressor,
        ),
        ("titanic_class", "sklearn.linear_model.LogisticRegression", "accuracy", _RawClassifier),
    ],
)
def test_permutation_importance_of_the_other_tasks_equals_scikit_learn(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    example: str,
    estimator: str,
    scoring: str,
    wrapper: type,
) -> None:
    """Regression (rmse, its rise) and multiclass (accuracy) on the real Titanic rows, with
    linear models (so the model's own importances are |coef_|)."""
    text = (REPO / "examples" / example / "pipeline.toml").read_text()
    text = re.sub(r'(?m)^estimator = ".*"$', f'estimator = "{estimator}"', text, count=1)
    text = text.replace('"../../sql"', f'"{(REPO / "sql").as_posix()}"')
    text = text.replace(
        '"../../warehouse.duckdb.example"', f'"{(REPO / "warehouse.duckdb.example").as_posix()}"'
    )
    config = tmp_path / "pipeline.toml"
    params = f"[model.params.{estimator.rsplit('.', 1)[1]}]"
    config.write_text(text if params in text else f"{text}\n{params}\nmax_iter = 5000\n")
    options = _options_factory(config)()
    run_stages(options, ["preprocess", "train"])
    _check_against_scikit_learn(options, monkeypatch, scoring, wrapper)


def test_model_importances_are_the_estimators_attributes(ran_project: OptionsFactory) -> None:
    options = ran_project()
    with Project.open(options.config_path) as project:
        model = resolve_model(project, options)
        written = [r for r in _table(project) if r["kind"] == ImportanceKind.model]
    expected = dict(zip(model.feature_names, model.estimator.feature_importances_, strict=True))
    assert {r["feature"]: r["mean"] for r in written} == expected
    assert {r["metric"] for r in written} == {"feature_importances_"}

    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, len(model.feature_names)))  # X: (n_rows, n_features)
    for y in (X[:, 0] > 0, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)):  # binary, 3 classes
        linear: TrainedModel = copy.copy(model)
        linear.estimator = LogisticRegression().fit(X, y)
        got = [r.mean for r in model_importances(linear)]
        # |coef_|, averaged over the classes' rows when there are several
        assert got == list(np.abs(linear.estimator.coef_).mean(axis=0))


def test_repeats_zero_writes_nothing(ran_project: OptionsFactory) -> None:
    options = ran_project()
    _explain(options.config_path, repeats=0)
    with Project.open(options.config_path) as project:
        before = _table(project)
        tables = project.warehouse.table_names("pipeline")
    (result,) = run_stages(options, ["evaluate"])
    with Project.open(options.config_path) as project:
        assert _table(project) == before
        assert project.warehouse.table_names("pipeline") == tables
    assert not any("importance" in m for m in result.messages)
    assert not any(k.startswith("explain/") for k in result.sql_hashes)
    assert "Feature importance" not in Path(result.details["report"]).read_text()


def test_same_rows_and_sql_on_every_run(ran_project: OptionsFactory) -> None:
    options = ran_project()
    with Project.open(options.config_path) as project:
        first = _table(project)
    (a,) = run_stages(ran_project(), ["evaluate"])
    with Project.open(options.config_path) as project:
        second = _table(project)
    with Project.open(options.config_path) as project:
        # the model's own SQL makes its features, not the project's latest tables
        for table in ("features_holdout", "features_train", "feature_stats"):
            project.warehouse.execute(f"DROP TABLE pipeline.{table}")
    (b,) = run_stages(ran_project(), ["evaluate"])
    with Project.open(options.config_path) as project:
        third = _table(project)
    assert first == second == third  # the session's run and these: equal to the last bit
    shuffles = {k: v for k, v in a.sql_hashes.items() if k.startswith("explain/permuted.sql#")}
    assert len(shuffles) == 1 + sum(r["kind"] == "permutation" for r in first)  # + baseline
    assert shuffles == {k: v for k, v in b.sql_hashes.items() if k in shuffles}
    report = Path(b.details["report"]).read_text()
    assert "<h2>Feature importance</h2>" in report
    assert report.count("<svg") == 5  # ROC, precision-recall, calibration, confusion, importance


def test_report_chart_shows_mean_and_std() -> None:
    rows = [
        Importance(ImportanceKind.permutation, f, "rmse", m, s, 5, 10, 1.0)
        for f, m, s in (("a", 0.3, 0.05), ("b", -0.01, 0.02), ("c", None, None))
    ]
    html = render_report(
        Evaluation("r", "m", Task.regression, Dataset.holdout, {}, importance=rows)
    )
    section = html.split("<h2>Feature importance</h2>")[1]
    assert section.index(">a<") < section.index(">b<") < section.index(">c<")
    assert section.count("<rect") == 2 and "rise of rmse" in section


def test_report_chart_tick_labels_never_overlap() -> None:
    """A regression model's importances from -1.13 to 95 drew `-1.13` and `0` 4.5 px apart;
    now the ticks are round values of the axis, and a label never lands on its neighbour."""
    rows = [
        Importance(ImportanceKind.permutation, f, "rmse", m, 0.0, 5, 10, 1.0)
        for f, m in (("a", 95.0), ("b", 3.0), ("c", -1.13))
    ]
    html = render_report(
        Evaluation("r", "m", Task.regression, Dataset.holdout, {}, importance=rows)
    )
    chart = html.split("<h2>Feature importance</h2>")[1].split("</svg>")[0]
    labels = sorted(
        (float(x), text)
        for x, text in re.findall(
            r'<text x="([\d.]+)" y="\d+" text-anchor="middle">([^<]*)<', chart
        )
    )
    assert [text for _, text in labels] == ["0", "25", "50", "75"]
    gaps = [b[0] - a[0] for a, b in pairwise(labels)]
    assert min(gaps) > 6 * max(len(text) for _, text in labels)
