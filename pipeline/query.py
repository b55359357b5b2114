"""Ad-hoc SQL on the configured warehouse, printed for people or for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.warehouse import open_warehouse

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("table", "csv", "json", "jsonl")


def run_query(config_path: Path, sql: str) -> pa.Table:
    config = load_config(config_path)
    with open_warehouse(config.warehouse) as wh:
        return wh.query_arrow(sql)


def format_result(table: pa.Table, fmt: str = "table", max_rows: int = 100) -> str:
    """A readable table (truncated with a note past max_rows), CSV, or a JSON array."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(table.to_pylist(), default=str, indent=2)
    if fmt == "jsonl":
        return "\n".join(json.dumps(row, default=str) for row in table.to_pylist())
    df = table.to_pandas()
    if fmt == "csv":
        return str(df.to_csv(index=False)).rstrip("\n")
    if df.empty:
        return " | ".join(table.column_names) + "\n(0 rows)"
    text = str(df.head(max_rows).to_string(index=False, na_rep="NULL"))
    if len(df) > max_rows:
        text += f"\n({len(df):,} rows, first {max_rows} shown; use --format csv for all)"
    return text
