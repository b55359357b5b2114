"""Loading files into one raw table, in one transaction, with what the load noticed."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.core.identifiers import check_table_name
from pipeline.core.vocabulary import DecimalSeparator, Encoding, FileFormat
from pipeline.tools.ingest.append import (
    check_columns,
    insert_sql,
    require_target,
    staging_name,
)
from pipeline.tools.ingest.csv_files import (
    check_shape,
    header_fields,
    mismatch,
    read_error,
    renamed_headers,
)
from pipeline.warehouse.base import Warehouse

#: a file's format by its suffix
SUFFIXES = {
    ".csv": FileFormat.csv,
    ".parquet": FileFormat.parquet,
    ".pq": FileFormat.parquet,
    ".jsonl": FileFormat.jsonl,
    ".ndjson": FileFormat.jsonl,
    ".json": FileFormat.jsonl,
}


#: read as NULL in CSV files: pandas' default missing-value tokens
NULL_TOKENS: tuple[str, ...] = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


#: a text value that is a number written with a decimal comma (`188,4`, `-0,5`)
_DECIMAL_COMMA = r"-?[0-9]*,[0-9]+"


@dataclass
class Ingested:
    table: str
    rows: int
    columns: list[tuple[str, str]]
    files: list[Path]
    #: column -> {token: count} of the missing-value tokens met (CSV on DuckDB only)
    nulls: dict[str, dict[str, int]] = field(default_factory=dict)
    #: what the load changed or suspects, one line each (renamed headers, decimal commas)
    notes: list[str] = field(default_factory=list)
    #: with --append: the table's rows after the append (`rows` are the rows added)
    total: int | None = None


def count_null_tokens(
    warehouse: Warehouse, files: Sequence[Path], tokens: Sequence[str], encoding: str
) -> dict[str, dict[str, int]]:
    """Which missing-value tokens each column held, counted on the files read as text (one more
    scan of the files, in the warehouse); empty fields count as the token ''."""
    wanted = [t for t in tokens if t]
    if not warehouse.reads_files_locally or not tokens:
        return {}
    lit = warehouse.dialect.literal
    paths = "[" + ", ".join(lit(str(p)) for p in files) + "]"
    # read as text, an empty field is NULL
    text = (
        f"read_csv({paths}, header = true, all_varchar = true, sample_size = -1, "
        f"encoding = {lit(encoding)})"
    )
    found: dict[str, dict[str, int]] = {}
    if "" in tokens:
        empty = warehouse.query_arrow(f"SELECT count(*) - count(COLUMNS(*)) FROM {text}")
        for name, counts in empty.to_pydict().items():
            if counts[0]:
                found[name] = {"": int(counts[0])}
    if not wanted:
        return found
    tokens_sql = ", ".join(lit(t) for t in wanted)
    sql = (
        f"SELECT name, value, count(*) AS n FROM (UNPIVOT (SELECT * FROM {text}) "
        "ON COLUMNS(*) INTO NAME name VALUE value) "
        f"WHERE value IN ({tokens_sql}) GROUP BY name, value ORDER BY name, value"
    )
    for row in warehouse.query_arrow(sql).to_pylist():
        found.setdefault(row["name"], {})[row["value"]] = int(row["n"])
    return found


def resolve_files(pattern: str) -> tuple[list[Path], FileFormat]:
    """The files a path or glob names, and their one format."""
    files = (
        sorted(Path(p) for p in glob.glob(pattern)) if glob.has_magic(pattern) else [Path(pattern)]
    )
    files = [f for f in files if f.is_file()]
    if not files:
        raise ConfigError(f"no file matches {pattern}")
    formats = {SUFFIXES.get(f.suffix.lower()) for f in files}
    if None in formats:
        odd = next(f for f in files if f.suffix.lower() not in SUFFIXES)
        raise ConfigError(f"{odd}: unknown format; use {', '.join(sorted(SUFFIXES))} files")
    if len(formats) > 1:
        raise ConfigError(f"{pattern} matches files of several formats: {sorted(formats)}")  # type: ignore[type-var]
    return files, formats.pop()  # type: ignore[return-value]


def ingest(
    warehouse: Warehouse,
    pattern: str,
    table: str,
    replace: bool = False,
    nulls: Sequence[str] | None = None,
    encoding: str = "utf-8",
    decimal: str = ".",
    append: bool = False,
) -> Ingested:
    """Load the files into `table` (schema.table); refuses to overwrite unless `replace`.
    `nulls` replaces the missing-value tokens (NULL_TOKENS) of CSV files; `decimal` is the
    CSV numbers' decimal separator. `append`: add the rows to the existing table instead, all
    or none, once their columns are known to fit it (see `append`)."""
    check_table_name(table, "--table")
    if encoding not in tuple(Encoding):
        raise ConfigError(f"--encoding {encoding!r} is not one of {', '.join(Encoding)}")
    if decimal not in tuple(DecimalSeparator):
        raise ConfigError(f"--decimal {decimal!r} is not one of {' '.join(DecimalSeparator)}")
    tokens = tuple(NULL_TOKENS if nulls is None else nulls)
    files, file_format = resolve_files(pattern)
    if append:
        require_target(warehouse, table, replace)
    elif warehouse.table_exists(table) and not replace:
        raise ConfigError(f"table {table} already exists; pass --replace to overwrite it")
    if file_format == FileFormat.csv:
        for path in files:  # else the sniffer reads it as one column named column0
            if not any(header_fields(path, encoding)[0]):
                raise DataError(f"{path} has no header row: the first line is empty")
    warehouse.ensure_schema(table.split(".")[0])
    loaded = staging_name(table) if append else table  # the new rows as read
    total = None
    try:
        # one transaction: a file refused after the load leaves the old table as it was
        # the summary too, so that Ctrl-C while it is made rolls the load back with it
        with warehouse.transaction():
            rows = warehouse.ingest_files(files, file_format, loaded, tokens, encoding, decimal)
            columns = warehouse.describe(loaded)
            met: dict[str, dict[str, int]] = {}
            notes: list[str] = []
            if file_format == FileFormat.csv:
                check_shape(files, columns, encoding)
                met = count_null_tokens(warehouse, files, tokens, encoding)
                notes += renamed_headers(files[0], columns, encoding)
                if decimal == ".":
                    notes += _decimal_comma_hint(warehouse, loaded, columns, append)
            if append:
                fitted = check_columns(warehouse, table, loaded, files, file_format, encoding)
                warehouse.execute(insert_sql(warehouse, table, loaded, fitted))
                warehouse.execute(f"DROP TABLE {warehouse.dialect.quote(loaded)}")
                columns = warehouse.describe(table)
                total = warehouse.count_rows(f"SELECT 1 FROM {warehouse.dialect.quote(table)}")
    except WarehouseError as exc:
        if "schema mismatch" in str(exc).lower():
            raise mismatch(files, file_format, encoding) from exc
        raise read_error(exc, pattern, file_format, encoding) from exc
    finally:
        if append:  # where a failed load is not rolled back (BigQuery), the staging goes too
            warehouse.execute(f"DROP TABLE IF EXISTS {warehouse.dialect.quote(loaded)}")
    return Ingested(table, rows, columns, files, met, notes, total)


def _decimal_comma_hint(
    warehouse: Warehouse, table: str, columns: list[tuple[str, str]], append: bool = False
) -> list[str]:
    """A hint when text columns hold only numbers with a decimal comma (`188,4`); never to
    --replace a table the rows were appended to (that would drop its other rows)."""
    text = [c for c, t in columns if t.upper() in ("VARCHAR", "STRING")]
    if not warehouse.reads_files_locally or not text:
        return []
    q, lit = warehouse.dialect.quote, warehouse.dialect.literal
    sql = " UNION ALL ".join(
        f"SELECT {lit(c)} AS c FROM {q(table)} HAVING count({q(c, dotted=False)}) > 0 AND "
        f"count(*) FILTER (WHERE regexp_full_match(trim({q(c, dotted=False)}), "
        f"{lit(_DECIMAL_COMMA)})) > 0 AND count(*) FILTER (WHERE NOT regexp_full_match("
        f"trim({q(c, dotted=False)}), {lit(_DECIMAL_COMMA + '|-?[0-9]+')})) = 0"
        for c in text
    )
    found = [r["c"] for r in warehouse.query_arrow(sql).to_pylist()]
    if not found:
        return []
    return [
        f"{', '.join(found)}: text that looks like numbers with a decimal comma; "
        "if so, load again with --decimal , --replace"
        + (" (all the table's files: --replace drops the rows there now)" if append else "")
    ]
