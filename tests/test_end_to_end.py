"""The whole pipeline on the real Titanic data, through the CLI, twice."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def _pipeline(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _snapshot(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every pipeline table's rows, minus the columns that name the run."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for table in (
            "clean",
            "features_train",
            "features_holdout",
            "features_test",
            "feature_stats",
            "predictions",
            "metrics",
            "curves",
        ):
            out[table] = con.sql(
                f"SELECT * EXCLUDE (run_id) FROM pipeline.{table} ORDER BY ALL"
                if table in ("feature_stats", "predictions", "metrics", "curves")
                else f"SELECT * FROM pipeline.{table} ORDER BY ALL"
            ).fetchall()
        return out
    finally:
        con.close()


def test_fresh_project_runs_end_to_end_twice(repo_copy: Path) -> None:
    config = str(repo_copy / "pipeline.toml")
    first = _pipeline("run", "--config", config)
    assert "created" in first and "warehouse.duckdb.example" in first
    assert "preprocess: train" in first and ": holdout (" in first
    snapshot = _snapshot(repo_copy / "warehouse.duckdb")

    second = _pipeline("run", "--config", config)
    assert "created" not in second
    assert _snapshot(repo_copy / "warehouse.duckdb") == snapshot

    counts = _pipeline(
        "sql",
        "--config",
        config,
        "--format",
        "csv",
        "SELECT dataset, count(*) AS n, count(DISTINCT PassengerId) AS ids "
        "FROM pipeline.predictions GROUP BY dataset ORDER BY dataset",
    )
    holdout = len([r for r in snapshot["clean"] if r[-1] == "holdout"])
    assert counts.split() == ["dataset,n,ids", f"holdout,{holdout},{holdout}", "test,418,418"]

    metrics = dict(
        line.split(",")
        for line in _pipeline(
            "sql",
            "--config",
            config,
            "--format",
            "csv",
            "SELECT metric, value FROM pipeline.metrics WHERE slice = 'all'",
        ).split()[1:]
    )
    assert float(metrics["accuracy"]) >= 0.78
    assert {"rows", "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(metrics)
    assert "report" in first and (repo_copy / "runs").is_dir()

    ledger = _pipeline(
        "sql",
        "--config",
        config,
        "--format",
        "csv",
        "SELECT stage, status, count(*) FROM pipeline.runs GROUP BY ALL ORDER BY ALL",
    )
    assert ledger.split()[1:] == [
        "evaluate,success,2",
        "predict,success,2",
        "preprocess,success,2",
        "train,success,2",
    ]
