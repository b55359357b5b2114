"""Fixes from the new-user trial (faults): Ctrl-C cleanup and ledger rows, damaged models, broken pipes, stray warehouse files, warnings, keys, the run id.
a damaged model pickle giving a traceback, `| head -1` aborting a run, a mistyped warehouse
path creating an empty file, scikit-learn warnings ignoring -q, keygen into a missing folder,
and a refused run printing a run id."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ModelIntegrityError
from pipeline.core.keys import read_key
from pipeline.model.trained import TrainedModel
from pipeline.stages.runner import run_stages
from pipeline.warehouse.lock import run_lock
from tests.conftest import REPO, OptionsFactory, write_config
from tests.test_bad_input import warehouse_checksums
from tests.test_faults import FAULT_AT

runner = CliRunner()

# moments of predict at which a Ctrl-C lands, added to test_faults' FAULT_AT
PREDICT_FAULTS = textwrap.dedent(
    """
    import os, signal, sys
    from pipeline.warehouse import duckdb as wd

    moment = sys.argv[1]
    if moment == "predict-load":  # the parts are written; loading them is about to start
        original_load = wd.DuckDBWarehouse.replace_rows_from_jsonl

        def load(self, *args, **kwargs):
            os.killpg(os.getpgid(0), signal.SIGINT)
            return original_load(self, *args, **kwargs)

        wd.DuckDBWarehouse.replace_rows_from_jsonl = load
    elif moment == "predict-spill":  # the feature rows are spilled, not yet scored
        original_read_out = wd.DuckDBWarehouse.read_out

        def read_out(self, *args, **kwargs):
            out = original_read_out(self, *args, **kwargs)
            os.killpg(os.getpgid(0), signal.SIGINT)
            return out

        wd.DuckDBWarehouse.read_out = read_out
    elif moment == "checks":  # before the first stage's own body starts
        import pipeline.stages.checks as preflight

        original_checks = preflight.check_before_writes

        def checks(*args, **kwargs):
            os.killpg(os.getpgid(0), signal.SIGINT)
            return original_checks(*args, **kwargs)

        preflight.check_before_writes = checks
    """
)


def _ledger(warehouse: Path) -> list[tuple[str, str, str, str | None]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(
            "SELECT run_id, stage, status, error FROM pipeline.runs ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()


def _interrupt(tmp_path: Path, moment: str, *args: str) -> tuple[int, str, str]:
    """`pipeline *args` with a Ctrl-C at `moment`; returns (exit code, stdout, stderr)."""
    script = tmp_path / "fault_at.py"
    script.write_text(PREDICT_FAULTS + FAULT_AT)
    proc = subprocess.Popen(
        [sys.executable, str(script), moment, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


@pytest.mark.slow  # processes
@pytest.mark.parametrize("moment", ["predict-load", "predict-spill"])
def test_ctrl_c_in_predict_leaves_no_run_files_and_an_interrupted_ledger_row(
    ran_project: OptionsFactory, tmp_path: Path, moment: str
) -> None:
    options = ran_project()
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    runs_before = sorted(p.name for p in options.out_dir.iterdir())
    code, out, err = _interrupt(
        tmp_path,
        moment,
        *("run", "--stage", "predict", "--executor", "process", "--workers", "2"),
        *("--batch-rows", "20", "--config", str(options.config_path)),
    )
    assert (code, err) == (130, "error: interrupted\n"), err
    run_id = out.split()[1]
    # no parts, no spilled rows, no empty run directory; the predictions as they were
    assert sorted(p.name for p in options.out_dir.iterdir()) == runs_before
    assert not (options.out_dir / run_id).exists()
    assert warehouse_checksums(warehouse) == before
    assert _ledger(warehouse)[-1] == (run_id, "predict", "interrupted", "interrupted")


@pytest.mark.slow  # processes
@pytest.mark.parametrize("moment", ["preprocess", "preprocess-query", "checks"])
def test_ctrl_c_in_preprocess_writes_an_interrupted_ledger_row(
    synthetic_project: OptionsFactory, tmp_path: Path, moment: str
) -> None:
    options = synthetic_project()
    warehouse = options.config_path.parent / "warehouse.duckdb"
    code, out, err = _interrupt(tmp_path, moment, "run", "--config", str(options.config_path))
    assert (code, err) == (130, "error: interrupted\n"), err
    run_id = out.split()[1]
    assert _ledger(warehouse) == [(run_id, "preprocess", "interrupted", "interrupted")]


def test_nothing_to_score_leaves_no_spilled_rows(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    run_stages(options, None)
    con = duckdb.connect(str(options.config_path.parent / "warehouse.duckdb"))
    con.execute("DELETE FROM raw.titanic_test; DELETE FROM raw.titanic_train")
    con.close()
    again = synthetic_project()
    run_stages(again, ["predict"])
    assert list((again.out_dir / again.run_id).glob("*.parquet")) == []


# --- a damaged or foreign model.joblib ------------------------------------------------------
def _rewrite_manifest(model_dir: Path) -> None:
    """What an attacker or a bad copy does: the manifest's hashes made to match again."""
    import hashlib
    import json

    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"] = {
        rel: hashlib.sha256((model_dir / rel).read_bytes()).hexdigest() for rel in manifest["files"]
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("damage", ["truncated", "not-an-estimator"])
def test_a_damaged_or_foreign_pickle_is_exit_5_naming_the_file(
    synthetic_project: OptionsFactory, damage: str
) -> None:
    options = synthetic_project()
    results = run_stages(options, ["preprocess", "train"])
    model_dir = Path(results[-1].details["model_dir"])
    pickle_path = model_dir / "model.joblib"
    if damage == "truncated":
        pickle_path.write_bytes(pickle_path.read_bytes()[:200])
        expected = f"{pickle_path} cannot be unpickled ("
    else:
        pickle_path.write_bytes(pickle.dumps(42))
        expected = (
            f"{pickle_path} holds a builtins.int, not the sklearn.ensemble."
            "RandomForestClassifier recorded in"
        )
    _rewrite_manifest(model_dir)

    with pytest.raises(ModelIntegrityError, match="^" + expected.replace("(", r"\(")):
        TrainedModel.load(model_dir)
    result = runner.invoke(app, ["run", "--stage", "predict", "--config", str(options.config_path)])
    assert result.exit_code == 5, result.output
    error = result.output.splitlines()[-1]
    assert error.startswith("error: " + expected), result.output
    assert "Traceback" not in result.output


