"""Faults lose nothing: a killed scoring worker, a process killed while loading predictions,
two runs started together on one warehouse, Ctrl-C at any moment, a parent killed while its
workers score, a full disk, and a save killed midway."""

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

import pipeline.scoring.submit as submit
from pipeline.core.errors import ScoringError
from pipeline.model.trained import TrainedModel
from pipeline.stages.base import RunOptions
from pipeline.stages.runner import run_stages
from tests.conftest import REPO, OptionsFactory
from tests.test_bad_input import warehouse_checksums

_original_score_part = submit.score_part


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

    monkeypatch.setattr(submit, "score_part", _die_on_third_batch)
    doomed = synthetic_project(executor="process", workers=2, batch_rows=20)
    with pytest.raises(ScoringError, match="a scoring worker died"):
        run_stages(doomed, ["predict"])
    assert warehouse_checksums(warehouse) == before
    assert not any(r[0] == doomed.run_id for r in _predictions(warehouse))
    assert not (doomed.out_dir / doomed.run_id / "predictions").exists()

    monkeypatch.setattr(submit, "score_part", _original_score_part)
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


@pytest.mark.slow  # processes
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


@pytest.mark.slow  # processes
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


# --- Ctrl-C, a dead parent, a full disk, a killed save ---------------------------------------
FAULT_AT = textwrap.dedent(
    """
    # Run `pipeline` with a fault injected at one moment (argv[1]); the rest of argv is the CLI's.
    import os, resource, signal, sys, threading, time
    from pathlib import Path

    moment = sys.argv[1]
    sys.argv = ["pipeline", *sys.argv[2:]]


    def ctrl_c():
        # what a terminal does: SIGINT to the whole foreground process group
        os.killpg(os.getpgid(0), signal.SIGINT)


    if moment.startswith("preprocess"):
        from pipeline.warehouse import duckdb as wd

        original = wd.DuckDBWarehouse._run

        def run(self, sql, params=None):
            if sql.startswith("CREATE OR REPLACE TABLE") and "features_holdout" in sql:
                if moment == "preprocess":
                    ctrl_c()  # between two statements of the stage's transaction
                else:  # while DuckDB runs a query
                    threading.Timer(0.2, ctrl_c).start()
                    sql = "SELECT count(*) FROM range(100000000000) a"
            return original(self, sql, params)

        wd.DuckDBWarehouse._run = run
    elif moment in ("scoring", "orphans"):
        import pipeline.scoring.submit as submit

        original_wait = submit.wait

        def wait(*args, **kwargs):  # the parent waits on its workers
            if moment == "orphans":
                Path(os.environ["READY"]).write_text(str(os.getpid()))
                time.sleep(600)
            ctrl_c()
            return original_wait(*args, **kwargs)

        submit.wait = wait
    elif moment == "save":
        import pipeline.model.save as save

        original_write = save.write_files

        def write(model, tmp, key):
            original_write(model, tmp, key)
            ctrl_c()  # written, not yet renamed into place
            time.sleep(5)

        save.write_files = write
    elif moment == "full-disk-parts":
        import pipeline.scoring.executors as executors

        original_init = executors.init_worker

        def init_worker(*args):  # each worker may write files of 64 bytes at most
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, resource.RLIM_INFINITY))
            return original_init(*args)

        executors.init_worker = init_worker
    elif moment == "full-disk-model":
        import pipeline.model.save as save

        original_write = save.write_files

        def write(model, tmp, key):  # the disk fills while the model is written
            limits = resource.getrlimit(resource.RLIMIT_FSIZE)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1024, limits[1]))
            try:
                return original_write(model, tmp, key)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, limits)

        save.write_files = write

    from pipeline.cli import app

    app()
    """
)


