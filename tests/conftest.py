"""Fixtures: projects on real DuckDB files in a temporary directory, never a mock."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from tests.synthetic import write_warehouse

REPO = Path(__file__).resolve().parent.parent


def write_config(
    directory: Path, warehouse: Path, seed_from: Path | None = None, **edits: str
) -> Path:
    """The example config, pointed at this repo's sql/ and a warehouse in `directory`.

    `edits` replace whole `key = value` lines, e.g. estimator='"sklearn.linear_model.Ridge"'."""
    text = (REPO / "pipeline.toml").read_text()
    text = re.sub(r"(?m)^sql_dir = .*$", f'sql_dir = "{(REPO / "sql").as_posix()}"', text)
    text = re.sub(r"(?m)^path = .*$", f'path = "{warehouse.as_posix()}"', text)
    seed_line = f'seed_from = "{seed_from.as_posix()}"' if seed_from else ""
    text = re.sub(r"(?m)^seed_from = .*$", seed_line, text)
    for key, value in edits.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert n == 1, f"config has no single line for {key}"
    path = directory / "pipeline.toml"
    path.write_text(text)
    return path


OptionsFactory = Callable[..., RunOptions]


def _options_factory(config: Path) -> OptionsFactory:
    def make(**kwargs: object) -> RunOptions:
        base = dict(
            config_path=config,
            run_id=new_run_id(),
            models_dir=config.parent / "models",
            out_dir=config.parent / "runs",
        )
        base.update(kwargs)
        return RunOptions(**base)  # type: ignore[arg-type]

    return make


@pytest.fixture
def synthetic_project(tmp_path: Path) -> OptionsFactory:
    """A project on the seeded synthetic tables; a small forest keeps it fast."""
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse)
    config = write_config(tmp_path, warehouse, n_estimators="25")
    return _options_factory(config)


@pytest.fixture
def titanic_project(tmp_path: Path) -> OptionsFactory:
    """A project on a copy of the example warehouse with the real Titanic data."""
    config = write_config(
        tmp_path, tmp_path / "warehouse.duckdb", REPO / "warehouse.duckdb.example"
    )
    return _options_factory(config)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The project as a fresh clone has it: config, sql/, data and the example warehouse."""
    for name in ("pipeline.toml", "warehouse.duckdb.example"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "sql", tmp_path / "sql")
    return tmp_path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A BigQuery emulator on loopback for the whole session; yields its REST endpoint."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    pytest.importorskip("bqemulator", reason="the emulator is a dev dependency")
    home = tmp_path_factory.mktemp("bqemulator")
    rest, grpc = _free_port(), _free_port()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home)}
    # its log goes to a file: an unread pipe fills up and the emulator stops answering
    log = (home / "emulator.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "bq_emulator.py"),
            "start",
            "--rest-host",
            "127.0.0.1",
            "--rest-port",
            str(rest),
            "--grpc-host",
            "127.0.0.1",
            "--grpc-port",
            str(grpc),
            "--project",
            "test-proj",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    endpoint = f"http://127.0.0.1:{rest}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                output = (home / "emulator.log").read_text()
                raise RuntimeError(
                    f"the BigQuery emulator did not start:\n{output[-3000:]}"
                ) from None
            time.sleep(0.2)
    yield endpoint
    log.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