# --- result printing, the warehouse file, warnings, keygen, the run id ----------------------
@pytest.mark.slow  # processes
def test_a_reader_that_goes_away_does_not_abort_the_run(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--config", str(options.config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # `| head -1`: one line, then the pipe is closed
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=180) == 0, err
    assert first.startswith(b"run ")
    warehouse = options.config_path.parent / "warehouse.duckdb"
    assert [row[1:3] for row in _ledger(warehouse)] == [
        ("preprocess", "success"),
        ("train", "success"),
        ("predict", "success"),
        ("evaluate", "success"),
    ]


def test_a_run_on_a_missing_warehouse_file_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "warehuose.duckdb"
    config = write_config(tmp_path, typo)
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 7, result.output
    assert result.output == (
        f"error: warehouse file {typo} does not exist (check [warehouse] path); "
        "`pipeline ingest` creates it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.toml"]


def test_a_failed_ingest_into_a_new_warehouse_leaves_no_file(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,x\n1,a\n2,b,c,d\n")
    warehouse = tmp_path / "new" / "w.duckdb"
    command = ["ingest", str(ragged), "--table", "raw.rows", "--warehouse", str(warehouse)]
    result = runner.invoke(app, command)
    assert result.exit_code != 0, result.output
    assert result.output.startswith("error: "), result.output
    assert not (tmp_path / "new").exists()

    existing = tmp_path / "w.duckdb"  # a warehouse that was there stays
    good = tmp_path / "good.csv"
    good.write_text("id,x\n1,a\n")
    ok = runner.invoke(app, ["ingest", str(good), "-t", "raw.ok", "--warehouse", str(existing)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        app, ["ingest", str(ragged), "-t", "raw.rows", "--warehouse", str(existing)]
    )
    assert bad.exit_code != 0, bad.output
    assert existing.exists()


@pytest.mark.slow  # processes
def test_python_warnings_are_one_line_and_quiet_hides_them(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    config = options.config_path
    text = config.read_text()
    text = text.replace(
        'estimator = "sklearn.ensemble.RandomForestClassifier"',
        'estimator = "sklearn.linear_model.LogisticRegression"',
    )
    config.write_text(text.replace("max_iter = 5000", "max_iter = 1"))
    command = [sys.executable, "-m", "pipeline", "run", "--stage", "train", "-c", str(config)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([*command[:4], "--stage", "preprocess", "-c", str(config)], env=env, check=True)

    loud = subprocess.run(command, env=env, capture_output=True, text=True)
    assert loud.returncode == 0, loud.stderr
    warned = [line for line in loud.stderr.splitlines() if "ConvergenceWarning" in line]
    assert warned and warned[0].startswith("warning: ConvergenceWarning: lbfgs failed to converge")
    # the advice is kept, on the same line: it was cut at the first line's colon
    assert len(warned) == 1 and "max_iter" in warned[0]
    assert "site-packages" not in loud.stderr

    quiet = subprocess.run([*command[:3], "-q", *command[3:]], env=env, capture_output=True)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == b""


def test_keygen_makes_missing_folders_for_its_owner_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = tmp_path / "home" / ".config" / "pipeline" / "churn.key"
    result = runner.invoke(app, ["keygen", "--out", str(key)])
    assert result.exit_code == 0, result.output
    for folder in (tmp_path / "home", key.parent.parent, key.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert key.stat().st_mode & 0o777 == 0o600

    with caplog.at_level(logging.WARNING, logger="pipeline"):
        read_key(key)
    assert caplog.records == []
    key.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        read_key(key)
    (record,) = caplog.records
    assert record.getMessage() == (
        f"[model] signing_key {key} can be read by group or others (mode 644); make it "
        f"readable by you alone: chmod 600 {key}"
    )


def test_a_run_refused_by_the_run_lock_prints_no_run_id(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    warehouse = options.config_path.parent / "warehouse.duckdb"
    with run_lock(Path(f"{warehouse}.lock"), warehouse, "pid 123, run r-1"):
        result = runner.invoke(
            app, ["run", "--stage", "preprocess", "--config", str(options.config_path)]
        )
    assert result.exit_code == 7, result.output
    assert result.stdout == ""
    assert "held by another pipeline run (pid 123, run r-1" in result.output


def test_the_ledger_row_of_an_interrupt_is_written_on_a_fresh_connection_if_need_be(
    synthetic_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection Ctrl-C interrupted may refuse the row (a transaction it could not end):
    the row is written through a connection of its own."""
    import pipeline.stages.ledger as ledger
    from pipeline.stages.base import run_recorded
    from pipeline.stages.project import Project

    options = synthetic_project()
    original = ledger._write_row

    def refuse_on_the_run_connection(project: Project, wh: object, row: dict[str, object]) -> None:
        if wh is project.warehouse:
            raise RuntimeError("Query interrupted")  # as DuckDB says it
        original(project, wh, row)  # type: ignore[arg-type]

    def body(project: Project, options: object, result: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ledger, "_write_row", refuse_on_the_run_connection)
    with (
        Project.open(options.config_path, on_demand=True) as project,
        pytest.raises(KeyboardInterrupt),
    ):
        run_recorded(project, options, "preprocess", body)
    warehouse = options.config_path.parent / "warehouse.duckdb"
    assert _ledger(warehouse) == [(options.run_id, "preprocess", "interrupted", "interrupted")]


def test_a_spill_left_by_a_killed_predict_is_removed_by_the_next(
    synthetic_project: OptionsFactory,
) -> None:
    """A predict killed outright leaves its Parquet copy of the feature rows; the next one,
    holding the run lock, removes it."""
    options = synthetic_project()
    run_stages(options, None)
    stale = options.out_dir / "20200101T000000Z-dead00" / "read_out.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"PAR1 half a copy")
    run_stages(synthetic_project(), ["predict"])
    assert not stale.exists()
    assert not list(options.out_dir.glob("*/read_out.parquet"))
