"""[tune]: k-fold cross-validation by hashed id with the preprocessing statistics refitted in
SQL on each fold's training part only, checked against scikit-learn's GridSearchCV over a
Pipeline that refits its imputers, encoders and scalers per fold."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import tomlkit
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import Search
from pipeline.features.folds import FOLD_SALT
from pipeline.model.manifest import MANIFEST
from pipeline.stages.runner import run_stages
from pipeline.stages.train import SAMPLE_SALT
from tests.conftest import OptionsFactory

LOGISTIC = "sklearn.linear_model.LogisticRegression"
GRID = {"C": [0.01, 0.1, 1.0], "fit_intercept": [True, False]}
FOLDS = 3
NUMERIC = ("Pclass", "Age", "Parch", "Fare")
CATEGORICAL = ("Sex", "SibSp", "Embarked", "Cabin")

#: Why these features match scikit-learn's transformers exactly (up to float rounding):
#: - numeric, scale "standard": mean and std of the fold's non-null training values, std with
#:   ddof 0 = StandardScaler, which also ignores NaN when fitting; a constant column has
#:   scale 1 in both.
#: - numeric, impute "median" (Age holds nulls): the SQL fills the raw median, then scales;
#:   StandardScaler first and SimpleImputer(median) second fill the median of the scaled
#:   values, which is (median - mean) / std, the same number. The SQL median is the mean of
#:   the two middle values, like NumPy's. (impute "mean" would match too: the scaled values'
#:   mean is 0. SimpleImputer *before* StandardScaler would not: the scaler would then count
#:   the filled values in its mean and std, and the SQL statistics never do.)
#: - categorical, impute "mode" = SimpleImputer(most_frequent): both take the most frequent
#:   value, ties to the smallest. Cabin is mostly null and its values are nearly all unique,
#:   so its mode is such a tie.
#: - encode "onehot": one column per training category, sorted by value, like OneHotEncoder.
#:   A category the fold's training part never had (SibSp's rare values, most cabins) is 0
#:   in every category column in both; the SQL adds an `unknown` column, which is 0 on every
#:   training row (nulls are imputed first), so the logistic regression's coefficient on it
#:   stays exactly 0 and the predictions do not change.
#: - roc_auc is rank-based, so float rounding far below the gaps between scores does not move
#:   it; scikit-learn ranks by the decision function, the SQL by the probability, which is
#:   monotone in it.
FEATURES = [
    {"column": "Pclass", "type": "numeric", "impute": "median", "scale": "standard"},
    {"column": "Sex", "type": "categorical", "impute": "mode", "encode": "onehot"},
    {"column": "Age", "type": "numeric", "impute": "median", "scale": "standard"},
    {"column": "SibSp", "type": "categorical", "impute": "mode", "encode": "onehot"},
    {"column": "Parch", "type": "numeric", "impute": "median", "scale": "standard"},
    {"column": "Fare", "type": "numeric", "impute": "median", "scale": "standard"},
    {"column": "Embarked", "type": "categorical", "impute": "mode", "encode": "onehot"},
    {"column": "Cabin", "type": "categorical", "impute": "mode", "encode": "onehot"},
]


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Many small logistic regressions: BLAS threads fighting over a busy machine's cores
    make each far slower than one thread (results do not change)."""
    import sklearn.linear_model  # noqa: F401  (loads the BLAS to limit: limits apply to loaded ones)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def set_tune(config: Path, tune: dict[str, Any] | None, features: bool = True) -> None:
    """The config with a logistic regression, FEATURES and [tune] = `tune` (None: none)."""
    doc = tomlkit.parse(config.read_text())
    doc["model"]["estimator"] = LOGISTIC  # type: ignore[index]
    if features:
        aot = tomlkit.aot()
        for f in FEATURES:
            table = tomlkit.table()
            table.update(f)
            aot.append(table)
        doc["features"] = aot
    doc.pop("tune", None)
    if tune is not None:
        doc["tune"] = tune
    config.write_text(tomlkit.dumps(doc))


def _warehouse(options: OptionsFactory) -> str:
    text = options().config_path.read_text()
    return text.split('path = "', 1)[1].split('"', 1)[0]


