"""Bring data files into the warehouse as a raw table: CSV, Parquet or JSON Lines, one file or a
glob, types inferred from every row."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import check_table_name
from pipeline.errors import ConfigError, DataError, WarehouseError
from pipeline.warehouse.base import Warehouse

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


@dataclass
class Ingested:
    table: str
    rows: int
    columns: list[tuple[str, str]]
    files: list[Path]


def resolve_files(pattern: str) -> tuple[list[Path], str]:
    """The files a path or glob names, and their one format."""
    files = (
        sorted(Path(p) for p in glob.glob(pattern)) if glob.has_magic(pattern) else [Path(pattern)]
    )
    files = [f for f in files if f.is_file()]
    if not files:
        raise ConfigError(f"no file matches {pattern}")
    formats = {FORMATS.get(f.suffix.lower()) for f in files}
    if None in formats:
        odd = next(f for f in files if f.suffix.lower() not in FORMATS)
        raise ConfigError(f"{odd}: unknown format; use {', '.join(sorted(FORMATS))} files")
    if len(formats) > 1:
        raise ConfigError(f"{pattern} matches files of several formats: {sorted(formats)}")  # type: ignore[type-var]
    return files, formats.pop()  # type: ignore[return-value]


def ingest(warehouse: Warehouse, pattern: str, table: str, replace: bool = False) -> Ingested:
    """Load the files into `table` (schema.table); refuses to overwrite unless `replace`."""
    check_table_name(table, "--table")
    files, file_format = resolve_files(pattern)
    if warehouse.table_exists(table) and not replace:
        raise ConfigError(f"table {table} already exists; pass --replace to overwrite it")
    warehouse.ensure_schema(table.split(".")[0])
    try:
        with warehouse.transaction():
            rows = warehouse.ingest_files(files, file_format, table)
    except WarehouseError as exc:
        raise DataError(f"cannot read {pattern} as {file_format}: {exc}") from exc
    return Ingested(table, rows, warehouse.describe(table), files)
