"""In-warehouse scoring: the model compiled to SQL gives the predictions Python gives, on the
Titanic data, on DuckDB and on the emulated BigQuery (labels identical; probabilities within
1e-9 for logistic regression and 1e-6 for trees), into the same predictions table."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stages.base import RunOptions
from pipeline.stages.runner import run_stages
from tests.conftest import REPO, _options_factory, write_config
from tests.test_bigquery import bigquery_config

ESTIMATORS = {
    "LogisticRegression": ("sklearn.linear_model.LogisticRegression", 1e-9),
    "RandomForestClassifier": ("sklearn.ensemble.RandomForestClassifier", 1e-6),
    "HistGradientBoostingClassifier": ("sklearn.ensemble.HistGradientBoostingClassifier", 1e-6),
}

Rows = dict[tuple[int, str], tuple[object, float | None, str]]


def predictions(config: Path, model_id: str) -> Rows:
    from pipeline.stages.project import Project

    with Project.open(config) as project:
        wh = project.warehouse
        table = wh.query_arrow(
            "SELECT PassengerId AS id, dataset, prediction, score, scored_by "
            f"FROM {wh.dialect.quote(project.table('predictions'))} "
            f"WHERE model_id = {wh.dialect.literal(model_id)}"
        )
    return {
        (r["id"], r["dataset"]): (r["prediction"], r["score"], r["scored_by"])
        for r in table.to_pylist()
    }


def assert_same(python: Rows, sql: Rows, tol: float) -> None:
    assert python.keys() == sql.keys() and len(python) == 598  # 180 holdout + 418 test
    assert {r[2] for r in python.values()} == {"inprocess"}
    assert {r[2] for r in sql.values()} == {"warehouse"}
    assert [python[k][0] for k in python] == [sql[k][0] for k in python]  # labels
    worst = max(abs(python[k][1] - sql[k][1]) for k in python)  # type: ignore[operator]
    assert worst <= tol, worst


def titanic_config(directory: Path, estimator: str, small: bool = False) -> Path:
    edits = {"estimator": f'"{estimator}"'}
    if small:  # the emulator plans a query far slower than BigQuery: smaller ensembles
        edits["n_estimators"] = "25"
    config = write_config(
        directory, directory / "warehouse.duckdb", REPO / "warehouse.duckdb.example", **edits
    )
    if small:
        config.write_text(config.read_text().replace("max_iter = 200", "max_iter = 30"))
    return config


@pytest.mark.slow
@pytest.mark.parametrize("name", ESTIMATORS)
def test_in_warehouse_equals_python_on_duckdb(tmp_path: Path, name: str) -> None:
    estimator, tol = ESTIMATORS[name]
    options = _options_factory(titanic_config(tmp_path, estimator))
    results = run_stages(options(executor="inprocess"), ["preprocess", "train", "predict"])
    model_id = results[-1].model_id
    assert model_id
    python = predictions(options().config_path, model_id)

    out = CliRunner().invoke(
        app,
        ["run", "--stage", "predict", "--executor", "warehouse", "-c", str(options().config_path)],
    )
    assert out.exit_code == 0, out.output
    assert f"598 rows scored in the warehouse, as SQL ({name} compiled to" in out.output
    assert_same(python, predictions(options().config_path, model_id), tol)


def test_in_warehouse_equals_python_on_bigquery(tmp_path: Path, bigquery_emulator: str) -> None:
    """Every estimator on the emulator: the same raw rows, python scoring, then SQL scoring."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "warehouse.duckdb.example", raw / "example.duckdb")
    con = duckdb.connect(str(raw / "example.duckdb"), read_only=True)
    for table in ("titanic_train", "titanic_test"):
        con.execute(f"COPY raw.{table} TO '{raw / table}.jsonl' (FORMAT JSON)")
    con.close()
    runner = CliRunner()
    for i, (name, (estimator, tol)) in enumerate(ESTIMATORS.items()):
        directory = tmp_path / name
        directory.mkdir()
        config = bigquery_config(
            titanic_config(directory, estimator, small=True), bigquery_emulator
        )
        # datasets of its own: the emulator is shared with the other BigQuery tests
        text = config.read_text().replace('"raw.titanic_', '"iw_raw.titanic_')
        config.write_text(text.replace('output_schema = "pipeline"', 'output_schema = "iw"'))
        if i == 0:
            for table in ("titanic_train", "titanic_test"):
                args = ["ingest", str(raw / f"{table}.jsonl"), "--table", f"iw_raw.{table}"]
                out = runner.invoke(app, [*args, "-c", str(config)])
                assert out.exit_code == 0, out.output
        options = _options_factory(config)
        stages = ["preprocess", "train", "predict"] if i == 0 else ["train", "predict"]
        model_id = run_stages(options(executor="inprocess"), stages)[-1].model_id
        assert model_id
        python = predictions(config, model_id)
        run_stages(options(executor="warehouse"), ["predict"])
        assert_same(python, predictions(config, model_id), tol)


def test_a_model_sql_cannot_express_is_refused_before_any_write(tmp_path: Path) -> None:
    options = _options_factory(titanic_config(tmp_path, "sklearn.neighbors.KNeighborsClassifier"))
    run_stages(options(executor="inprocess"), None)
    before = _checksum(options())
    out = CliRunner().invoke(
        app,
        ["run", "--stage", "predict", "--executor", "warehouse", "-c", str(options().config_path)],
    )
    assert out.exit_code == 8, out.output
    assert "KNeighborsClassifier cannot be compiled to SQL" in out.output
    assert _checksum(options()) == before


def _checksum(options: RunOptions) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(options.config_path.parent / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT model_id, scored_by, count(*), sum(hash(PassengerId, prediction, score)) "
            "FROM pipeline.predictions GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def test_sql_longer_than_the_warehouse_accepts_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BigQuery takes at most 1,024 KB of query text: a larger compiled model is refused with
    its size, before anything is written (here DuckDB is given a small limit to show it)."""
    from pipeline.warehouse.duckdb import DuckDBWarehouse

    options = _options_factory(titanic_config(tmp_path, ESTIMATORS["RandomForestClassifier"][0]))
    run_stages(options(executor="inprocess"), None)
    before = _checksum(options())
    monkeypatch.setattr(
        DuckDBWarehouse,
        "dialect",
        dataclasses.replace(DuckDBWarehouse.dialect, max_query_bytes=100_000),
    )
    out = CliRunner().invoke(
        app,
        ["run", "--stage", "predict", "--executor", "warehouse", "-c", str(options().config_path)],
    )
    assert out.exit_code == 8, out.output
    assert "RandomForestClassifier compiles to" in out.output
    assert "more than the 100,000 the duckdb warehouse accepts in one query" in out.output
    assert _checksum(options()) == before


def test_a_whole_run_in_the_warehouse_refuses_an_uncompilable_model_before_writing(
    tmp_path: Path,
) -> None:
    options = _options_factory(titanic_config(tmp_path, "sklearn.neighbors.KNeighborsClassifier"))
    out = CliRunner().invoke(
        app, ["run", "--executor", "warehouse", "-c", str(options().config_path)]
    )
    assert out.exit_code == 8, out.output
    assert "KNeighborsClassifier cannot be compiled to SQL" in out.output
    assert "preprocess:" not in out.output
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    finally:
        con.close()
    assert "pipeline" not in schemas  # nothing written, not even the ledger's schema
