"""Faults lose nothing: a killed scoring worker, a process killed while loading predictions,
and two runs started together on one warehouse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

import pipeline.scoring as scoring
from pipeline.errors import ScoringError
from pipeline.runner import run_stages
from tests.conftest import REPO, OptionsFactory
from tests.test_bad_input import warehouse_checksums

_original_score_part = scoring.score_part


def _die_on_third_batch(batch: Any, part: int, job: Any) -> Any:
    """Runs in a forked worker: the third batch kills its worker outright."""
    if part == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return _original_score_part(batch, part, job)


def _predictions(warehouse: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql("SELECT * FROM pipeline.predictions ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_killed_worker_fails_the_run_cleanly_and_a_rerun_succeeds(
    synthetic_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = synthetic_project()
    run_stages(first, None)
    warehouse = first.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)

    monkeypatch.setattr(scoring, "score_part", _die_on_third_batch)
    doomed = synthetic_project(executor="process", workers=2, batch_rows=20)
    with pytest.raises(ScoringError, match="a scoring worker died"):
        run_stages(doomed, ["predict"])
    assert warehouse_checksums(warehouse) == before
    assert not any(r[0] == doomed.run_id for r in _predictions(warehouse))
    assert not (doomed.out_dir / doomed.run_id / "predictions").exists()

    monkeypatch.setattr(scoring, "score_part", _original_score_part)
    again = synthetic_project(executor="process", workers=2, batch_rows=20)
    run_stages(again, ["predict"])
    rows = _predictions(warehouse)
    assert rows and {r[0] for r in rows} == {again.run_id}
    assert len(rows) == len([r for r in rows if r[0] == again.run_id])


KILL_DURING_LOAD = textwrap.dedent(
    """
    import os, signal, sys
    from pipeline.warehouse import duckdb as wd

    original = wd.DuckDBWarehouse._run
    seen = {"insert": False}

    def run(self, sql, params=None):
        if sql.startswith("INSERT INTO") and "predictions" in sql:
            seen["insert"] = True
        elif sql == "COMMIT" and seen["insert"]:
            os.kill(os.getpid(), signal.SIGKILL)  # the rows are in, not yet committed
        return original(self, sql, params)

    wd.DuckDBWarehouse._run = run
    from pipeline.cli import app
    sys.argv = ["pipeline", "run", "--stage", "predict", "--config", sys.argv[1]]
    app()
    """
)


def test_process_killed_during_the_load_leaves_no_partial_rows(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    run_stages(options, None)
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    script = tmp_path / "kill_during_load.py"
    script.write_text(KILL_DURING_LOAD)

    proc = subprocess.run(
        [sys.executable, str(script), str(options.config_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert warehouse_checksums(warehouse) == before
    run_stages(synthetic_project(), ["predict"])  # and the next run is fine


def test_two_runs_at_once_one_wins_the_other_fails_fast(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    command = [sys.executable, "-m", "pipeline", "run", "--config", str(options.config_path)]
    started = time.monotonic()
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        outcomes.append((proc.returncode, out + err, time.monotonic() - started))
    outcomes.sort()
    (ok, ok_out, _), (failed, failed_out, _) = outcomes
    assert ok == 0, ok_out
    assert failed == 7, failed_out
    # the run lock names the run that holds it
    assert "is held by another pipeline run (pid " in failed_out, failed_out
    assert "Traceback" not in failed_out

    # the warehouse is whole: every table reads, a checkpoint succeeds, one run is recorded
    warehouse = options.config_path.parent / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        for schema, table in con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall():
            con.sql(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()
        con.execute("CHECKPOINT").fetchall()
        stages = con.sql("SELECT stage, status FROM pipeline.runs ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert stages == [
        ("preprocess", "success"),
        ("train", "success"),
        ("predict", "success"),
        ("evaluate", "success"),
    ]
