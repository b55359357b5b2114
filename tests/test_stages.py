"""Each stage through its library layers, on the seeded synthetic tables in a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.core.errors import MissingInputError, ModelIntegrityError
from pipeline.model.trained import TrainedModel
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory
from tests.synthetic import make_tables


def _query(options: object, sql: str) -> list[tuple[object, ...]]:
    with Project.open(options.config_path) as project:  # type: ignore[attr-defined]
        return [tuple(r.values()) for r in project.warehouse.query_arrow(sql).to_pylist()]


def _warehouse(options: object) -> Path:
    with Project.open(options.config_path) as project:  # type: ignore[attr-defined]
        return Path(project.config.warehouse.path)  # type: ignore[arg-type]


def test_stage_without_its_input_says_which_stage_to_run_first(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    with pytest.raises(MissingInputError, match=r"features_train .*--stage preprocess"):
        run_stages(options, ["train"])
    with pytest.raises(MissingInputError, match="--stage train"):
        run_stages(options, ["predict"])


def test_split_is_deterministic_and_about_the_configured_fraction(
    synthetic_project: OptionsFactory,
) -> None:
    run_stages(synthetic_project(), ["preprocess"])
    first = _query(
        synthetic_project(), "SELECT PassengerId, dataset FROM pipeline.clean ORDER BY 1"
    )
    run_stages(synthetic_project(), ["preprocess"])
    again = _query(
        synthetic_project(), "SELECT PassengerId, dataset FROM pipeline.clean ORDER BY 1"
    )
    assert first == again
    labelled = [d for _, d in first if d != "test"]
    share = labelled.count("holdout") / len(labelled)
    assert 0.14 < share < 0.26


def test_statistics_come_from_the_train_split_only(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    """Holdout and test rows change drastically; statistics, features and model do not."""
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    stats = _query(
        options, "SELECT feature, stat, category, value FROM pipeline.feature_stats ORDER BY ALL"
    )
    train_rows = _query(options, "SELECT * FROM pipeline.features_train ORDER BY ALL")
    model_ids = sorted(p.name for p in options.models_dir.iterdir())

    # ages ten times larger break the example's declared range; this test is about the split
    config = options.config_path.read_text()
    options.config_path.write_text(config.replace("[contract.Age]\nmin = 0\nmax = 120\n", ""))
    con = duckdb.connect(str(_warehouse(options)))
    con.execute("""
        UPDATE raw.titanic_test SET Age = Age * 10, Embarked = NULL;
        UPDATE raw.titanic_train SET Age = Age * 10
        WHERE PassengerId IN (SELECT PassengerId FROM pipeline.clean WHERE dataset = 'holdout');
        UPDATE raw.titanic_train SET Age = NULL
        WHERE PassengerId IN (SELECT PassengerId FROM pipeline.clean WHERE dataset = 'holdout')
          AND PassengerId % 2 = 0;
    """)
    con.close()

    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    assert (
        _query(
            options,
            "SELECT feature, stat, category, value FROM pipeline.feature_stats ORDER BY ALL",
        )
        == stats
    )
    assert _query(options, "SELECT * FROM pipeline.features_train ORDER BY ALL") == train_rows
    assert sorted(p.name for p in options.models_dir.iterdir()) == model_ids

    median_age = dict(((f, s), v) for f, s, _, v in stats)[("Age", "median")]
    imputed = _query(
        options,
        """
        SELECT DISTINCT f.Age FROM pipeline.features_holdout AS f
        JOIN pipeline.clean AS c USING (PassengerId) WHERE c.Age IS NULL
    """,
    )
    assert imputed == [(median_age,)]
    mode = next(c for f, s, c, _ in stats if (f, s) == ("Embarked", "mode"))
    embarked = _query(options, f'SELECT DISTINCT "Embarked__{mode}" FROM pipeline.features_test')
    assert embarked == [(1.0,)]


@pytest.mark.parametrize(
    ("executor", "workers", "batch_rows"),
    [("process", 2, 37), ("process", 1, 100_000), ("thread", 2, 50), ("auto", 2, 64)],
)
def test_predictions_are_identical_whatever_the_executor(
    synthetic_project: OptionsFactory, executor: str, workers: int, batch_rows: int
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    sql = "SELECT PassengerId, dataset, prediction, score FROM pipeline.predictions ORDER BY ALL"
    run_stages(synthetic_project(executor="inprocess", batch_rows=1_000_000), ["predict"])
    reference = _query(options, sql)

    result = run_stages(
        synthetic_project(executor=executor, workers=workers, batch_rows=batch_rows), ["predict"]
    )[0]
    if executor != "auto":
        assert result.details["mode"] == executor
    assert result.details["parts"] >= -(-len(reference) // batch_rows)  # batches are "up to"
    assert _query(options, sql) == reference
    assert (
        len(reference)
        == _query(options, "SELECT count(*) FROM pipeline.clean WHERE dataset <> 'train'")[0][0]
    )


def test_any_executor_can_score(synthetic_project: OptionsFactory, tmp_path: Path) -> None:
    """The library takes any concurrent.futures.Executor, as a Dask client's would be."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.stages.predict import predict_from_data

    options = synthetic_project()
    run_stages(options, ["preprocess", "train", "predict"])
    sql = "SELECT PassengerId, dataset, prediction, score FROM pipeline.predictions ORDER BY ALL"
    reference = _query(options, sql)
    model = TrainedModel.load(next(options.models_dir.iterdir()))
    with Project.open(options.config_path) as project, ThreadPoolExecutor(2) as pool:
        report, _ = predict_from_data(project, model, "r-custom", tmp_path / "parts", pool, 2, 40)
    assert report.mode == "ThreadPoolExecutor"
    assert _query(options, sql) == reference


