"""`pipeline ingest` says what it changed or suspects: renamed headers (R's empty one, repeats),
empty fields among the missing values, decimal commas (and reads them with --decimal ,), and
globbed files whose columns differ (refused in one line, the table left as it was)."""

from __future__ import annotations

from pathlib import Path

from tests.test_bad_input import warehouse_checksums
from tests.test_own_data_first_try import fails, ingest, types


def test_renamed_headers_and_empty_fields_are_reported(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(',x,x,y\n1,1,2,NA\n2,,3,\n3,4,5,""\n')
    out = ingest(csv, "raw.r", tmp_path / "w.duckdb")
    assert "renamed the empty header of column 1 to column0" in out
    assert "renamed the header 'x' of column 3 to x_1" in out
    assert "  x                        BIGINT  (missing: '' x1)" in out
    assert "(missing: '' x2, NA x1)" in out


def test_decimal_commas_get_a_hint_and_are_read_with_decimal(tmp_path: Path) -> None:
    csv = tmp_path / "dc.csv"
    csv.write_text("a;b;c\n188,4;x;1\n-0,5;y;2\n3;z;\n")
    db = tmp_path / "w.duckdb"
    out = ingest(csv, "raw.dc", db)
    assert (
        "a: text that looks like numbers with a decimal comma; if so, load again with "
        "--decimal , --replace"
    ) in out
    assert types(db, "raw.dc")["a"] == "VARCHAR"
    out = ingest(csv, "raw.dc", db, "--decimal", ",", "--replace")
    assert "decimal comma" not in out
    assert types(db, "raw.dc")["a"] == "DOUBLE"
    assert fails(2, "ingest", str(csv), "--table", "raw.dc", "--warehouse", str(db),
                 "--decimal", ":").strip() == "error: --decimal ':' is not one of . ,"  # fmt: skip


def test_globbed_files_with_other_columns_are_named(tmp_path: Path) -> None:
    (tmp_path / "g1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "g2.csv").write_text("a,c\n1,2\n")
    db = tmp_path / "w.duckdb"
    ingest(tmp_path / "g1.csv", "raw.g", db)
    before = warehouse_checksums(db)
    out = fails(4, "ingest", str(tmp_path / "g*.csv"), "--table", "raw.g", "--warehouse",
                str(db), "--replace")  # fmt: skip
    assert out.strip() == (
        f"error: {tmp_path / 'g2.csv'} and {tmp_path / 'g1.csv'} have different columns: "
        "g2.csv lacks ['b'] and has ['c']; ingest them into separate tables, or make their "
        "headers match"
    )
    assert warehouse_checksums(db) == before
