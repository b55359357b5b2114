"""What init reads from a table before proposing anything: its columns, a profile of their
values, its label, and the columns that only number the rows."""

from __future__ import annotations

from typing import Any

from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.core.vocabulary import ColumnType
from pipeline.warehouse.base import Warehouse

NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
    "DECIMAL",
    "INT64",
    "FLOAT64",
    "NUMERIC",
    "BIGNUMERIC",
)
#: a text column with more distinct values than this share of its rows is an identifier
MAX_DISTINCT_SHARE = 0.5


def is_numeric(sql_type: str) -> bool:
    return sql_type.upper().split("(")[0] in NUMERIC


def tables_in(warehouse: Warehouse, schema: str) -> list[str]:
    """The tables of one schema (dataset), for an error message; empty if they cannot be listed."""
    try:
        return warehouse.table_names(schema)
    except (WarehouseError, ValueError):
        return []


def require_table(warehouse: Warehouse, table: str) -> list[tuple[str, str]]:
    """The table's columns; a one-line error naming the schema's tables if it does not exist."""
    if not warehouse.table_exists(table):
        schema = table.split(".")[0]
        found = tables_in(warehouse, schema)
        listed = ", ".join(f"{schema}.{t}" for t in found) if found else "none"
        raise ConfigError(f"table {table} does not exist; tables in {schema}: {listed}")
    return warehouse.describe(table)


def check_label(warehouse: Warehouse, table: str, label: str) -> int:
    """The rows without a label (they are left out of the labelled view); DataError when
    there is nothing to learn: no rows, no label in any row, or one label value in all."""
    columns = [c for c, _ in require_table(warehouse, table)]
    if label not in columns:
        raise ConfigError(f"table {table} has no column {label!r}; it has {columns}")
    col = warehouse.dialect.quote(label, dotted=False)
    found = warehouse.query_arrow(
        f"SELECT count(*) AS n, count({col}) AS labelled, count(DISTINCT {col}) AS values_, "
        f"CAST(min({col}) AS {warehouse.dialect.type_name(ColumnType.string)}) AS low "
        f"FROM {warehouse.dialect.quote(table)}"
    ).to_pylist()[0]
    rows, labelled = int(found["n"]), int(found["labelled"])
    if rows == 0:
        raise DataError(f"table {table} has no rows: nothing to propose features from")
    if labelled == 0:
        raise DataError(
            f"label column {label!r} of {table} is NULL in all {rows:,} rows: "
            "name the label with --label"
        )
    if int(found["values_"]) == 1:
        raise DataError(
            f"label column {label!r} of {table} has one value ({found['low']}) in all "
            f"{labelled:,} labelled rows: nothing to learn"
        )
    return rows - labelled


def find_row_numbers(
    warehouse: Warehouse, table: str, columns: dict[str, str], profile: dict[str, Any]
) -> set[str]:
    """Integer columns whose values are the row numbers (R's unnamed first column, pandas'
    index): one distinct value per row, consecutive."""
    ints = [
        c
        for c, t in columns.items()
        if is_numeric(t)
        and "INT" in t.upper()
        and profile[c]["nulls"] == 0
        and profile[c]["distinct_values"] == profile[c]["row_count"] > 1
    ]
    if not ints:
        return set()
    q = warehouse.dialect.quote
    sql = " UNION ALL ".join(
        f"SELECT {warehouse.dialect.literal(c)} AS c, max({q(c, dotted=False)}) - "
        f"min({q(c, dotted=False)}) + 1 AS span FROM {q(table)}"
        for c in ints
    )
    return {
        r["c"]
        for r in warehouse.query_arrow(sql).to_pylist()
        if int(r["span"]) == profile[r["c"]]["row_count"]
    }
