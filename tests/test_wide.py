"""Wide and high-cardinality tables: the preprocessing SQL grows linearly with the number of
features (no expression nests deeper per feature, so 500 features stay under DuckDB's
expression depth limit), and max_categories caps what one categorical column can expand to."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import ConfigError
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import REPO


def _project(
    directory: Path, labelled: pd.DataFrame, unlabelled: pd.DataFrame, features: str
) -> RunOptions:
    warehouse = directory / "warehouse.duckdb"
    with DuckDBWarehouse(warehouse) as wh:
        wh.ensure_schema("raw")
        for name, frame in (("t_train", labelled), ("t_test", unlabelled)):
            wh.register("frame", frame)
            wh.execute(f"CREATE OR REPLACE TABLE raw.{name} AS SELECT * FROM frame")
    config = directory / "pipeline.toml"
    config.write_text(
        f"""sql_dir = "{(REPO / "sql").as_posix()}"

[warehouse]
type = "duckdb"
path = "{warehouse.as_posix()}"

[tables]
labelled = "raw.t_train"
unlabelled = "raw.t_test"
output_schema = "pipeline"

[columns]
id = "id"
label = "y"
task = "binary"

[split]
holdout_fraction = 0.2
salt = "wide"

{features}
[model]
estimator = "sklearn.linear_model.LogisticRegression"

[model.params]
max_iter = 200

[scoring]
executor = "inprocess"
workers = 1
batch_rows = 1000
"""
    )
    return RunOptions(
        config_path=config,
        run_id=new_run_id(),
        models_dir=directory / "models",
        out_dir=directory / "runs",
    )


def _feature(column: str, kind: str, extra: str = "") -> str:
    impute = "median" if kind == "numeric" else "mode"
    return f'[[features]]\ncolumn = "{column}"\ntype = "{kind}"\nimpute = "{impute}"\n{extra}\n'


@pytest.mark.slow
def test_500_features_preprocess_train_predict(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows, n_num, n_cat = 300, 400, 100

    def frame(first_id: int, n: int, labelled: bool) -> pd.DataFrame:
        data: dict[str, object] = {"id": np.arange(first_id, first_id + n)}
        if labelled:
            data["y"] = rng.integers(0, 2, n)
        for i in range(n_num):
            data[f"x{i}"] = rng.normal(i, 1.0, n)
        for i in range(n_cat):
            data[f"c{i}"] = rng.choice(["a", "b", "c", "d"], n)
        return pd.DataFrame(data)

    features = "".join(_feature(f"x{i}", "numeric", 'scale = "standard"') for i in range(n_num))
    features += "".join(_feature(f"c{i}", "categorical") for i in range(n_cat))
    options = _project(tmp_path, frame(1, rows, True), frame(rows + 1, 50, False), features)

    results = run_stages(options, ["preprocess", "train", "predict"])
    assert [r.stage for r in results] == ["preprocess", "train", "predict"]
    with DuckDBWarehouse(tmp_path / "warehouse.duckdb", read_only=True) as wh:
        stats = wh.query_arrow(
            "SELECT count(DISTINCT feature) AS n FROM pipeline.feature_stats"
        ).to_pylist()
        assert stats == [{"n": 500}]
        width = len(wh.describe("pipeline.features_train"))
        # id, label, dataset, 400 numeric, 100 x (4 categories + unknown)
        assert width == 3 + n_num + n_cat * 5
        scored = wh.query_arrow("SELECT count(*) AS n FROM pipeline.predictions").to_pylist()
        assert scored[0]["n"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("encode", ["onehot", "ordinal"])
def test_max_categories_caps_a_16k_value_column(tmp_path: Path, encode: str) -> None:
    rows, distinct = 20_000, 16_000
    rng = np.random.default_rng(1)
    # values 0..15999, with a few made frequent: 'v00007' 50 times, 'v00003' and 'v00004'
    # tied at 30 (with max_categories = 2, the tie goes to the smaller value)
    values = [f"v{i:05d}" for i in range(distinct)]
    values += ["v00007"] * 49 + ["v00003"] * 29 + ["v00004"] * 29
    values += list(rng.choice(values[:distinct], rows - len(values)))
    labelled = pd.DataFrame(
        {"id": np.arange(1, rows + 1), "y": rng.integers(0, 2, rows), "k": values}
    )
    unlabelled = pd.DataFrame({"id": [rows + 1, rows + 2], "k": ["v00007", "new"]})
    features = _feature("k", "categorical", f'encode = "{encode}"\nmax_categories = 2')
    options = _project(tmp_path, labelled, unlabelled, features)

    start = time.perf_counter()
    run_stages(options, ["preprocess"])
    seconds = time.perf_counter() - start
    assert seconds < 60, f"preprocess took {seconds:.1f} s"
    with DuckDBWarehouse(tmp_path / "warehouse.duckdb", read_only=True) as wh:
        columns = [c for c, _ in wh.describe("pipeline.features_train")]
        k_columns = [c for c in columns if c.startswith("k")]
        if encode == "onehot":
            assert len(k_columns) <= 2 + 2
            assert "k__v00007" in k_columns and "k__rare" in k_columns
            assert "k__unknown" in k_columns
        else:
            assert k_columns == ["k"]
            codes = wh.query_arrow(
                "SELECT k, count(*) AS n FROM pipeline.features_test GROUP BY k ORDER BY k"
            ).to_pylist()
            assert codes == [{"k": -1.0, "n": 1}, {"k": 1.0, "n": 1}]  # new, then v00007
    run_stages(options, ["train", "predict"])


def test_max_categories_is_validated(tmp_path: Path) -> None:
    from pipeline.config import load_config

    frame = pd.DataFrame({"id": [1, 2], "y": [0, 1], "k": ["a", "b"], "x": [1.0, 2.0]})
    for extra, kind in (
        ("max_categories = 0", "categorical"),
        ("max_categories = 1.5", "categorical"),
        ("max_categories = 3", "numeric"),
    ):
        column = "k" if kind == "categorical" else "x"
        options = _project(tmp_path, frame, frame.drop(columns="y"), _feature(column, kind, extra))
        with pytest.raises(ConfigError, match="max_categories"):
            load_config(options.config_path)
