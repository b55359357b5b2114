"""The example warehouse opens with the declared DuckDB and equals the CSVs row for row."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.tools.example import TITANIC, build_warehouse
from tests.conftest import REPO

EXAMPLE = REPO / "warehouse.duckdb.example"


def _read(path: Path, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {table} ORDER BY PassengerId").df()
    finally:
        con.close()


def test_duckdb_is_in_the_declared_range() -> None:
    """A range, not one patch release: 2.0.0 loses rows of a GROUP BY after a load in the same
    connection (tests/test_warehouse_load.py), and a later 2.x must still install."""
    declared = re.search(r'"duckdb>=([0-9.]+),<([0-9]+)"', (REPO / "pyproject.toml").read_text())
    assert declared, "pyproject.toml declares duckdb as a range >=X,<Y"
    have = tuple(int(x) for x in metadata.version("duckdb").split(".")[:3])
    low = tuple(int(x) for x in declared.group(1).split("."))
    assert low <= have < (int(declared.group(2)),)


@pytest.mark.parametrize(
    ("table", "csv", "rows"),
    [
        ("raw.titanic_train", "data/titanic/train.csv", 891),
        ("raw.titanic_test", "data/titanic/test.csv", 418),
    ],
)
def test_example_equals_csv_row_for_row(table: str, csv: str, rows: int) -> None:
    expected = pd.read_csv(REPO / csv).sort_values("PassengerId", ignore_index=True)
    actual = _read(EXAMPLE, table)
    assert len(actual) == rows
    assert list(actual.columns) == list(expected.columns)
    for column in expected.columns:
        want = expected[column]
        got = actual[column]
        if pd.api.types.is_numeric_dtype(want):
            # ints with no nulls stay ints; columns with nulls compare as floats, NaN == NULL
            pd.testing.assert_series_equal(got.astype("float64"), want.astype("float64"))
        else:
            assert got.fillna("<null>").tolist() == want.fillna("<null>").tolist(), column


def test_rebuild_reproduces_the_example(tmp_path: Path) -> None:
    out = tmp_path / "rebuilt.duckdb"
    counts = build_warehouse(out, {name: REPO / csv for name, csv in TITANIC.items()})
    assert counts == {"raw.titanic_train": 891, "raw.titanic_test": 418}
    for table in counts:
        pd.testing.assert_frame_equal(_read(out, table), _read(EXAMPLE, table))
