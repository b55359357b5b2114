"""Bring data files into the warehouse as a raw table: CSV, Parquet or JSON Lines, one file or a
glob, types inferred from every row.

CSV exports write missing values as text (`NA`, `N/A`, `NULL`...): those tokens are read as
NULL before the types are inferred, so a numeric column with gaps stays numeric. A file that
does not parse as one table (a row with an extra field, bytes that are not the encoding) is
refused with its name and line, and the table it would have replaced stays as it was.

Modules: `load` (files into a table), `csv_files` (a CSV file's problems, each as one line),
`into` (the warehouse `pipeline ingest` loads into)."""

from pipeline.tools.ingest.csv_files import find_ragged_row
from pipeline.tools.ingest.into import ingest_into, summary
from pipeline.tools.ingest.load import (
    NULL_TOKENS,
    SUFFIXES,
    Ingested,
    count_null_tokens,
    ingest,
    resolve_files,
)

__all__ = [
    "NULL_TOKENS",
    "SUFFIXES",
    "Ingested",
    "count_null_tokens",
    "find_ragged_row",
    "ingest",
    "ingest_into",
    "resolve_files",
    "summary",
]
