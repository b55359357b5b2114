"""Fixtures: projects on real DuckDB files in a temporary directory, never a mock.

Two tiers: `python -m pytest -m "not slow"` on every change, `python -m pytest` (CI) for all.
Tests that need the BigQuery emulator are slow by definition: `pytest_collection_modifyitems`
marks them, so a new one lands in the slow tier without anyone remembering to."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# OpenMP threads that wait by spinning (libgomp's default) turn a scikit-learn fit that takes a
# second into minutes when other processes hold the cores: sleep instead. Only how idle threads
# wait changes, never a result. Set before anything loads libgomp, and inherited by the stages
# the tests start as subprocesses.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Table

from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from tests.synthetic import write_warehouse

REPO = Path(__file__).resolve().parent.parent


def write_config(
    directory: Path, warehouse: Path, seed_from: Path | None = None, **edits: str
) -> Path:
    """The example config, pointed at this repo's sql/ and a warehouse in `directory`.

    `edits` set keys wherever the one key of that name is, to a TOML value written as text, e.g.
    estimator='"sklearn.linear_model.LogisticRegression"' or n_estimators="25". Edited through
    tomlkit, so the example's comments and order stay for tests that edit the text further."""
    doc = tomlkit.parse((REPO / "pipeline.toml").read_text())
    doc["sql_dir"] = (REPO / "sql").as_posix()
    section = doc["warehouse"]
    assert isinstance(section, Table)
    section["path"] = warehouse.as_posix()
    if seed_from:
        section["seed_from"] = seed_from.as_posix()
    else:
        del section["seed_from"]
    for key, value in edits.items():
        holders = _holders(doc, key)
        assert len(holders) == 1, f"config has no single key {key}"
        holders[0][key] = tomlkit.value(value)
    path = directory / "pipeline.toml"
    path.write_text(tomlkit.dumps(doc))
    return path


def _holders(table: Container | Table, key: str) -> list[Container | Table]:
    """Every table, at any depth, that has `key` (arrays of tables included)."""
    found: list[Container | Table] = [table] if key in table else []
    for item in table.values():
        children = item if isinstance(item, AoT) else [item]
        for child in children:
            if isinstance(child, Table):
                found += _holders(child, key)
    return found


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


@pytest.fixture(scope="session")
def synthetic_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded synthetic tables, generated once; tests get copies."""
    path = tmp_path_factory.mktemp("synthetic") / "warehouse.duckdb"
    write_warehouse(path)
    return path


@pytest.fixture
def synthetic_project(tmp_path: Path, synthetic_warehouse: Path) -> OptionsFactory:
    """A project on the seeded synthetic tables; a small forest keeps it fast."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(synthetic_warehouse, warehouse)
    config = write_config(tmp_path, warehouse, n_estimators="25")
    return _options_factory(config)


@pytest.fixture(scope="session")
def ran_state(tmp_path_factory: pytest.TempPathFactory, synthetic_warehouse: Path) -> Path:
    """A synthetic project after one whole run (preprocess, train, predict, evaluate), built
    once; `ran_project` gives each test a copy."""
    directory = tmp_path_factory.mktemp("ran")
    warehouse = directory / "warehouse.duckdb"
    shutil.copyfile(synthetic_warehouse, warehouse)
    config = write_config(directory, warehouse, n_estimators="25")
    run_stages(_options_factory(config)(), None)
    return directory


@pytest.fixture
def ran_project(tmp_path: Path, ran_state: Path) -> OptionsFactory:
    """`synthetic_project` after `run_stages(options(), None)`, copied rather than rerun: the
    same warehouse, model directory and ledger, with the config pointed at the copy."""
    shutil.copytree(ran_state, tmp_path, dirs_exist_ok=True)
    config = tmp_path / "pipeline.toml"
    config.write_text(config.read_text().replace(ran_state.as_posix(), tmp_path.as_posix()))
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


@dataclass(frozen=True)
class EmulatorEndpoints:
    """Where the session's BigQuery emulator listens: REST (http://host:port) and the Storage
    Read API's gRPC service (host:port)."""

    rest: str
    grpc: str


@pytest.fixture(scope="session")
def bigquery_emulator(bigquery_emulator_endpoints: EmulatorEndpoints) -> str:
    """The session's BigQuery emulator on loopback: its REST endpoint."""
    return bigquery_emulator_endpoints.rest


@pytest.fixture(scope="session")
def bigquery_emulator_endpoints(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmulatorEndpoints]:
    """A BigQuery emulator on loopback for the whole session; yields its endpoints."""
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
    yield EmulatorEndpoints(endpoint, f"127.0.0.1:{grpc}")
    log.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts the BigQuery emulator is in the slow tier."""
    for item in items:
        if {"bigquery_emulator", "bigquery_emulator_endpoints"} & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.slow)
