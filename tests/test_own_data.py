"""A new user's path, as the README walks it: their own CSV (other column names, generated here
with a fixed seed) to predictions and metrics in the warehouse, without editing any Python.
And the wine example, from its CSVs."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import REPO

runner = CliRunner()


def pipeline(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def loans_csv(path: Path, rows: int = 600, seed: int = 11) -> None:
    """A credit-default table that shares nothing with Titanic but the shape of the problem."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.5, rows).round(2)
    age = rng.integers(19, 75, rows).astype(float)
    age[rng.random(rows) < 0.1] = np.nan
    region = rng.choice(
        ["north", "south", "east", "west", "islands"], rows, p=[0.3, 0.3, 0.2, 0.18, 0.02]
    )
    employment = rng.choice(["salaried", "self-employed", "none"], rows, p=[0.6, 0.3, 0.1])
    logit = (
        -0.5
        - 1.5 * (income > 36000)
        + 2.5 * (employment == "none")
        + 1.0 * (region == "south")
        - 0.03 * (np.nan_to_num(age, nan=40) - 40)
    )
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    pd.DataFrame(
        {
            "applicant_ref": [f"A-{i:05d}" for i in range(rows)],
            "annual_income": income,
            "age_years": age,
            "home_region": region,
            "employment": employment,
            "free_text_note": [f"note {i} {rng.integers(1e9)}" for i in range(rows)],
            "defaulted": defaulted,
        }
    ).to_csv(path, index=False)


@pytest.mark.slow  # a whole real data set end to end, or CLI subprocesses
def test_walkthrough_from_a_csv_to_predictions(tmp_path: Path, monkeypatch: object) -> None:
    csv = tmp_path / "loans.csv"
    loans_csv(csv)
    project = tmp_path / "loans"
    db = project / "warehouse.duckdb"

    out = pipeline("ingest", str(csv), "--table", "raw.loans", "--warehouse", str(db))
    assert "raw.loans: 600 rows from 1 file(s)" in out and "annual_income" in out
    again = runner.invoke(app, ["ingest", str(csv), "--table", "raw.loans", "--warehouse", str(db)])
    assert again.exit_code == 2 and "already exists; pass --replace" in again.output
    pipeline("ingest", str(csv), "--table", "raw.loans", "--warehouse", str(db), "--replace")

    pipeline(
        "init",
        str(project),
        "--from-table",
        "raw.loans",
        "--id",
        "applicant_ref",
        "--label",
        "defaulted",
        "--sql",
        str(REPO / "sql"),
    )
    config = (project / "pipeline.toml").read_text()
    assert 'task = "binary"' in config
    assert 'column = "home_region"' in config and 'column = "annual_income"' in config
    assert "# left out: free_text_note" in config
    assert (project / "sql" / "preprocess" / "clean.sql").is_file()
    assert (project / "README.md").is_file() and (project / "models").is_dir()

    run = pipeline("run", "--config", str(project / "pipeline.toml"))
    assert ": holdout (" in run

    con = duckdb.connect(str(db), read_only=True)
    predicted = con.sql(
        "SELECT count(*), count(DISTINCT applicant_ref) FROM pipeline.predictions"
    ).fetchall()
    holdout = con.sql("SELECT count(*) FROM pipeline.clean WHERE dataset = 'holdout'").fetchall()
    auc = con.sql(
        "SELECT value FROM pipeline.metrics WHERE slice = 'all' AND metric = 'roc_auc'"
    ).fetchall()
    con.close()
    assert predicted == [(holdout[0][0], holdout[0][0])]
    assert auc[0][0] > 0.6

    shown = pipeline("show", "--config", str(project / "pipeline.toml"))
    assert "home_region" in shown and "latest runs" in shown and "roc_auc" in shown


def test_init_without_a_table_makes_a_project_to_fill_in(tmp_path: Path) -> None:
    out = pipeline("init", str(tmp_path / "blank"), "--sql", str(REPO / "sql"))
    assert "created" in out
    refused = runner.invoke(app, ["init", str(tmp_path / "blank"), "--sql", str(REPO / "sql")])
    assert refused.exit_code == 2 and "already exists" in refused.output


@pytest.mark.slow  # a whole real data set end to end, or CLI subprocesses
def test_wine_example_runs_from_its_csvs(tmp_path: Path) -> None:
    example = tmp_path / "examples" / "wine"
    shutil.copytree(
        REPO / "examples" / "wine",
        example,
        ignore=shutil.ignore_patterns("warehouse.duckdb*", "models", "runs"),
    )
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    config = str(example / "pipeline.toml")
    pipeline("ingest", str(example / "data" / "wines.csv"), "--table", "raw.wines", "-c", config)
    pipeline(
        "ingest", str(example / "data" / "new_wines.csv"), "--table", "raw.new_wines", "-c", config
    )
    out = pipeline("run", "-c", config)
    accuracy = float(out.split("accuracy ")[1].split(",")[0])
    assert accuracy >= 0.9, out
    con = duckdb.connect(str(example / "warehouse.duckdb"), read_only=True)
    assert con.sql("SELECT count(*) FROM wine.predictions WHERE dataset = 'test'").fetchall() == [
        (18,)
    ]
    con.close()
