"""Acceptance: the installed package, not the clone. Builds the wheel, installs it into a fresh
virtual environment, and from an empty directory takes three CSV exports (missing values as
`NA`, no id column, dotted / spaced / non-ASCII names, a leaky column, a ragged file) through
ingest, init, run and sql with no hand edits. The commands are the README's "Your own data"."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.own_data import write_exports

# the README's commands, run from an empty directory holding nothing but these exports
COMMANDS = [
    "pipeline ingest exports/patients.csv --table raw.patients --warehouse study/warehouse.duckdb",
    "pipeline ingest exports/new_patients.csv --table raw.new_patients "
    "--warehouse study/warehouse.duckdb",
    "pipeline init study --from-table raw.patients --unlabelled raw.new_patients "
    "--label 'relapse 2y'",
    "pipeline run --config study/pipeline.toml",
    "pipeline sql --config study/pipeline.toml "
    "\"SELECT metric, round(value, 3) AS value FROM pipeline.metrics WHERE slice = 'all' "
    "AND model_id = (SELECT model_id FROM pipeline.runs WHERE stage = 'evaluate' "
    "AND status = 'success' ORDER BY ended_at DESC LIMIT 1)\"",
]
BROKEN = (
    "pipeline ingest exports/broken.csv --table raw.patients --warehouse study/warehouse.duckdb "
    "--replace"
)


@pytest.mark.slow
def test_the_wheel_takes_own_exports_to_metrics(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pipeline/sql/preprocess/clean.sql" in names
    assert "pipeline/sql/profile/leakage.sql" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run(
        [str(bin_dir / "pip"), "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"

    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import pipeline; print(pipeline.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where  # the wheel's copy, not the clone's

    write_exports(work / "exports")

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            shlex.split(command), cwd=work, env=env, capture_output=True, text=True, timeout=600
        )

    outputs = []
    for command in COMMANDS:
        done = sh(command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs.append(done.stdout)
        if command.startswith("pipeline ingest exports/patients.csv"):
            refused = sh(BROKEN)
            assert refused.returncode == 4, refused
            assert refused.stderr.strip() == (
                "error: exports/broken.csv, line 8: 9 fields where the header has 8 "
                "(delimiter ','); fix or remove that row"
            )

    assert "sample.yr                DOUBLE  (missing: NA x" in outputs[0]
    config = (work / "study" / "pipeline.toml").read_text()
    assert "# left out: follow.up.date (predicts the label alone" in config
    assert 'id = "row_key"' in config
    assert ": holdout (" in outputs[3]
    assert "roc_auc" in outputs[4] and "accuracy" in outputs[4]
