"""`pipeline ingest --append`: each night's new rows join the raw table, all or none, once their
columns are known to fit it; the table is left as it was when they do not."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.test_bad_input import warehouse_checksums
from tests.test_own_data_first_try import fails, ingest, ok, types


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_append_adds_rows_with_the_tables_types(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "day1.csv").write_text("id,x,code,note\n1,1.5,007,a\n2,NA,010,\n")
    # the new rows: other column order, whole numbers in the DOUBLE column, a NULL token
    (tmp_path / "day2.csv").write_text("code,id,x,note\n011,3,2,N/A\n012,4,,b\n")
    ingest(tmp_path / "day1.csv", "raw.t", db)
    out = ingest(tmp_path / "day2.csv", "raw.t", db, "--append")
    assert out.splitlines()[0] == "raw.t: 2 rows appended from 1 file(s); 4 rows now"
    assert "  x                        DOUBLE  (missing: '' x1)" in out
    assert "(missing: N/A x1)" in out
    assert types(db, "raw.t") == {"id": "BIGINT", "x": "DOUBLE", "code": "VARCHAR",
                                  "note": "VARCHAR"}  # fmt: skip
    assert _rows(db, "SELECT id, x, code, note FROM raw.t ORDER BY id") == [
        (1, 1.5, "007", "a"),
        (2, None, "010", None),
        (3, 2.0, "011", None),
        (4, None, "012", "b"),
    ]
    # the staging table is gone
    assert _rows(db, "SELECT table_name FROM information_schema.tables") == [("t",)]


def test_append_a_glob_and_an_all_missing_column(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "first.csv").write_text("id,x\n1,2\n")
    (tmp_path / "new-1.csv").write_text("id,x\n2,NA\n")  # x all missing: read as VARCHAR
    (tmp_path / "new-2.csv").write_text("id,x\n3,\n")
    ingest(tmp_path / "first.csv", "raw.g", db)
    out = ingest(tmp_path / "new-*.csv", "raw.g", db, "--append")
    assert out.splitlines()[0] == "raw.g: 2 rows appended from 2 file(s); 3 rows now"
    assert types(db, "raw.g") == {"id": "BIGINT", "x": "BIGINT"}
    assert _rows(db, "SELECT id, x FROM raw.g ORDER BY id") == [(1, 2), (2, None), (3, None)]


def test_append_refuses_rows_that_do_not_fit(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "t.csv").write_text("id,x\n1,1.5\n")
    ingest(tmp_path / "t.csv", "raw.t", db)
    before = warehouse_checksums(db)

    def refused(code: int, text: str, *extra: str) -> str:
        path = tmp_path / "new.csv"
        path.write_text(text)
        return fails(code, "ingest", str(path), "--table", "raw.t", "--warehouse", str(db),
                     *extra).strip()  # fmt: skip

    new = tmp_path / "new.csv"
    assert refused(4, "id\n2\n", "--append") == (
        f"error: {new} has no column 'x', which raw.t has; nothing appended"
    )
    assert refused(4, "id,x,y\n2,1,3\n", "--append") == (
        f"error: {new} has a column 'y', which raw.t has not; nothing appended"
    )
    assert refused(4, "id,x\n2,abc\n", "--append") == (
        f"error: {new}, column 'x': read as VARCHAR, which raw.t's DOUBLE column cannot take; "
        "nothing appended"
    )
    assert refused(2, "id,x\n2,1\n", "--append", "--replace") == (
        "error: give --append or --replace, not both"
    )
    assert warehouse_checksums(db) == before
    assert _rows(db, "SELECT table_name FROM information_schema.tables") == [("t",)]
    # a missing table is refused, not made: a typo would start a table nobody reads
    assert fails(2, "ingest", str(new), "--table", "raw.typo", "--warehouse", str(db),
                 "--append").strip() == (
        "error: table raw.typo does not exist, so there is nothing to append to; load the "
        "first files without --append"
    )  # fmt: skip
    # a table where the new rows would be staged is never overwritten
    con = duckdb.connect(str(db))
    con.sql("CREATE TABLE raw.t__appending AS SELECT 1 AS mine")
    con.close()
    assert fails(2, "ingest", str(new), "--table", "raw.t", "--warehouse", str(db),
                 "--append").strip().startswith("error: table raw.t__appending exists")  # fmt: skip
    assert _rows(db, "SELECT mine FROM raw.t__appending") == [(1,)]
    # and into a warehouse file that does not exist, leaves none behind
    fails(2, "ingest", str(new), "--table", "raw.t", "--warehouse", str(tmp_path / "no.duckdb"),
          "--append")  # fmt: skip
    assert not (tmp_path / "no.duckdb").exists()


def test_append_to_bigquery(tmp_path: Path, bigquery_emulator: str) -> None:
    """On BigQuery the new rows load into a staging table and one INSERT appends them."""
    from pipeline.config import BigQueryConnection
    from pipeline.warehouse.bigquery import BigQueryWarehouse

    wh_toml = tmp_path / "wh.toml"
    wh_toml.write_text(
        '[warehouse]\ntype = "bigquery"\nproject = "test-proj"\nlocation = "US"\n'
        f'endpoint = "{bigquery_emulator}"\nanonymous = true\ntimeout = 60\n'
    )
    (tmp_path / "a.jsonl").write_text('{"id": 1, "x": 1.5}\n{"id": 2, "x": 2.5}\n')
    (tmp_path / "b.jsonl").write_text('{"id": 3, "x": 4}\n')
    (tmp_path / "c.jsonl").write_text('{"id": 4, "x": "abc"}\n')
    ok("ingest", str(tmp_path / "a.jsonl"), "--table", "appending.t", "--warehouse-config",
       str(wh_toml))  # fmt: skip
    out = ok("ingest", str(tmp_path / "b.jsonl"), "--table", "appending.t", "--append",
             "--warehouse-config", str(wh_toml))  # fmt: skip
    assert out.splitlines()[0] == "appending.t: 1 rows appended from 1 file(s); 3 rows now"
    fails(4, "ingest", str(tmp_path / "c.jsonl"), "--table", "appending.t", "--append",
          "--warehouse-config", str(wh_toml))  # fmt: skip
    options = {"project": "test-proj", "location": "US", "endpoint": bigquery_emulator,
               "anonymous": True, "timeout": 60}  # fmt: skip
    with BigQueryWarehouse.from_config(BigQueryConnection(type="bigquery", **options)) as wh:
        rows = wh.query_arrow("SELECT id, x FROM appending.t ORDER BY id").to_pylist()
        assert [(r["id"], r["x"]) for r in rows] == [(1, 1.5), (2, 2.5), (3, 4.0)]
        assert wh.table_names("appending") == ["t"]


def test_a_decimal_comma_hint_on_append_warns_what_replace_drops(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    (tmp_path / "a.csv").write_text("a;b\n188,4;x\n")
    (tmp_path / "b.csv").write_text("a;b\n-0,5;y\n")
    ingest(tmp_path / "a.csv", "raw.dc", db)
    out = ingest(tmp_path / "b.csv", "raw.dc", db, "--append")
    assert (
        "a: text that looks like numbers with a decimal comma; if so, load again with "
        "--decimal , --replace (all the table's files: --replace drops the rows there now)"
    ) in out
