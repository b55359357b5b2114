"""Bring data files into the warehouse as a raw table: CSV, Parquet or JSON Lines, one file or a
glob, types inferred from every row.

CSV exports write missing values as text (`NA`, `N/A`, `NULL`...): those tokens are read as
NULL before the types are inferred, so a numeric column with gaps stays numeric. A file that
does not parse as one table (a row with an extra field, bytes that are not the encoding) is
refused with its name and line, and the table it would have replaced stays as it was."""

from __future__ import annotations

import csv
import glob
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import check_table_name
from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.warehouse.base import Warehouse

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
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
ENCODINGS = ("utf-8", "latin-1")
DECIMALS = (".", ",")
#: a text value that is a number written with a decimal comma (`188,4`, `-0,5`)
_DECIMAL_COMMA = r"-?[0-9]*,[0-9]+"
_DELIMITERS = ",;\t|"


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


def _header_fields(path: Path, encoding: str) -> tuple[list[str], str]:
    """The header's fields and the delimiter that splits it most (a comma if none does)."""
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        header = f.readline()
    delimiter = max(_DELIMITERS, key=lambda d: (header.count(d), d == ","))
    return next(csv.reader([header], delimiter=delimiter), []), delimiter


def _decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            try:
                yield line.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DataError(_encoding_message(path, number, encoding)) from exc


def _encoding_message(path: Path, line: int | str, encoding: str) -> str:
    hint = (
        "; pass --encoding latin-1 if it is Latin-1 / Windows text" if encoding != "latin-1" else ""
    )
    return f"{path}, line {line}: not {encoding.upper()} text{hint}"


def find_ragged_row(path: Path, encoding: str) -> str | None:
    """The first row whose field count differs from the header's, as a message; None if every
    row has the header's count. Only run once the load is known to be wrong."""
    header, delimiter = _header_fields(path, encoding)
    reader = csv.reader(_decoded_lines(path, encoding), delimiter=delimiter)
    next(reader, None)
    for row in reader:
        if row and len(row) != len(header):
            return (
                f"{path}, line {reader.line_num}: {len(row)} fields where the header has "
                f"{len(header)} (delimiter {delimiter!r}); fix or remove that row"
            )
    return None


def _check_shape(files: Sequence[Path], columns: list[tuple[str, str]], encoding: str) -> None:
    """The sniffer reads a file with one ragged row as a single text column: refuse that."""
    header, delimiter = _header_fields(files[0], encoding)
    if len(columns) == len(header):
        return
    for path in files:
        problem = find_ragged_row(path, encoding)
        if problem:
            raise DataError(problem)
    raise DataError(
        f"{files[0]}: read as {len(columns)} column(s) but its header has {len(header)} "
        f"fields split by {delimiter!r}; check the quoting"
    )


def _read_error(exc: WarehouseError, pattern: str, file_format: str, encoding: str) -> DataError:
    """DuckDB's multi-line CSV error as one line: the file, the line, the cause."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    file = re.search(r"^\s*file = (.+)$", text, re.MULTILINE)
    where = f"{file.group(1).strip() if file else pattern}"
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return DataError(_encoding_message(Path(where), line.group(1) if line else "?", encoding))
    first = next((t.strip() for t in text.splitlines() if t.strip()), text)
    if line:
        causes = [t.strip() for t in text.splitlines()[1:4] if t.strip()]
        cause = next((c for c in causes if not c.startswith("Original Line")), first)
        return DataError(f"{where}, line {line.group(1)}: {cause}")
    return DataError(f"cannot read {pattern} as {file_format}: {first}")


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


def ingest(
    warehouse: Warehouse,
    pattern: str,
    table: str,
    replace: bool = False,
    nulls: Sequence[str] | None = None,
    encoding: str = "utf-8",
    decimal: str = ".",
) -> Ingested:
    """Load the files into `table` (schema.table); refuses to overwrite unless `replace`.
    `nulls` replaces the missing-value tokens (NULL_TOKENS) of CSV files; `decimal` is the
    CSV numbers' decimal separator."""
    check_table_name(table, "--table")
    if encoding not in ENCODINGS:
        raise ConfigError(f"--encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if decimal not in DECIMALS:
        raise ConfigError(f"--decimal {decimal!r} is not one of {' '.join(DECIMALS)}")
    tokens = tuple(NULL_TOKENS if nulls is None else nulls)
    files, file_format = resolve_files(pattern)
    if warehouse.table_exists(table) and not replace:
        raise ConfigError(f"table {table} already exists; pass --replace to overwrite it")
    if file_format == "csv":
        for path in files:  # else the sniffer reads it as one column named column0
            if not any(_header_fields(path, encoding)[0]):
                raise DataError(f"{path} has no header row: the first line is empty")
    warehouse.ensure_schema(table.split(".")[0])
    try:
        # one transaction: a file refused after the load leaves the old table as it was
        # the summary too, so that Ctrl-C while it is made rolls the load back with it
        with warehouse.transaction():
            rows = warehouse.ingest_files(files, file_format, table, tokens, encoding, decimal)
            columns = warehouse.describe(table)
            met: dict[str, dict[str, int]] = {}
            notes: list[str] = []
            if file_format == "csv":
                _check_shape(files, columns, encoding)
                met = count_null_tokens(warehouse, files, tokens, encoding)
                notes += _renamed_headers(files[0], columns, encoding)
                if decimal == ".":
                    notes += _decimal_comma_hint(warehouse, table, columns)
    except WarehouseError as exc:
        if "schema mismatch" in str(exc).lower():
            raise _mismatch(files, file_format, encoding) from exc
        raise _read_error(exc, pattern, file_format, encoding) from exc
    return Ingested(table, rows, columns, files, met, notes)


def _renamed_headers(path: Path, columns: list[tuple[str, str]], encoding: str) -> list[str]:
    """A line per header the reader renamed: an empty one (R's row numbers), or a repeat."""
    header, _ = _header_fields(path, encoding)
    if len(header) != len(columns):
        return []
    said = []
    for i, (raw, (name, _)) in enumerate(zip(header, columns, strict=True), 1):
        if raw.strip() == name:
            continue
        what = "empty header" if not raw.strip() else f"header {raw!r}"
        said.append(f"renamed the {what} of column {i} to {name}")
    return said


def _decimal_comma_hint(
    warehouse: Warehouse, table: str, columns: list[tuple[str, str]]
) -> list[str]:
    """A hint when text columns hold only numbers with a decimal comma (`188,4`)."""
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
    ]


def _mismatch(files: Sequence[Path], file_format: str, encoding: str) -> DataError:
    """Globbed files whose columns differ, named, as one line."""
    if file_format != "csv":
        return DataError(f"{', '.join(map(str, files))}: the files have different columns")
    first = _header_fields(files[0], encoding)[0]
    for path in files[1:]:
        other = _header_fields(path, encoding)[0]
        if other != first:
            lacks = [c for c in first if c not in other]
            extra = [c for c in other if c not in first]
            parts = ([f"lacks {lacks}"] if lacks else []) + ([f"has {extra}"] if extra else [])
            what = " and ".join(parts) or "has them in another order"
            return DataError(
                f"{path} and {files[0]} have different columns: {path.name} {what}; "
                "ingest them into separate tables, or make their headers match"
            )
    return DataError(f"{', '.join(map(str, files))}: the files have different columns")
