"""Build the example DuckDB warehouse from CSV files: one raw table per file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.warehouse.base import check_name
from pipeline.warehouse.duckdb import DuckDBWarehouse

TITANIC = {
    "raw.titanic_train": Path("data/titanic/train.csv"),
    "raw.titanic_test": Path("data/titanic/test.csv"),
}


def csv_tables(items: list[str] | None) -> dict[str, Path]:
    """`--csv SCHEMA.TABLE=PATH` options as tables to build; none given: the Titanic CSVs."""
    if not items:
        return dict(TITANIC)
    tables = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            raise ConfigError(f"--csv {item!r} must be SCHEMA.TABLE=PATH")
        tables[name] = Path(path)
    return tables


def build_warehouse(out: Path, tables: dict[str, Path]) -> dict[str, int]:
    """Write a fresh DuckDB file holding each CSV as a table, replacing `out` in one rename.

    Types are inferred from every row (not a sample), so a rebuild is deterministic."""
    for name, csv in tables.items():
        try:
            check_name(name)
        except ValueError as exc:
            raise ConfigError(f"table name {name!r} must be schema.table") from exc
        if not csv.is_file():
            raise ConfigError(f"CSV file {csv} not found")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    counts: dict[str, int] = {}
    try:
        with DuckDBWarehouse(tmp) as wh:
            for name, csv in tables.items():
                wh.ensure_schema(name.split(".")[0])
                select = (
                    f"SELECT * FROM read_csv({wh.dialect.literal(str(csv))}, header = true, "
                    "sample_size = -1)"
                )
                counts[name] = wh.replace_table(name, select)
            wh.execute("CHECKPOINT")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return counts