def _fault(
    tmp_path: Path,
    moment: str,
    *args: str,
    env: dict[str, str] | None = None,
    output: int = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """`pipeline *args` in a session of its own (a Ctrl-C to its group reaches only it)."""
    script = tmp_path / "fault_at.py"
    script.write_text(FAULT_AT)
    return subprocess.Popen(
        [sys.executable, str(script), moment, *args],
        stdout=output,
        stderr=output,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        start_new_session=True,
    )


def _leftovers(options: RunOptions) -> list[str]:
    """Scoring parts and model temporaries that outlived their run."""
    parts = [p.as_posix() for p in options.out_dir.glob("*/predictions")]
    temps = [p.name for p in options.models_dir.glob(".*")] if options.models_dir.exists() else []
    return parts + temps


@pytest.mark.slow  # processes
@pytest.mark.parametrize(
    ("moment", "stages", "args"),
    [
        ("preprocess", [], ["run", "--batch-rows", "20"]),
        ("preprocess-query", [], ["run", "--batch-rows", "20"]),
        ("save", ["preprocess"], ["run", "--stage", "train"]),  # no scoring option: it would warn
        (
            "scoring",
            ["preprocess", "train"],
            [
                *("run", "--stage", "predict", "--executor", "process"),
                *("--workers", "2", "--batch-rows", "20"),
            ],
        ),
    ],
)
def test_ctrl_c_at_any_moment_prints_one_line_exits_130_and_writes_nothing(
    synthetic_project: OptionsFactory,
    tmp_path: Path,
    moment: str,
    stages: list[str],
    args: list[str],
) -> None:
    options = synthetic_project()
    if stages:
        run_stages(options, stages)
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    models_before = sorted(p.name for p in options.models_dir.glob("*"))
    proc = _fault(tmp_path, moment, *args, "--config", str(options.config_path))
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert err == "error: interrupted\n"
    assert warehouse_checksums(warehouse) == before
    assert sorted(p.name for p in options.models_dir.glob("*")) == models_before
    assert _leftovers(options) == []


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _session(sid: int) -> set[int]:
    """Every process of a session, however it was forked."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper that may never come (a container's init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.slow  # processes
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_workers_die_with_their_parent(synthetic_project: OptionsFactory, tmp_path: Path) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    ready = tmp_path / "ready"
    proc = _fault(
        tmp_path,
        "orphans",
        *("run", "--stage", "predict", "--executor", "process", "--workers", "2"),
        *("--batch-rows", "20", "--config", str(options.config_path)),
        env={"READY": str(ready)},
        output=subprocess.DEVNULL,  # an orphan holding a pipe would hang the test's reads
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.exists(), proc.poll()
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while any(map(_alive, _session(proc.pid))) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [w for w in workers | _session(proc.pid) if _alive(w)]
    for pid in survivors:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


@pytest.mark.slow  # processes
def test_a_full_disk_while_scoring_is_one_line_and_exit_8(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    proc = _fault(
        tmp_path,
        "full-disk-parts",
        *("run", "--stage", "predict", "--executor", "process", "--workers", "2"),
        *("--batch-rows", "20", "--config", str(options.config_path)),
    )
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 8, err
    assert err.count("\n") == 1 and err.startswith("error: cannot write the scoring part "), err
    assert "file too large" in err
    assert warehouse_checksums(warehouse) == before
    assert _leftovers(options) == []


@pytest.mark.slow  # processes
def test_a_full_disk_while_saving_a_model_leaves_no_directory(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess"])
    proc = _fault(
        tmp_path, "full-disk-model", "run", "--stage", "train", "--config", str(options.config_path)
    )
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 5, err
    assert err.count("\n") == 1 and err.startswith("error: cannot write the model directory "), err
    assert "file too large" in err
    assert list(options.models_dir.iterdir()) == []


def test_a_save_removes_what_a_killed_save_left(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    results = run_stages(options, ["preprocess", "train"])
    model_dir = Path(results[-1].details["model_dir"])
    model = TrainedModel.load(model_dir)
    stale = [
        options.models_dir / f".{model.model_id}.abc",
        options.models_dir / f".{model.model_id}.old",
    ]
    for path in stale:
        (path / "sql").mkdir(parents=True)
        (path / "model.joblib").write_bytes(b"half")
    other = options.models_dir / ".another-model.abc"  # not this model's, no owner: left alone
    other.mkdir()
    # another model's temporary whose saving process is gone (its pid is in the name)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = options.models_dir / f".another-model.pid{dead.pid}.xyz"
    (orphan / "sql").mkdir(parents=True)
    # and one whose process lives (this one): a save in progress elsewhere, left alone
    live = options.models_dir / f".another-model.pid{os.getpid()}.xyz"
    live.mkdir()
    model.save(options.models_dir)
    assert not any(p.exists() for p in stale)
    assert other.is_dir() and live.is_dir()
    assert not orphan.exists()
    TrainedModel.load(model_dir)
