"""Who may touch the warehouse when: `pipeline sql` reads unless told --write; sql, show and
compare open read-only and never create a warehouse; a run locks out other runs but holds the
warehouse file only around its reads and writes, and readers wait for a write in progress."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ConfigError, WarehouseError
from pipeline.stages.runner import run_stages
from pipeline.tools.query import run_query
from pipeline.tools.synthetic import generate
from pipeline.warehouse.duckdb import DuckDBWarehouse
from pipeline.warehouse.lock import run_lock
from tests.conftest import REPO, OptionsFactory, write_config

runner = CliRunner()


def _tables(path: Path) -> list[tuple[str, str, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall()
        return [
            (s, t, con.sql(f'SELECT count(*) FROM "{s}"."{t}"').fetchall()[0][0]) for s, t in names
        ]
    finally:
        con.close()


# --- sql is read-only by default ---------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("DROP TABLE raw.titanic_train", "DROP"),
        ("DELETE FROM raw.titanic_train", "DELETE"),
        ("UPDATE raw.titanic_train SET Age = 0", "UPDATE"),
        ("SELECT 1; DROP TABLE raw.titanic_train", "2 statements (SELECT, DROP)"),
        ("COPY raw.titanic_train TO '{dir}/out.csv'", "COPY"),
        ("EXPLAIN ANALYZE COPY raw.titanic_train TO '{dir}/out.csv'", "COPY"),
        ("EXPORT DATABASE '{dir}/export'", "EXPORT"),
        ("ATTACH '{dir}/new.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("SET threads = 1", "SET"),
        ("CREATE TABLE raw.x AS SELECT 1 AS a", "CREATE"),
    ],
)
def test_sql_refuses_what_writes_unless_write(
    synthetic_project: OptionsFactory, tmp_path: Path, statement: str, kind: str
) -> None:
    config = synthetic_project().config_path
    warehouse = config.parent / "warehouse.duckdb"
    before = _tables(warehouse)
    files = set(tmp_path.rglob("*"))
    with pytest.raises(ConfigError, match=re.escape(kind)) as caught:
        run_query(config, statement.format(dir=tmp_path))
    assert "--write" in str(caught.value)
    assert _tables(warehouse) == before
    assert set(tmp_path.rglob("*")) == files  # no file written, none created


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) AS n FROM raw.titanic_train",
        "WITH t AS (SELECT 1 AS a) SELECT a FROM t",
        "FROM raw.titanic_train LIMIT 1",
        "DESCRIBE raw.titanic_train",
        "SHOW ALL TABLES",
        "SUMMARIZE raw.titanic_train",
        "EXPLAIN SELECT * FROM raw.titanic_train",
        "PRAGMA table_info('raw.titanic_train')",
    ],
)
def test_sql_runs_reads(synthetic_project: OptionsFactory, statement: str) -> None:
    assert run_query(synthetic_project().config_path, statement).num_rows > 0


def test_sql_write_runs_writing_statements(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    result = runner.invoke(app, ["sql", "--config", str(config), "--write", "DROP TABLE raw.x"])
    assert result.exit_code == 7  # no such table: the warehouse says so
    result = runner.invoke(
        app, ["sql", "--config", str(config), "--write", "DROP TABLE raw.titanic_test"]
    )
    assert result.exit_code == 0, result.output
    assert ("raw", "titanic_test") not in [
        t[:2] for t in _tables(config.parent / "warehouse.duckdb")
    ]


def test_sql_cli_refusal_exit_2(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    result = runner.invoke(app, ["sql", "--config", str(config), "DROP TABLE raw.titanic_train"])
    assert result.exit_code == 2
    assert "DROP" in result.output and "--write" in result.output


def test_sql_warehouse_option_needs_no_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "w.duckdb"
    with DuckDBWarehouse(warehouse) as wh:
        wh.ensure_schema("raw")
        wh.replace_table("raw.t", "SELECT 42 AS a")
    monkeypatch.chdir(tmp_path)  # no pipeline.toml here
    result = runner.invoke(app, ["sql", "--warehouse", str(warehouse), "SELECT a FROM raw.t"])
    assert result.exit_code == 0, result.output
    assert "42" in result.output
    # --warehouse wins over --config, even a config that does not exist
    result = runner.invoke(
        app, ["sql", "--config", "nope.toml", "--warehouse", str(warehouse), "SELECT 1 AS b"]
    )
    assert result.exit_code == 0, result.output


def test_a_typo_in_the_warehouse_path_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    config = write_config(tmp_path, missing, seed_from=REPO / "warehouse.duckdb.example")
    commands = [
        ["sql", "--warehouse", str(missing), "SELECT 1"],
        ["sql", "--warehouse", str(missing), "--write", "SELECT 1"],
        ["sql", "--config", str(config), "SELECT 1"],
        ["sql", "--config", str(config), "--write", "SELECT 1"],
        ["show", "--config", str(config)],
        ["compare", "--config", str(config)],
    ]
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 7, (command, result.output)
        assert f"{missing}" in result.output and "does not exist" in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert not missing.exists(), command


def test_show_compare_sql_work_on_a_read_only_warehouse(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    model_id = next(r.model_id for r in run_stages(options) if r.model_id)
    assert model_id is not None
    warehouse = options.config_path.parent / "warehouse.duckdb"
    warehouse.chmod(0o444)
    # another process reading it too: a read-write open would be refused, read-only ones share
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}, read_only=True); "
            "print('open', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        config = str(options.config_path)
        for command in (
            ["show", "--config", config],
            ["compare", "--config", config, model_id, model_id],
            ["sql", "--config", config, "--wait", "0", "SELECT count(*) FROM raw.titanic_train"],
        ):
            result = runner.invoke(app, command)
            assert result.exit_code == 0, (command, result.output)
    finally:
        holder.kill()
        holder.wait()
        warehouse.chmod(0o644)


# --- runs lock each other out; readers wait for writes -----------------------------------


def test_run_lock_names_its_holder(tmp_path: Path) -> None:
    lock = tmp_path / "w.duckdb.lock"
    held_by = r"held by another pipeline run \(pid 123, run r-1"
    with (
        run_lock(lock, tmp_path / "w.duckdb", "pid 123, run r-1"),
        pytest.raises(WarehouseError, match=held_by),
        run_lock(lock, tmp_path / "w.duckdb", "pid 456, run r-2"),
    ):
        pass
    assert not lock.exists()
    with run_lock(lock, tmp_path / "w.duckdb", "pid 456, run r-2"):  # free again
        assert "r-2" in lock.read_text()


def test_ingest_takes_the_run_lock(tmp_path: Path) -> None:
    warehouse, data = tmp_path / "new" / "w.duckdb", tmp_path / "rows.csv"
    data.write_text("id,x\n1,a\n2,b\n")
    command = ["ingest", str(data), "--table", "raw.rows", "--warehouse", str(warehouse)]
    warehouse.parent.mkdir()
    with run_lock(Path(f"{warehouse}.lock"), warehouse, "pid 123, run r-1"):
        result = runner.invoke(app, command)
    assert result.exit_code == 7, result.output
    assert "held by another pipeline run (pid 123, run r-1" in result.output
    result = runner.invoke(app, command)  # a new file, once the run is over
    assert result.exit_code == 0, result.output
    assert "raw.rows: 2 rows" in result.output


HOLD_WRITE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold_write(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_reader_waits_for_a_write_in_progress(
    synthetic_project: OptionsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = synthetic_project().config_path
    warehouse = config.parent / "warehouse.duckdb"
    proc = _hold_write(warehouse, 2.0)
    started = time.monotonic()
    table = run_query(config, "SELECT count(*) AS n FROM raw.titanic_train", wait=30)
    waited = time.monotonic() - started
    proc.wait()
    assert table.column("n")[0].as_py() == 400
    assert 0.5 < waited < 20
    assert "waiting for a write in progress" in caplog.text


def test_a_reader_gives_up_after_its_bound(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    warehouse = config.parent / "warehouse.duckdb"
    proc = _hold_write(warehouse, 10.0)
    try:
        result = runner.invoke(app, ["sql", "--config", str(config), "--wait", "0.5", "SELECT 1"])
    finally:
        proc.kill()
        proc.wait()
    assert result.exit_code == 7
    last = result.output.strip().splitlines()[-1]
    assert str(warehouse) in last and f"pid {proc.pid}" in last and "0.5 s" in last


RUN_WITH_HOLDS = """
import logging, sys
from pathlib import Path
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from pipeline.stages.base import RunOptions

handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("pipeline")
log.addHandler(handler)
log.setLevel(logging.DEBUG)
config = Path(sys.argv[1])
run_stages(RunOptions(config, new_run_id(), config.parent / "models", config.parent / "runs"))
"""


@pytest.mark.slow
def test_readers_get_in_while_a_run_runs(tmp_path: Path) -> None:
    """While a run on 200k labelled rows runs, a query once a second always answers, and no
    query waits longer than the longest write the run held."""
    warehouse = tmp_path / "warehouse.duckdb"
    with DuckDBWarehouse(warehouse) as wh:
        generate(wh, REPO / "sql", 200_000, 20_000)
    config = write_config(tmp_path, warehouse, n_estimators="25")
    run = subprocess.Popen(
        [sys.executable, "-c", RUN_WITH_HOLDS, str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    durations = []
    while run.poll() is None:
        started = time.monotonic()
        result = runner.invoke(
            app, ["sql", "--config", str(config), "SELECT count(*) FROM raw.titanic_train"]
        )
        durations.append(time.monotonic() - started)
        assert result.exit_code == 0, result.output
        assert "200000" in result.output
        time.sleep(max(0.0, 1.0 - durations[-1]))
    _, err = run.communicate()
    assert run.returncode == 0, err
    holds = [float(h) for h in re.findall(r"held \S+ read-write for ([0-9.]+) s", err)]
    assert holds, err
    assert len(durations) >= 5
    # a query that met no write takes a few milliseconds; one that met one waits at most for
    # its end (the slack covers the query itself on a busy machine)
    assert max(durations) <= max(holds) + 1.0, (max(durations), max(holds))


def test_bigquery_sql_is_read_only_by_a_dry_run(bigquery_emulator: str, tmp_path: Path) -> None:
    from pipeline.warehouse.bigquery import BigQueryWarehouse

    wh = BigQueryWarehouse("test-proj", endpoint=bigquery_emulator, anonymous=True, timeout=60)
    try:
        wh.ensure_schema("access")
        wh.replace_table("access.t", "SELECT 1 AS a")
        wh.check_read_only("SELECT a FROM `access`.`t`")
        for statement, kind in (
            ("DROP TABLE `access`.`t`", "DROP_TABLE"),
            ("DELETE FROM `access`.`t` WHERE TRUE", "DELETE"),
            ("SELECT 1; SELECT 2", "SCRIPT"),
        ):
            with pytest.raises(ConfigError, match=kind) as caught:
                wh.check_read_only(statement)
            assert "--write" in str(caught.value)
        assert wh.table_exists("access.t")
    finally:
        wh.close()
