"""Issue 3's acceptance on the real Titanic data: one-call predict equals the batch stage,
estimators switch by one line, regression and multiclass run end to end."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import joblib
import pandas as pd
import pytest

from pipeline.core.errors import ModelIntegrityError
from pipeline.model.trained import TrainedModel
from pipeline.stages.runner import run_stages
from tests.conftest import REPO, OptionsFactory


def _predictions(warehouse: Path, schema: str = "pipeline") -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(
            f"SELECT PassengerId, prediction, score FROM {schema}.predictions "
            "WHERE dataset = 'test' ORDER BY PassengerId"
        ).df()
    finally:
        con.close()


def test_one_call_predict_on_the_raw_csv_equals_the_warehouse(
    titanic_project: OptionsFactory,
) -> None:
    options = titanic_project()
    results = run_stages(options, ["preprocess", "train", "predict"])
    model = TrainedModel.load(results[1].details["model_dir"])

    raw = pd.read_csv(REPO / "data" / "titanic" / "test.csv")
    got = model.predict(raw).sort_values("PassengerId", ignore_index=True)
    batch = _predictions(options.config_path.parent / "warehouse.duckdb")
    assert len(got) == len(batch) == 418
    assert got["PassengerId"].tolist() == batch["PassengerId"].tolist()
    assert got["prediction"].tolist() == batch["prediction"].tolist()
    assert got["score"].tolist() == batch["score"].tolist()  # bit for bit

    # one row alone scores exactly as it did in the batch
    for i in (0, 152, 417):  # 152 is the passenger with no Fare
        one = model.predict(raw.iloc[[i]])
        assert one["score"].tolist() == [batch["score"][i]]

    # calls share one in-memory database and the SQL rendered once; a copy of the model made
    # by pickling (as another process gets it) makes its own
    serving = model._serving
    model.predict(raw.iloc[[3]])
    assert serving is not None and model._serving is serving
    import pickle

    copy = pickle.loads(pickle.dumps(model))
    assert copy._serving is None
    assert copy.predict(raw.iloc[[152]])["score"].tolist() == [batch["score"][152]]


def test_tampered_model_is_refused_before_unpickling(
    titanic_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = titanic_project()
    model_dir = Path(run_stages(options, ["preprocess", "train"])[1].details["model_dir"])
    path = model_dir / "model.joblib"
    data = bytearray(path.read_bytes())
    data[100] = (data[100] + 1) % 256
    path.write_bytes(bytes(data))

    def no_unpickling(*args: object, **kwargs: object) -> None:
        raise AssertionError("joblib.load was called on a tampered model")

    monkeypatch.setattr(joblib, "load", no_unpickling)
    with pytest.raises(ModelIntegrityError, match=rf"{re.escape(str(path))} does not match"):
        TrainedModel.load(model_dir)


@pytest.mark.parametrize(
    "estimator",
    [
        "sklearn.ensemble.RandomForestClassifier",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.ensemble.HistGradientBoostingClassifier",
    ],
)
def test_estimators_switch_by_one_line(titanic_project: OptionsFactory, estimator: str) -> None:
    options = titanic_project()
    text = options.config_path.read_text()
    text, n = re.subn(r'(?m)^estimator = ".*"$', f'estimator = "{estimator}"', text)
    assert n == 1
    options.config_path.write_text(text)
    results = run_stages(options, None)
    assert results[1].model_id.startswith(estimator.rpartition(".")[2].lower())
    metrics = results[3].details["metrics"]
    assert metrics["accuracy"] >= 0.75, metrics
    meta = TrainedModel.load(results[1].details["model_dir"]).meta
    assert meta.train_metrics["rows"] == results[1].rows_in


@pytest.mark.slow  # a whole real data set end to end, or CLI subprocesses
@pytest.mark.parametrize(
    ("example", "metric", "floor"),
    [("titanic_fare", "r2", 0.4), ("titanic_class", "accuracy", 0.8)],
)
def test_examples_run_end_to_end(tmp_path: Path, example: str, metric: str, floor: float) -> None:
    """The example configs, copied beside a copy of sql/ and the example warehouse."""
    project = tmp_path / "examples" / example
    project.mkdir(parents=True)
    shutil.copy(REPO / "examples" / example / "pipeline.toml", project / "pipeline.toml")
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    shutil.copy(REPO / "warehouse.duckdb.example", tmp_path / "warehouse.duckdb.example")
    from pipeline.stages.base import RunOptions
    from pipeline.stages.ledger import new_run_id

    options = RunOptions(
        config_path=project / "pipeline.toml",
        run_id=new_run_id(),
        models_dir=project / "models",
        out_dir=project / "runs",
    )
    results = run_stages(options, None)
    assert results[2].rows_out == 418 + results[0].details["holdout"]
    assert results[3].details["metrics"][metric] >= floor

    model = TrainedModel.load(results[1].details["model_dir"])
    raw = pd.read_csv(REPO / "data" / "titanic" / "test.csv")
    got = model.predict(raw).sort_values("PassengerId", ignore_index=True)
    schema = "fare" if example == "titanic_fare" else "ticket_class"
    batch = _predictions(project / "warehouse.duckdb", schema)
    assert got["prediction"].tolist() == batch["prediction"].tolist()