def test_one_call_predict_equals_the_batch_predictions(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train", "predict"])
    model_dir = next(options.models_dir.iterdir())
    model = TrainedModel.load(model_dir)
    _, unlabelled = make_tables()

    got = model.predict(unlabelled)
    batch = pd.DataFrame(
        _query(
            options,
            "SELECT PassengerId, prediction, score FROM pipeline.predictions "
            "WHERE dataset = 'test' ORDER BY PassengerId",
        ),
        columns=["PassengerId", "prediction", "score"],
    )
    got = got.sort_values("PassengerId", ignore_index=True)
    assert got["PassengerId"].tolist() == batch["PassengerId"].tolist()
    assert got["prediction"].tolist() == batch["prediction"].tolist()
    assert got["score"].tolist() == batch["score"].tolist()  # exact, not approximate

    for i in (0, 7, len(unlabelled) - 1):
        one = model.predict(unlabelled.iloc[[i]])
        row = got[got["PassengerId"] == unlabelled.iloc[i]["PassengerId"]]
        assert one["score"].tolist() == row["score"].tolist()


def test_model_directory_is_complete_and_tamper_evident(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    model_dir = next(options.models_dir.iterdir())
    files = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert {
        "model.joblib",
        "model.json",
        "stats.json",
        "categories.json",
        "config.toml",
        "manifest.json",
        "sql/preprocess/clean.sql",
        "sql/preprocess/features.sql",
    } <= files
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["train_rows"] > 0 and len(meta["train_fingerprint"]) == 64
    assert meta["feature_names"][:3] == ["Pclass", "Sex__female", "Sex__male"]
    assert "scikit-learn" in meta["libraries"]

    joblib_file = model_dir / "model.joblib"
    data = bytearray(joblib_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    joblib_file.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match=r"model\.joblib does not match"):
        TrainedModel.load(model_dir)


def test_predict_warns_when_sql_changed_since_training(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    import shutil

    from tests.conftest import REPO

    sql = tmp_path / "sql"
    shutil.copytree(REPO / "sql", sql)
    options = synthetic_project()
    config = options.config_path.read_text().replace(f'"{(REPO / "sql").as_posix()}"', '"sql"')
    options.config_path.write_text(config)
    run_stages(options, ["preprocess", "train"])
    clean = sql / "preprocess" / "clean.sql"
    clean.write_text(clean.read_text() + "\n-- an edit after training\n")
    result = run_stages(synthetic_project(), ["predict"])[0]
    assert any("sql/preprocess/clean.sql changed" in m for m in result.warnings)
