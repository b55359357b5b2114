"""Incremental scoring: `--incremental` scores only the rows the model has not scored (by id
and dataset) and appends them in one write; afterwards the predictions table equals a full
re-score, a run with nothing new writes nothing, and a failure mid-way leaves the table as it
was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.stages.runner import run_stages
from pipeline.warehouse import duckdb as wd
from tests.conftest import OptionsFactory
from tests.test_bad_input import warehouse_checksums

#: what a re-score may change: which run wrote a row and how it was scored
VALUES = "PassengerId, dataset, model_id, prediction, score"


def warehouse(options: OptionsFactory) -> Path:
    return options().config_path.parent / "warehouse.duckdb"


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def add_new_rows(path: Path, every: int = 10) -> list[int]:
    """A tenth of the unlabelled rows again under new ids; returns the new ids."""
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO raw.titanic_test SELECT * REPLACE (PassengerId + 1000000 AS "
            f"PassengerId) FROM raw.titanic_test WHERE PassengerId % {every} = 0"
        )
        ids = con.sql("SELECT PassengerId FROM raw.titanic_test WHERE PassengerId > 1000000")
        return sorted(int(r[0]) for r in ids.fetchall())
    finally:
        con.close()


def scored_ids(path: Path, run_id: str) -> list[int]:
    got = rows(path, f"SELECT PassengerId FROM pipeline.predictions WHERE run_id = '{run_id}'")
    return sorted(int(r[0]) for r in got)


@pytest.mark.parametrize(
    "executor",
    [
        "inprocess",
        pytest.param("process", marks=pytest.mark.slow),  # processes
        pytest.param("warehouse", marks=pytest.mark.slow),  # the model compiled to SQL
    ],
)
def test_incremental_scores_only_new_rows_and_equals_a_full_rescore(
    ran_project: OptionsFactory, executor: str
) -> None:
    path = warehouse(ran_project)
    before = rows(path, "SELECT * FROM pipeline.predictions ORDER BY ALL")
    total = rows(path, "SELECT count(*) FROM raw.titanic_test")[0][0]
    new = add_new_rows(path)
    assert len(new) == pytest.approx(total / 10, rel=0.2)

    options = ran_project(executor=executor, workers=2, batch_rows=40, incremental=True)
    (result,) = run_stages(options, ["predict"])
    assert result.rows_out == len(new) and result.details["incremental"]
    assert "predict/unscored.sql" in result.sql_hashes
    assert scored_ids(path, options.run_id) == new
    assert any(f": {len(new)} new rows scored" in m for m in result.messages)
    # the rows already there are untouched, the new ones are test rows
    kept = rows(
        path,
        f"SELECT * FROM pipeline.predictions WHERE run_id <> '{options.run_id}' ORDER BY ALL",
    )
    assert kept == before
    assert rows(
        path, f"SELECT DISTINCT dataset FROM pipeline.predictions WHERE run_id = '{options.run_id}'"
    ) == [("test",)]
    ledger = rows(path, f"SELECT rows_out FROM pipeline.runs WHERE run_id = '{options.run_id}'")
    assert ledger == [(len(new),)]
    # drift is measured on what this run scored: the new rows, not the table
    drifted = rows(
        path,
        f"SELECT DISTINCT dataset, row_count FROM pipeline.drift WHERE run_id = '{options.run_id}'",
    )
    assert drifted == [("test", len(new))]

    incremental = rows(path, f"SELECT {VALUES} FROM pipeline.predictions ORDER BY ALL")
    run_stages(ran_project(executor="inprocess"), ["predict"])
    full = rows(path, f"SELECT {VALUES} FROM pipeline.predictions ORDER BY ALL")
    assert incremental == full


def test_nothing_new_writes_nothing_and_a_model_never_scored_is_scored_in_full(
    ran_project: OptionsFactory,
) -> None:
    path = warehouse(ran_project)
    sums = warehouse_checksums(path)
    for executor in ("inprocess", "warehouse"):  # in the warehouse: counted, never compiled
        options = ran_project(executor=executor, incremental=True)
        (result,) = run_stages(options, ["predict"])
        assert result.rows_out == 0
        notes = [m for m in result.messages if "--incremental" in m]
        assert len(notes) == 1 and "nothing written" in notes[0], result.messages
        assert len(result.messages) == 1, result.messages
        assert warehouse_checksums(path) == sums
        assert not (options.out_dir / options.run_id / "predictions").exists()

    full = rows(path, f"SELECT {VALUES} FROM pipeline.predictions ORDER BY ALL")
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM pipeline.predictions")
    con.close()
    (result,) = run_stages(ran_project(executor="inprocess", incremental=True), ["predict"])
    assert result.rows_out == len(full)
    assert any("has no rows in pipeline.predictions yet" in m for m in result.messages)
    assert rows(path, f"SELECT {VALUES} FROM pipeline.predictions ORDER BY ALL") == full


def test_ctrl_c_during_the_append_leaves_the_table_as_it_was(
    ran_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = warehouse(ran_project)
    add_new_rows(path)
    sums = warehouse_checksums(path)
    original = wd.DuckDBWarehouse._run
    seen = {"insert": False}

    def run(self: wd.DuckDBWarehouse, sql: str, params: Any = None) -> Any:
        if sql.startswith('INSERT INTO "pipeline"."predictions" ('):
            seen["insert"] = True  # the new rows are in, not yet committed
        elif seen["insert"] and sql.startswith("DROP TABLE"):
            raise KeyboardInterrupt
        return original(self, sql, params)

    monkeypatch.setattr(wd.DuckDBWarehouse, "_run", run)
    options = ran_project(executor="inprocess", incremental=True)
    with pytest.raises(KeyboardInterrupt):
        run_stages(options, ["predict"])
    assert seen["insert"]
    monkeypatch.setattr(wd.DuckDBWarehouse, "_run", original)
    assert warehouse_checksums(path) == sums
    assert not (options.out_dir / options.run_id).exists()
    status = rows(path, f"SELECT status FROM pipeline.runs WHERE run_id = '{options.run_id}'")
    assert status == [("interrupted",)]
