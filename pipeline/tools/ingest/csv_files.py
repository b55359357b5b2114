"""What a CSV file says about itself when a load goes wrong: its header, its delimiter, the
row whose field count is off, the line that is not the encoding; each as one line."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.core.errors import DataError, WarehouseError
from pipeline.core.vocabulary import FileFormat

_DELIMITERS = ",;\t|"


def header_fields(path: Path, encoding: str) -> tuple[list[str], str]:
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
                raise DataError(encoding_message(path, number, encoding)) from exc


def encoding_message(path: Path, line: int | str, encoding: str) -> str:
    hint = (
        "; pass --encoding latin-1 if it is Latin-1 / Windows text" if encoding != "latin-1" else ""
    )
    return f"{path}, line {line}: not {encoding.upper()} text{hint}"


def find_ragged_row(path: Path, encoding: str) -> str | None:
    """The first row whose field count differs from the header's, as a message; None if every
    row has the header's count. Only run once the load is known to be wrong."""
    header, delimiter = header_fields(path, encoding)
    reader = csv.reader(_decoded_lines(path, encoding), delimiter=delimiter)
    next(reader, None)
    for row in reader:
        if row and len(row) != len(header):
            return (
                f"{path}, line {reader.line_num}: {len(row)} fields where the header has "
                f"{len(header)} (delimiter {delimiter!r}); fix or remove that row"
            )
    return None


def check_shape(files: Sequence[Path], columns: list[tuple[str, str]], encoding: str) -> None:
    """The sniffer reads a file with one ragged row as a single text column: refuse that."""
    header, delimiter = header_fields(files[0], encoding)
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


def read_error(exc: WarehouseError, pattern: str, file_format: str, encoding: str) -> DataError:
    """DuckDB's multi-line CSV error as one line: the file, the line, the cause."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    file = re.search(r"^\s*file = (.+)$", text, re.MULTILINE)
    where = f"{file.group(1).strip() if file else pattern}"
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return DataError(encoding_message(Path(where), line.group(1) if line else "?", encoding))
    first = next((t.strip() for t in text.splitlines() if t.strip()), text)
    if line:
        causes = [t.strip() for t in text.splitlines()[1:4] if t.strip()]
        cause = next((c for c in causes if not c.startswith("Original Line")), first)
        return DataError(f"{where}, line {line.group(1)}: {cause}")
    return DataError(f"cannot read {pattern} as {file_format}: {first}")


def renamed_headers(path: Path, columns: list[tuple[str, str]], encoding: str) -> list[str]:
    """A line per header the reader renamed: an empty one (R's row numbers), or a repeat."""
    header, _ = header_fields(path, encoding)
    if len(header) != len(columns):
        return []
    said = []
    for i, (raw, (name, _)) in enumerate(zip(header, columns, strict=True), 1):
        if raw.strip() == name:
            continue
        what = "empty header" if not raw.strip() else f"header {raw!r}"
        said.append(f"renamed the {what} of column {i} to {name}")
    return said


def mismatch(files: Sequence[Path], file_format: str, encoding: str) -> DataError:
    """Globbed files whose columns differ, named, as one line."""
    if file_format != FileFormat.csv:
        return DataError(f"{', '.join(map(str, files))}: the files have different columns")
    first = header_fields(files[0], encoding)[0]
    for path in files[1:]:
        other = header_fields(path, encoding)[0]
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
