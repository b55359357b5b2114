"""[train] threads: bounds the fit's OpenMP/BLAS pools and an unset n_jobs, is recorded in the
ledger, and changes neither the model id nor a single prediction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.model.trained import TrainedModel, feature_matrix
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from pipeline.stages.threads import bounded_threads
from tests.conftest import OptionsFactory

HGB = "sklearn.ensemble.HistGradientBoostingClassifier"


def _configure(config: Path, estimator: str | None, threads: int | None, extra: str = "") -> None:
    text = config.read_text().split("\n[train]\n")[0]
    if estimator:
        text = text.replace(
            'estimator = "sklearn.ensemble.RandomForestClassifier"', f'estimator = "{estimator}"'
        ).replace("max_iter = 200", "max_iter = 30")
    text = text.replace("random_state = 0\n", f"random_state = 0\n{extra}", 1)
    if threads is not None:
        text += f"\n[train]\nthreads = {threads}\n"
    config.write_text(text)


def _train(options: OptionsFactory) -> tuple[str, dict[str, object], list[float]]:
    """The model id, the ledger's details of the train row, and the holdout scores."""
    run = options()
    (result,) = run_stages(run, ["train"])
    assert result.model_id is not None
    with Project.open(run.config_path) as project:
        wh = project.warehouse
        (row,) = wh.query_arrow(
            f"SELECT details FROM pipeline.runs WHERE run_id = '{run.run_id}'"
        ).to_pylist()
        features = wh.query_arrow("SELECT * FROM pipeline.features_holdout ORDER BY PassengerId")
    model = TrainedModel.load(run.models_dir / result.model_id)
    X = feature_matrix(features, model.feature_names)  # X: (n_rows, n_features)
    scores = model.estimator.predict_proba(X)[:, 1].tolist()  # (n_rows,)
    if "n_jobs" in model.estimator.get_params():  # saved as the config gave it: unset
        assert model.estimator.n_jobs is None
    return result.model_id, json.loads(row["details"]), scores


@pytest.mark.parametrize("estimator", [None, HGB], ids=["forest", "boosting"])
def test_threads_change_neither_the_model_id_nor_a_prediction(
    ran_project: OptionsFactory, estimator: str | None
) -> None:
    config = ran_project().config_path
    _configure(config, estimator, 1)
    one_id, one_details, one_scores = _train(ran_project)
    _configure(config, estimator, 2)
    two_id, two_details, two_scores = _train(ran_project)
    assert one_id == two_id
    assert one_scores == two_scores  # exact
    assert (one_details["threads"], two_details["threads"]) == (1, 2)
    if estimator is None:  # a forest's n_jobs was unset: the fit used the bound
        assert (one_details["n_jobs"], two_details["n_jobs"]) == (1, 2)
    else:  # boosting has no n_jobs: OpenMP alone
        assert one_details["n_jobs"] is None


def test_unset_threads_are_the_cores_and_an_n_jobs_of_the_user_is_kept(
    ran_project: OptionsFactory,
) -> None:
    import os

    config = ran_project().config_path
    _configure(config, None, None)
    _, details, _ = _train(ran_project)
    assert details["threads"] == len(os.sched_getaffinity(0)) == details["n_jobs"]

    _configure(config, None, 2, extra="n_jobs = 1\n")
    run = ran_project()
    (result,) = run_stages(run, ["train"])
    assert result.details["n_jobs"] == 1
    assert TrainedModel.load(run.models_dir / str(result.model_id)).estimator.n_jobs == 1


def test_the_bound_holds_during_the_fit_only() -> None:
    from sklearn.ensemble import RandomForestClassifier
    from threadpoolctl import threadpool_info

    forest = RandomForestClassifier(n_estimators=2)
    before = [p["num_threads"] for p in threadpool_info()]
    with bounded_threads(forest, 1):
        assert forest.n_jobs == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert forest.n_jobs is None
    assert [p["num_threads"] for p in threadpool_info()] == before


def test_threads_below_one_are_refused(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    _configure(config, None, 0)
    with pytest.raises(ConfigError, match=r"\[train\].*threads"):
        load_config(config)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="Linux: reads /proc/self/maps")
def test_the_run_command_sets_the_wait_policy_before_openmp_is_loaded() -> None:
    """`pipeline run` asks OpenMP threads to sleep while they wait, which libgomp reads once
    when loaded: loading the command must not load it, and a policy the user set stays."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    probe = (
        "import os, pipeline.cli\n"
        "from pipeline.stages.threads import wait_passively\n"
        "print(any('gomp' in line for line in open('/proc/self/maps')))\n"
        "wait_passively(); print(os.environ['OMP_WAIT_POLICY'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "PASSIVE"], out.stderr
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "ACTIVE"], out.stderr


def test_an_n_jobs_that_does_nothing_does_not_warn() -> None:
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.arange(40.0).reshape(20, 2)  # X: (n_rows, n_features)
    y = np.arange(20) % 2
    model = LogisticRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with bounded_threads(model, 2):
            model.fit(X, y)
    assert model.n_jobs is None


def test_training_metrics_are_the_same_bytes_on_every_fit(ran_project: OptionsFactory) -> None:
    """The forest's training predictions run on one job: on several, its trees' probabilities
    are added in the order the jobs finish, and model.json's log_loss changed in its last bit
    from one train to the next."""
    _configure(ran_project().config_path, None, 2)
    texts = set()
    for _ in range(4):
        model_id, _details, _scores = _train(ran_project)
        meta = json.loads((ran_project().models_dir / model_id / "model.json").read_text())
        texts.add(json.dumps(meta["train_metrics"], sort_keys=True))
    assert len(texts) == 1, texts