def _query(options: OptionsFactory, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(_warehouse(options), read_only=True) as con:
        return con.sql(sql).to_arrow_table().to_pylist()


def _fold(i: object, k: int) -> int:
    """A row's fold recomputed with hashlib: floor(h * k), h the first 32 bits of the salted
    MD5 of the id, as a fraction of 2^32."""
    return int(int(hashlib.md5(f"{FOLD_SALT}{i}".encode()).hexdigest()[:8], 16) / 2**32 * k)


def _cv_results(options: OptionsFactory, model_id: str) -> list[dict[str, Any]]:
    return _query(
        options,
        f"SELECT * FROM pipeline.cv_results WHERE model_id = '{model_id}' ORDER BY candidate",
    )


def _train(options: OptionsFactory, stages: list[str] | None = None) -> str:
    results = run_stages(options(), stages or ["train"])
    model_id = results[-1].model_id
    assert model_id is not None
    return model_id


def _sklearn_search(options: OptionsFactory) -> Any:
    """GridSearchCV over a Pipeline refitting its transformers per fold, on the same rows
    (the clean training split) and the same folds (PredefinedSplit of the hashed rule)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rows = _query(
        options,
        "SELECT * FROM pipeline.clean WHERE dataset = 'train' ORDER BY PassengerId",
    )
    frame = pd.DataFrame(rows)
    for c in CATEGORICAL:  # None -> NaN, what SimpleImputer takes as missing
        frame[c] = frame[c].astype(object).where(frame[c].notna(), np.nan)
    folds = np.array([_fold(i, FOLDS) for i in frame["PassengerId"]])  # (n_rows,)
    steps = []
    for f in FEATURES:
        c = f["column"]
        if c in NUMERIC:
            pipe = Pipeline(
                [("scale", StandardScaler()), ("fill", SimpleImputer(strategy="median"))]
            )
        else:
            encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
            pipe = Pipeline([("fill", SimpleImputer(strategy="most_frequent")), ("enc", encoder)])
        steps.append((c, pipe, [c]))
    model = Pipeline(
        [
            ("prep", ColumnTransformer(steps, sparse_threshold=0)),
            ("model", LogisticRegression(max_iter=5000)),
        ]
    )
    grid = {f"model__{k}": v for k, v in GRID.items()}
    search = GridSearchCV(model, grid, cv=PredefinedSplit(folds), scoring="roc_auc")
    search.fit(frame[list(NUMERIC + CATEGORICAL)], frame["Survived"].to_numpy())
    return search


def test_same_ranking_and_scores_as_gridsearchcv(synthetic_project: OptionsFactory) -> None:
    set_tune(synthetic_project().config_path, {"grid": GRID, "folds": FOLDS})
    model_id = _train(synthetic_project, ["preprocess", "train"])
    ours = _cv_results(synthetic_project, model_id)
    theirs = _sklearn_search(synthetic_project).cv_results_

    # the cases the comment on FEATURES is about do occur: nulls imputed, and a validation
    # part with a SibSp value its training part never had
    rows = _query(synthetic_project, "SELECT * FROM pipeline.clean WHERE dataset = 'train'")
    assert any(r["Age"] is None for r in rows) and any(r["Cabin"] is None for r in rows)
    seen = [{r["SibSp"] for r in rows if _fold(r["PassengerId"], FOLDS) != f} for f in range(FOLDS)]
    assert any(r["SibSp"] not in seen[_fold(r["PassengerId"], FOLDS)] for r in rows), (
        "no unseen category in any validation part"
    )

    assert len(ours) == len(GRID["C"]) * len(GRID["fit_intercept"])
    for i, row in enumerate(ours):
        params = {k.removeprefix("model__"): v for k, v in theirs["params"][i].items()}
        assert json.loads(row["params"]) == params  # same candidate order
        assert row["metric"] == "roc_auc" and row["folds"] == FOLDS
        scores = json.loads(row["fold_scores"])
        for fold in range(FOLDS):
            assert scores[fold] == pytest.approx(theirs[f"split{fold}_test_score"][i], abs=1e-9)
        assert row["mean"] == pytest.approx(theirs["mean_test_score"][i], abs=1e-9)
        assert row["std"] == pytest.approx(theirs["std_test_score"][i], abs=1e-9)
    assert [r["rank"] for r in ours] == list(theirs["rank_test_score"])
    # the model is the best candidate refitted on the whole training split
    meta = json.loads((synthetic_project().models_dir / model_id / "model.json").read_text())
    best = json.loads(next(r for r in ours if r["rank"] == 1)["params"])
    assert {k: meta["params"][k] for k in GRID} == best
    assert meta["params"]["max_iter"] == 5000  # [model.params] stay under the grid's
    assert meta["train_rows"] == len(
        _query(synthetic_project, "SELECT * FROM pipeline.features_train")
    )


def test_same_search_same_model_id_and_recorded(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    grid = {"C": [0.1, 1.0]}
    # a random search asking for more candidates than the grid has tries them all, and says so
    set_tune(config, {"grid": grid, "folds": 3, "search": "random", "candidates": 5})
    run_stages(synthetic_project(), ["preprocess"])
    (trained,) = run_stages(synthetic_project(), ["train"])
    assert "train: [tune] candidates = 5: all 2 combinations of the grid were tried" in (
        trained.messages
    )
    first = trained.model_id
    assert first is not None
    rows = _cv_results(synthetic_project, first)
    meta = synthetic_project().models_dir / first / "model.json"
    metrics = json.loads(meta.read_text())["train_metrics"]
    assert _train(synthetic_project) == first
    assert json.loads(meta.read_text())["train_metrics"] == metrics  # the same floats
    again = _cv_results(synthetic_project, first)
    strip = [{k: v for k, v in r.items() if k != "run_id"} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k != "run_id"} for r in again]

    directory = synthetic_project().models_dir / first
    recorded = json.loads((directory / "cv_results.json").read_text())
    assert "cv_results.json" in json.loads((directory / MANIFEST).read_text())["files"]
    assert recorded["metric"] == "roc_auc" and recorded["folds"] == 3
    assert [c["mean"] for c in recorded["candidates"]] == [r["mean"] for r in rows]
    (ledger,) = _query(
        synthetic_project,
        f"SELECT details FROM pipeline.runs WHERE model_id = '{first}' ORDER BY ended_at LIMIT 1",
    )
    summary = json.loads(ledger["details"])["tune"]
    assert summary["candidates"] == 2 and summary["best"] == recorded["best"]

    # the refit is a normal train with the chosen parameters: the same model id
    best = recorded["candidates"][recorded["best"]]["params"]
    doc = tomlkit.parse(config.read_text())
    doc["model"]["params"]["LogisticRegression"].update(best)  # type: ignore[index]
    doc.pop("tune")
    config.write_text(tomlkit.dumps(doc))
    assert _train(synthetic_project) == first
    # ... whose directory has no cv_results.json: cv_results keeps none of its rows either
    assert not (directory / "cv_results.json").exists()
    assert _cv_results(synthetic_project, first) == []


def test_without_tune_train_is_as_before(ran_project: OptionsFactory) -> None:
    (before,) = _query(ran_project, "SELECT model_id FROM pipeline.runs WHERE stage = 'train'")
    assert _train(ran_project) == before["model_id"]
    names = {
        r["name"] for r in _query(ran_project, "SELECT table_name AS name FROM duckdb_tables()")
    }
    assert "cv_results" not in names
    assert not (ran_project().models_dir / before["model_id"] / "cv_results.json").exists()
    for row in _query(ran_project, "SELECT details FROM pipeline.runs WHERE stage = 'train'"):
        assert "tune" not in json.loads(row["details"])


def test_a_validation_row_never_shapes_its_folds_statistics(
    synthetic_project: OptionsFactory,
) -> None:
    """Changing a row of fold 0 moves the statistics of every other fold (it is in their
    training parts) and never those of fold 0, where it is a validation row."""
    from pipeline.stages.project import Project
    from pipeline.stages.tune_folds import fold_sql, fold_stats

    set_tune(synthetic_project().config_path, {"grid": {"C": [1.0]}, "folds": 3})
    run_stages(synthetic_project(), ["preprocess"])
    ids = [
        r["PassengerId"]
        for r in _query(
            synthetic_project,
            "SELECT PassengerId FROM pipeline.clean WHERE dataset = 'train' ORDER BY PassengerId",
        )
    ]
    row = next(i for i in ids if _fold(i, 3) == 0)

    def stats_now() -> list[Any]:
        with Project.open(synthetic_project().config_path) as project:
            folds = fold_sql(project, SAMPLE_SALT)
            return [fold_stats(project, folds, f, "r") for f in range(3)]

    before = stats_now()
    with duckdb.connect(_warehouse(synthetic_project)) as con:
        con.execute(
            "UPDATE pipeline.clean SET Age = 99.5, Fare = 1000.0, Embarked = 'X' "
            f"WHERE PassengerId = {row}"
        )
    after = stats_now()
    assert after[0] == before[0]
    assert after[1] != before[1] and after[2] != before[2]
    assert after[1]["Age"].max == 99.5 and "X" in {
        c.category for c in after[1]["Embarked"].vocabulary
    }


def test_folds_are_the_hash_rule_over_the_sample(synthetic_project: OptionsFactory) -> None:
    """With [train] sample_rows, the search works on the sample train fits on; each row's
    fold is floor(h * k) of its hashed id (recomputed here with hashlib); no holdout row."""
    from pipeline.stages.project import Project
    from pipeline.stages.tune_folds import fold_sql
    from tests.test_train_sample import _hash_rule

    config = synthetic_project().config_path
    set_tune(config, {"grid": {"C": [0.1, 1.0]}, "folds": 3})
    with config.open("a") as f:
        f.write("\n[train]\nsample_rows = 150\n")
    model_id = _train(synthetic_project, ["preprocess", "train"])
    recorded = json.loads(
        (synthetic_project().models_dir / model_id / "cv_results.json").read_text()
    )
    assert recorded["rows"] == 150
    meta = json.loads((synthetic_project().models_dir / model_id / "model.json").read_text())
    assert meta["sample_rows_used"] == 150

    with Project.open(config) as project:
        folds = project.warehouse.query_arrow(fold_sql(project, SAMPLE_SALT).sql).to_pylist()
    train = _query(synthetic_project, "SELECT PassengerId FROM pipeline.features_train")
    sample = _hash_rule([r["PassengerId"] for r in train], 150)
    assert sorted(r["PassengerId"] for r in folds) == sample
    assert all(r["cv_fold"] == _fold(r["PassengerId"], 3) for r in folds)
    assert {r["cv_fold"] for r in folds} == {0, 1, 2}


def test_candidates_random_search_is_seeded_and_in_grid_order() -> None:
    from pipeline.config.sections import TuneConfig
    from pipeline.stages.tune import candidates

    grid = {"C": [0.1, 1.0, 10.0], "tol": [1e-4, 1e-3], "fit_intercept": [True, False]}
    full = candidates(TuneConfig(grid=grid))
    assert len(full) == 12 and full[0] == {"C": 0.1, "fit_intercept": True, "tol": 1e-4}
    assert full[1] == {"C": 0.1, "fit_intercept": True, "tol": 1e-3}  # last key fastest
    picked = candidates(TuneConfig(grid=grid, search=Search.random, candidates=5, seed=7))
    assert picked == candidates(TuneConfig(grid=grid, search=Search.random, candidates=5, seed=7))
    assert len(picked) == 5 and all(p in full for p in picked)
    assert picked == sorted(picked, key=full.index)
    other = candidates(TuneConfig(grid=grid, search=Search.random, candidates=5, seed=8))
    assert other != picked
    assert candidates(TuneConfig(grid=grid, search=Search.random, candidates=99)) == full
    # a grid too large to list: a random search never lists it, a grid search refuses it
    huge = {f"p{i:02d}": list(range(10)) for i in range(12)}  # 10^12 combinations
    few = candidates(TuneConfig(grid=huge, search=Search.random, candidates=3))
    assert len(few) == 3 and all(list(c) == sorted(huge) for c in few)
    with pytest.raises(ConfigError, match="grid has 1000000000000 combinations"):
        candidates(TuneConfig(grid=huge))


@pytest.mark.parametrize(
    ("tune", "says"),
    [
        ({"grid": {"Cx": [1.0]}}, "[tune] grid key 'Cx' is not a parameter of LogisticRegression"),
        ({"grid": {"C": [-1.0]}}, '[tune] grid {"C": -1.0}: [model.params] of'),
        ({"grid": {"C": [1.0]}, "metric": "rmse"}, "[tune] metric 'rmse' is not a binary metric"),
        ({"grid": {"C": [1.0]}, "search": "random"}, 'search = "random" needs candidates'),
    ],
)
def test_bad_tune_is_one_line_before_any_write(
    ran_project: OptionsFactory, tune: dict[str, Any], says: str
) -> None:
    config = ran_project().config_path
    set_tune(config, tune, features=False)
    runs = _query(ran_project, "SELECT count(*) AS n FROM pipeline.runs")
    models = sorted(p.name for p in ran_project().models_dir.iterdir())
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--stage", "train"])
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if not x.startswith("run ")]
    assert says in line and line.startswith("error: "), result.output
    assert _query(ran_project, "SELECT count(*) AS n FROM pipeline.runs") == runs
    assert sorted(p.name for p in ran_project().models_dir.iterdir()) == models


def test_same_cv_results_on_duckdb_and_bigquery(
    synthetic_project: OptionsFactory, bigquery_emulator: str, tmp_path: Path
) -> None:
    """The folds, each fold's statistics and so every score: the same on both engines."""
    from pipeline.stages.project import Project
    from tests.test_bigquery import bigquery_config, raw_into_emulator

    local = synthetic_project()
    set_tune(local.config_path, {"grid": {"C": [0.1, 1.0]}, "folds": 3})
    model_id = _train(synthetic_project, ["preprocess", "train"])
    config = bigquery_config(local.config_path, bigquery_emulator)
    runner = CliRunner()
    raw_into_emulator(Path(_warehouse(synthetic_project)), config, tmp_path)
    models = tmp_path / "bq-models"
    args = ["run", "-c", str(config), "--models-dir", str(models), "--out", str(tmp_path / "o")]
    for stage in ("preprocess", "train"):
        out = runner.invoke(app, [*args, "--stage", stage])
        assert out.exit_code == 0, out.output
    assert [p.name for p in models.iterdir()] == [model_id]

    columns = "candidate, params, metric, mean, std, rank, folds, fold_scores"
    sql = f"SELECT {columns} FROM pipeline.cv_results WHERE model_id = '{model_id}'"
    with Project.open(config) as project:
        remote = project.warehouse.query_arrow(sql + " ORDER BY candidate").to_pylist()
    ours = _query(synthetic_project, sql + " ORDER BY candidate")
    assert len(remote) == len(ours) == 2
    for a, b in zip(ours, remote, strict=True):
        for key in ("candidate", "params", "metric", "rank", "folds"):
            assert a[key] == b[key]
        for key in ("mean", "std"):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-12)
        assert json.loads(a["fold_scores"]) == pytest.approx(json.loads(b["fold_scores"]))


