"""DuckDB reads files itself: the SELECTs over data files that ingest and the prediction load
run, and the Parquet copy a run scores from while it holds nothing.

The SQL is built from the dialect alone (file paths and columns are values, rendered through
its `literal`), so it is tested without a connection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.vocabulary import FileFormat
from pipeline.render.dialect import Dialect

if TYPE_CHECKING:
    import pyarrow as pa

#: a table function per ingest format, every row read to infer the types
READERS: dict[FileFormat, str] = {
    FileFormat.csv: "read_csv({files}, header = true, sample_size = -1)",
    FileFormat.parquet: "read_parquet({files})",
    FileFormat.jsonl: "read_json({files}, format = 'newline_delimited', sample_size = -1)",
}


def file_list(dialect: Dialect, paths: Sequence[Path]) -> str:
    """The files as a DuckDB list literal."""
    return "[" + ", ".join(dialect.literal(str(p)) for p in paths) + "]"


def jsonl_select(dialect: Dialect, paths: Sequence[Path], columns: dict[str, str]) -> str:
    """A SELECT over JSON Lines files with an explicit schema: no type guessing."""
    cols = ", ".join(
        f"{dialect.literal(c)}: {dialect.literal(dialect.type_name(t))}" for c, t in columns.items()
    )
    return (
        f"SELECT * FROM read_json({file_list(dialect, paths)}, format = 'newline_delimited', "
        f"columns = {{{cols}}})"
    )


def ingest_select(
    dialect: Dialect,
    paths: Sequence[Path],
    file_format: str,
    nulls: Sequence[str],
    encoding: str,
    decimal: str,
) -> str:
    """A SELECT over data files with the types inferred from all their rows; CSV fields equal
    to one of `nulls` become NULL before the types are inferred."""
    reader = READERS[FileFormat(file_format)].format(files=file_list(dialect, paths))
    if file_format == FileFormat.csv:
        tokens = ", ".join(dialect.literal(t) for t in nulls or [""])
        reader = f"{reader[:-1]}, nullstr = [{tokens}], encoding = {dialect.literal(encoding)}"
        if decimal != ".":
            reader += f", decimal_separator = {dialect.literal(decimal)}"
        reader += ")"
    return "SELECT * FROM " + reader


def parquet_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The file's rows in batches of exactly `batch_rows` (the last one shorter), as the
    warehouse's own reader gives them, so parts do not depend on row groups; then delete it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pending: list[pa.RecordBatch] = []
        n = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            pending.append(batch)
            n += batch.num_rows
            while n >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, batch_rows).combine_chunks().to_batches()[0]
                rest = table.slice(batch_rows).combine_chunks()
                pending, n = rest.to_batches(), rest.num_rows
        if n:
            yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
    finally:
        path.unlink(missing_ok=True)
