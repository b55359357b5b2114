"""The mechanics every warehouse shares live once, in the base class: replacing a key's rows
(gaining the columns a newer pipeline writes), transactions driven by the class flag, and the
SQL DuckDB reads files with, built from the dialect alone."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from pipeline.render.dialect import DUCKDB
from pipeline.warehouse.duckdb import DuckDBWarehouse
from pipeline.warehouse.duckdb_reading import ingest_select, jsonl_select


def _rows(wh: DuckDBWarehouse, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in wh.query_arrow(sql).to_pylist()]


def test_replace_rows_replaces_one_key_and_adds_missing_columns() -> None:
    with DuckDBWarehouse.in_memory() as wh:
        wh.replace_table("p.s", "SELECT * FROM (VALUES ('a', 1), ('b', 2)) AS t(k, v)")
        wh.replace_rows("p.t", "p.s", "k", "a")  # creates the target from the source
        assert not wh.table_exists("p.s")
        assert _rows(wh, "SELECT k, v FROM p.t ORDER BY ALL") == [("a", 1), ("b", 2)]
        # a newer writer: one more column, and only key 'a' is replaced
        wh.replace_table("p.s", "SELECT 'a' AS k, 10 AS v, 'new' AS w")
        wh.replace_rows("p.t", "p.s", "k", "a")
        assert [c for c, _ in wh.describe("p.t")] == ["k", "v", "w"]
        assert _rows(wh, "SELECT k, v, w FROM p.t ORDER BY ALL") == [
            ("a", 10, "new"),
            ("b", 2, None),
        ]


def test_add_missing_columns_and_update_rows() -> None:
    with DuckDBWarehouse.in_memory() as wh:
        wh.replace_table("p.t", "SELECT * FROM (VALUES ('r1', 'x'), ('r2', 'y')) AS t(id, s)")
        wh.add_missing_columns("p.t", [("S", "VARCHAR"), ("notes", "VARCHAR")])  # S is s
        assert [c for c, _ in wh.describe("p.t")] == ["id", "s", "notes"]
        wh.update_rows("p.t", {"notes": "it's so"}, {"id": "r2", "s": "y"})
        assert _rows(wh, "SELECT id, notes FROM p.t ORDER BY id") == [
            ("r1", None),
            ("r2", "it's so"),
        ]


class _NoTransactions(DuckDBWarehouse):
    supports_transactions: ClassVar[bool] = False


@pytest.mark.parametrize("cls", [DuckDBWarehouse, _NoTransactions])
def test_the_class_flag_decides_whether_writes_commit_together(
    cls: type[DuckDBWarehouse],
) -> None:
    with cls.in_memory() as wh:
        wh.replace_table("p.t", "SELECT 1 AS x")
        with pytest.raises(RuntimeError), wh.transaction():
            wh.execute("INSERT INTO p.t VALUES (2)")
            with wh.transaction():  # an inner use joins the outer one
                wh.execute("INSERT INTO p.t VALUES (3)")
            raise RuntimeError("a failure after the writes")
        kept = [x for (x,) in _rows(wh, "SELECT x FROM p.t ORDER BY x")]
        if cls.supports_transactions:
            assert kept == [1] and wh.transaction_note() is None
        else:
            assert kept == [1, 2, 3]
            assert (wh.transaction_note() or "").startswith("ran without a transaction")


def test_file_reading_sql_comes_from_the_dialect_alone() -> None:
    files = [Path("/d/a.csv"), Path("/d/it's.csv")]
    assert ingest_select(DUCKDB, files, "csv", ["", "NA"], "latin-1", ",") == (
        "SELECT * FROM read_csv(['/d/a.csv', '/d/it''s.csv'], header = true, sample_size = -1, "
        "nullstr = ['', 'NA'], encoding = 'latin-1', decimal_separator = ',')"
    )
    assert ingest_select(DUCKDB, files[:1], "parquet", [], "utf-8", ".") == (
        "SELECT * FROM read_parquet(['/d/a.csv'])"
    )
    assert jsonl_select(DUCKDB, [Path("/p.jsonl")], {"id": "string", "n": "int"}) == (
        "SELECT * FROM read_json(['/p.jsonl'], format = 'newline_delimited', "
        "columns = {'id': 'VARCHAR', 'n': 'BIGINT'})"
    )
