"""Frozen statistics are a function of the multiset of training values: the same bytes in
feature_stats and stats.json, and so the same model id, whatever DuckDB's thread count (a float
avg/stddev aggregated in parallel changes in its last bits between runs and thread counts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from tests.conftest import write_config
from tests.synthetic import write_warehouse

pytestmark = pytest.mark.slow  # large data: every test here

ROWS = 120_000  # the float avg/stddev differed between runs from about 54k rows
NUMERIC = ("Pclass", "Age", "SibSp", "Parch", "Fare")


@pytest.fixture(scope="module")
def big_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "warehouse.duckdb"
    write_warehouse(path, ROWS, 1_000)
    return path


def _run(directory: Path, source: Path, threads: int) -> tuple[bytes, list[tuple], str]:
    """preprocess + train on a copy of `source` with DuckDB at `threads` threads."""
    directory.mkdir()
    warehouse = directory / "warehouse.duckdb"
    shutil.copyfile(source, warehouse)
    config = write_config(
        directory, warehouse, estimator='"sklearn.linear_model.LogisticRegression"'
    )
    config.write_text(
        config.read_text().replace("[warehouse]\n", f"[warehouse]\nthreads = {threads}\n")
    )
    options = RunOptions(
        config_path=config,
        run_id=new_run_id(),
        models_dir=directory / "models",
        out_dir=directory / "runs",
    )
    results = run_stages(options, ["preprocess", "train"])
    model_id = results[-1].model_id
    assert model_id
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.sql(
            "SELECT feature, stat, category, value FROM pipeline.feature_stats ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return (directory / "models" / model_id / "stats.json").read_bytes(), rows, model_id


@pytest.fixture(scope="module")
def runs(
    big_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, tuple[bytes, list[tuple], str, Path]]:
    """preprocess + train once per thread count (1, 2, 4) on copies of one warehouse."""
    root = tmp_path_factory.mktemp("threads")
    return {t: (*_run(root / f"t{t}", big_warehouse, t), root / f"t{t}") for t in (1, 2, 4)}


def test_same_stats_and_model_id_at_any_thread_count(
    runs: dict[int, tuple[bytes, list[tuple], str, Path]],
) -> None:
    stats_bytes = {r[0] for r in runs.values()}
    model_ids = {r[2] for r in runs.values()}
    assert len(stats_bytes) == 1
    assert len(model_ids) == 1, model_ids
    assert runs[1][1] == runs[2][1] == runs[4][1]
    # the training metrics (in-memory DuckDB, its float sums): the same bytes in model.json
    metrics = {
        repr(json.loads((r[3] / "models" / r[2] / "model.json").read_text())["train_metrics"])
        for r in runs.values()
    }
    assert len(metrics) == 1, metrics


def test_mean_and_std_equal_numpy(runs: dict[int, tuple[bytes, list[tuple], str, Path]]) -> None:
    stats = json.loads(runs[4][0])
    con = duckdb.connect(str(runs[4][3] / "warehouse.duckdb"), read_only=True)
    try:
        for column in NUMERIC:
            x = con.sql(
                f'SELECT "{column}" FROM pipeline.clean '
                f"WHERE dataset = 'train' AND \"{column}\" IS NOT NULL"
            ).fetchnumpy()[column]
            x = np.sort(np.asarray(x, dtype=np.float64))  # sorted: numpy's own error is small
            assert stats[column]["mean"] == pytest.approx(float(np.mean(x)), rel=1e-12)
            assert stats[column]["std"] == pytest.approx(float(np.std(x)), rel=1e-12)
            assert stats[column]["median"] == float(np.median(x))
            assert stats[column]["min"] == float(x[0])
            assert stats[column]["max"] == float(x[-1])
    finally:
        con.close()
