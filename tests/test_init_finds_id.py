"""`pipeline init` without `--id` takes an id the table has: a column named like one (`House
ID`, `customer_id`, `OrderNo`), whole numbers or text, unique and never missing; never a
unique float, a column with repeats or gaps, and `--id auto` still hashes a row key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.tools.init.ids import looks_like_id, name_words
from tests.test_own_data_first_try import ingest, ok


def _table(tmp_path: Path, id_columns: dict[str, object], rows: int = 300) -> Path:
    """A labelled CSV with the given extra columns in front, ingested into raw.d."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            **id_columns,
            "area": rng.normal(100, 20, rows).round(2),
            "city": rng.choice(["a", "b", "c"], rows),
            "sold": rng.integers(0, 2, rows),
        }
    )
    csv = tmp_path / "d.csv"
    frame.to_csv(csv, index=False)
    db = tmp_path / "p" / "warehouse.duckdb"
    ingest(csv, "raw.d", db)
    return db


def _config(tmp_path: Path, *extra: str) -> tuple[str, str]:
    out = ok("init", str(tmp_path / "p"), "--from-table", "raw.d", "--label", "sold", *extra)
    return out, (tmp_path / "p" / "pipeline.toml").read_text()


@pytest.mark.parametrize(
    ("name", "words", "is_id"),
    [
        ("House ID", ["house", "id"], True),
        ("customer_id", ["customer", "id"], True),
        ("OrderNo", ["order", "no"], True),
        ("order.number", ["order", "number"], True),
        ("KEY", ["key"], True),
        ("valid", ["valid"], False),
        ("paid", ["paid"], False),
        ("idea", ["idea"], False),
    ],
)
def test_names_like_an_id(name: str, words: list[str], is_id: bool) -> None:
    assert name_words(name) == words
    assert looks_like_id(name) is is_id


def test_a_text_id_with_a_space_is_the_id(tmp_path: Path) -> None:
    n = 300
    _table(tmp_path, {"House ID": [f"H-{i:05d}" for i in range(1, n + 1)]}, n)
    out, config = _config(tmp_path)
    assert "id: 'House ID' (named like an id, unique and never missing)" in out
    assert 'id = "House_ID"' in config and "row_key" not in config
    assert "# left out: House ID" not in config
    ok("run", "--config", str(tmp_path / "p" / "pipeline.toml"))
    out = ok("sql", "--config", str(tmp_path / "p" / "pipeline.toml"),
             "SELECT min(House_ID) AS first FROM pipeline.predictions")  # fmt: skip
    assert "H-0" in out


def test_integer_ids_even_consecutive_ones(tmp_path: Path) -> None:
    _table(tmp_path, {"customer_id": np.arange(1000, 1300) * 7, "OrderNo": np.arange(1, 301)})
    out, config = _config(tmp_path)
    assert 'id = "customer_id"' in config and "id: 'customer_id'" in out
    # the other id-like column is no feature either way: consecutive, so row numbers
    assert "# left out: OrderNo (row numbers" in config


def test_no_id_like_column_keeps_the_row_key(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 300
    _table(
        tmp_path,
        {
            "Reading No": rng.normal(0, 1, n),  # unique floats: a measurement
            "kunde id": rng.integers(1, 50, n),  # repeats
            "batch_key": [None] + [f"b{i}" for i in range(1, n)],  # a gap
            "weight": np.arange(n) + 0.5,  # unique, but not named like an id
        },
        n,
    )
    out, config = _config(tmp_path)
    assert 'id = "row_key"' in config and "named like an id" not in out


def test_id_auto_still_hashes_a_row_key(tmp_path: Path) -> None:
    _table(tmp_path, {"customer_id": np.arange(300)})
    out, config = _config(tmp_path, "--id", "auto")
    assert 'id = "row_key"' in config and "named like an id" not in out