def test_a_fold_without_rows_is_a_data_error(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    set_tune(config, {"grid": {"C": [1.0]}, "folds": 5}, features=False)
    with config.open("a") as f:
        f.write("\n[train]\nsample_rows = 3\n")
    models = sorted(p.name for p in ran_project().models_dir.iterdir())
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--stage", "train"])
    assert result.exit_code == 4, result.output
    assert "of [tune] folds = 5 has no validation rows" in result.output
    assert "has 3 rows; use fewer folds" in result.output
    assert sorted(p.name for p in ran_project().models_dir.iterdir()) == models


def _refused(options: OptionsFactory, code: int) -> str:
    """Train through the CLI; its one error line, after checking nothing was written (the
    ledger records the failed run, as for any refusal)."""
    config = options().config_path
    tables = "SELECT table_name FROM information_schema.tables ORDER BY ALL"
    before = _query(options, tables)
    models = sorted(p.name for p in options().models_dir.iterdir())
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--stage", "train"])
    assert result.exit_code == code, result.output
    (line,) = [x for x in result.output.splitlines() if not x.startswith("run ")]
    assert line.startswith("error: "), result.output
    assert _query(options, tables) == before  # no cv_results, no staging table left
    assert sorted(p.name for p in options().models_dir.iterdir()) == models
    print(line)
    return line


def test_a_fold_training_part_with_one_class_is_a_data_error(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    set_tune(config, {"grid": {"C": [0.1, 1.0]}, "folds": 2}, features=False)
    with config.open("a") as f:
        f.write("\n[train]\nsample_rows = 10\n")
    line = _refused(ran_project, 4)
    assert "of [tune] folds = 2: its training part has" in line, line
    assert "rows of 1 class" in line, line


def test_a_candidate_failing_to_fit_is_one_line_naming_it(ran_project: OptionsFactory) -> None:
    """l1_ratio = 1 is an L1 penalty, which the default lbfgs solver refuses when it fits."""
    config = ran_project().config_path
    set_tune(config, {"grid": {"l1_ratio": [0.0, 1.0]}, "folds": 2}, features=False)
    line = _refused(ran_project, 4)
    assert 'of [tune] folds = 2: candidate {"l1_ratio": 1.0} failed (' in line
    assert "Solver lbfgs supports only 'l2' or None penalties" in line, line


def test_a_metric_without_value_on_a_fold_is_refused_naming_the_folds(
    ran_project: OptionsFactory,
) -> None:
    """A validation part of one class has no ROC AUC; a candidate with a fold of no value has
    no mean (GridSearchCV's NaN), and with no candidate left to rank, train refuses rather
    than fit the first candidate."""
    config = ran_project().config_path
    set_tune(config, {"grid": {"C": [0.1, 1.0]}, "folds": 4}, features=False)
    with config.open("a") as f:
        f.write("\n[train]\nsample_rows = 20\n")
    line = _refused(ran_project, 4)
    assert "[tune] metric 'roc_auc' has no value for any candidate: undefined on fold 2 (" in line
    assert "validation part with one class" in line, line


def test_msle_of_negative_labels_is_refused(ran_project: OptionsFactory) -> None:
    with duckdb.connect(_warehouse(ran_project)) as con:
        con.execute("UPDATE raw.titanic_train SET Survived = Survived - 1")  # -1 and 0
    config = ran_project().config_path
    doc = tomlkit.parse(config.read_text())
    doc["columns"]["task"] = "regression"  # type: ignore[index]
    doc["contract"].pop("Survived")  # type: ignore[union-attr]
    doc["model"]["estimator"] = "sklearn.linear_model.Ridge"  # type: ignore[index]
    doc["model"]["params"] = {}  # type: ignore[index]
    doc["tune"] = {"grid": {"alpha": [0.1, 1.0]}, "folds": 2, "metric": "msle"}
    config.write_text(tomlkit.dumps(doc))
    done = CliRunner().invoke(app, ["run", "-c", str(config), "--stage", "preprocess"])
    assert done.exit_code == 0, done.output
    line = _refused(ran_project, 4)
    assert "[tune] metric 'msle' has no value for any candidate: undefined on fold 0 (" in line
    assert "fold 1 (" in line and "a negative label or prediction" in line, line


def test_a_candidate_without_a_mean_ranks_last_as_in_gridsearchcv() -> None:
    """Some candidates with a fold of no value (NULL here, an error_score NaN there): no
    mean, ranked after every candidate with one, tied among themselves, as GridSearchCV
    ranks NaN means; the others ranked by their means as usual."""
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    from pipeline.stages.tune import rank_scores
    from pipeline.stages.tune_folds import check_defined

    table = [[0.7, 0.9, 0.8], [0.6, None, 0.9], [0.9, 0.5, 0.6], [None, None, 0.2], [0.8, 0.8, 0.8]]

    class Fixed(BaseEstimator):  # type: ignore[misc]
        """Scores table[k][fold]; the fold is the validation rows' one value of X."""

        def __init__(self, k: int = 0) -> None:
            self.k = k

        def fit(self, X: np.ndarray, y: np.ndarray) -> Fixed:
            return self

    def scorer(model: Fixed, X: np.ndarray, y: np.ndarray) -> float:
        value = table[model.k][int(X[0, 0])]
        return np.nan if value is None else value

    folds = np.repeat(np.arange(3), 4)  # (12,)
    X = folds[:, None].astype(float)  # (12, 1) each row's fold
    search = GridSearchCV(
        Fixed(), {"k": list(range(len(table)))}, cv=PredefinedSplit(folds), scoring=scorer
    )
    search.fit(X, np.zeros(12))
    ours = rank_scores([{"k": k} for k in range(len(table))], table, "roc_auc")
    check_defined(table, "roc_auc", {0: 4, 1: 4, 2: 4})  # some candidates have a mean
    assert [c.rank for c in ours] == search.cv_results_["rank_test_score"].tolist()
    assert [c.mean for c in ours] == pytest.approx(
        [None if np.isnan(m) else m for m in search.cv_results_["mean_test_score"]]
    )
    assert ours[[c.rank for c in ours].index(1)].candidate == search.best_index_
