"""`pipeline ingest --append`: new rows into an existing raw table, all or none.

The files are read exactly as a new table would be (the same type inference, missing-value
tokens, encoding, decimal separator) into a staging table beside the target; their columns are
then checked against the table's, and one INSERT adds the rows. On DuckDB the staging, the
check and the INSERT are one transaction; on BigQuery the files load into the staging table
and the one INSERT statement is the only write to the table, so either way a refused or failed
append leaves the table as it was."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.vocabulary import ColumnType, FileFormat
from pipeline.tools.ingest.csv_files import header_fields
from pipeline.warehouse.base import Warehouse

#: the staging table's suffix: the new rows as read, before they join the table
STAGING_SUFFIX = "__appending"

#: type names (either engine) -> the kind they hold; a name not listed is its own kind
_KINDS = {
    **dict.fromkeys(
        (
            *("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "INT64", "INT"),
            *("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
        ),
        ColumnType.int,
    ),
    **dict.fromkeys(
        ("FLOAT", "DOUBLE", "REAL", "FLOAT64", "DECIMAL", "NUMERIC", "BIGNUMERIC"),
        ColumnType.float,
    ),
    **dict.fromkeys(("VARCHAR", "STRING", "TEXT"), ColumnType.string),
    **dict.fromkeys(("BOOLEAN", "BOOL"), ColumnType.bool),
    **dict.fromkeys(
        ("TIMESTAMP", "DATETIME", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS"),
        ColumnType.timestamp,
    ),
}
#: what a column of each kind takes besides its own kind: a whole number is a number, a date
#: is a timestamp at midnight, and anything can be written as text
_TAKES: dict[str, set[str]] = {
    ColumnType.float: {ColumnType.int},
    ColumnType.timestamp: {"DATE"},
    ColumnType.string: {*ColumnType, "DATE", "TIME"},
}


def kind(sql_type: str) -> str:
    """The kind of values a column of this type holds (int, float, string...)."""
    name = sql_type.upper().split("(")[0].strip()
    return str(_KINDS.get(name, name))


def staging_name(table: str) -> str:
    return f"{table}{STAGING_SUFFIX}"


def _named(files: Sequence[Path]) -> str:
    return ", ".join(map(str, files))


def _lacking(files: Sequence[Path], file_format: str, encoding: str, column: str) -> str:
    """The file a column is missing from: a CSV file's header says; else all of them."""
    if file_format == FileFormat.csv:
        for path in files:
            if column not in header_fields(path, encoding)[0]:
                return str(path)
    return _named(files)


def check_columns(
    warehouse: Warehouse,
    table: str,
    staged: str,
    files: Sequence[Path],
    file_format: str,
    encoding: str,
) -> list[tuple[str, str, str]]:
    """(column, the table's type, the staged type) for every column of the table, once the new
    rows' columns are known to match it: the same names, and types the table can take (an
    all-missing column takes any type). A DataError naming the file and column otherwise."""
    target = warehouse.describe(table)
    new = dict(warehouse.describe(staged))
    names = [c for c, _ in target]
    for column in names:
        if column not in new:
            where = _lacking(files, file_format, encoding, column)
            raise DataError(
                f"{where} has no column {column!r}, which {table} has; nothing appended"
            )
    for column in new:
        if column not in names:
            raise DataError(
                f"{_named(files)} has a column {column!r}, which {table} has not; nothing appended"
            )
    q, col = warehouse.dialect.quote, warehouse.dialect.column
    counts = warehouse.query_arrow(
        "SELECT "
        + ", ".join(f"count({col(c)}) AS c{i}" for i, c in enumerate(names))
        + f" FROM {q(staged)}"
    ).to_pylist()[0]
    for i, (column, sql_type) in enumerate(target):
        theirs, ours = kind(new[column]), kind(sql_type)
        if theirs == ours or theirs in _TAKES.get(ours, set()) or not counts[f"c{i}"]:
            continue
        raise DataError(
            f"{_named(files)}, column {column!r}: read as "
            f"{new[column]}, which {table}'s {sql_type} column cannot take; nothing appended"
        )
    return [(c, t, new[c]) for c, t in target]


def insert_sql(
    warehouse: Warehouse, table: str, staged: str, columns: list[tuple[str, str, str]]
) -> str:
    """One INSERT of the staged rows, each column cast to the table's type where it differs."""
    q, col = warehouse.dialect.quote, warehouse.dialect.column
    picks = []
    for name, sql_type, new_type in columns:
        if new_type.upper() == sql_type.upper():
            picks.append(col(name))
            continue
        ours = kind(sql_type)
        exact = sql_type.upper().split("(")[0] in ("DECIMAL", "NUMERIC", "BIGNUMERIC")
        # the neutral name where the engine's own differs from what CAST takes (BigQuery's FLOAT)
        to = (
            warehouse.dialect.type_name(ours)
            if ours in tuple(ColumnType) and not exact
            else sql_type
        )
        picks.append(f"CAST({col(name)} AS {to})")
    names = ", ".join(col(c) for c, _, _ in columns)
    return f"INSERT INTO {q(table)} ({names}) SELECT {', '.join(picks)} FROM {q(staged)}"


def require_target(warehouse: Warehouse, table: str, replace: bool) -> None:
    """--append adds to a table that exists; it never replaces one, nor makes one (a typo in
    the name would otherwise start a new table the nightly job never reads)."""
    if replace:
        raise ConfigError("give --append or --replace, not both")
    if not warehouse.table_exists(table):
        raise ConfigError(
            f"table {table} does not exist, so there is nothing to append to; load the first "
            "files without --append"
        )
    staged = staging_name(table)
    if warehouse.table_exists(staged):  # never overwrite (then drop) a table of that name
        raise ConfigError(
            f"table {staged} exists: a table of yours, or what a killed append left; "
            f'drop it (pipeline sql --write "DROP TABLE {staged}") or rename it, then append'
        )
