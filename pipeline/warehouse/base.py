"""The one interface every warehouse implements. Nothing outside `pipeline.warehouse` knows
which warehouse runs: dialect differences are flags here and macros in `sql/macros/`."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.config import WarehouseConfig

_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Warehouse(ABC):
    #: name of the SQL dialect; selects `<dialect>__<macro>` implementations in templates
    dialect: ClassVar[str]
    #: character that quotes identifiers
    quote_char: ClassVar[str] = '"'
    #: whether string literals treat backslash as an escape character
    backslash_escapes: ClassVar[bool] = False
    #: neutral column types ("string", "int", "float", "timestamp") -> this warehouse's names
    type_names: ClassVar[dict[str, str]]
    #: the longest query text the warehouse accepts, in bytes (None: no documented limit)
    max_query_bytes: ClassVar[int | None] = None

    @classmethod
    def quote(cls, name: str, dotted: bool = True) -> str:
        """Quote a plain or `schema.table` identifier; the one place identifiers become SQL.
        `dotted=False` quotes a column name that itself holds dots (`sample.yr`) as one part."""
        q = cls.quote_char
        parts = name.split(".") if dotted else [name]
        if not all(parts):
            raise ValueError(f"empty part in identifier {name!r}")
        return ".".join(q + p.replace(q, q + q) + q for p in parts)

    @classmethod
    def literal(cls, value: Any) -> str:
        """Render a Python value as a SQL literal; the one place values are inlined."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"cannot inline non-finite number {value!r} into SQL")
            return repr(value)
        text = str(value).replace("\\", "\\\\") if cls.backslash_escapes else str(value)
        return "'" + text.replace("'", "''") + "'"

    @classmethod
    @abstractmethod
    def from_config(cls, config: WarehouseConfig) -> Warehouse:
        """Build from the [warehouse] section; each implementation reads its own keys."""

    # --- the interface -------------------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one or more statements that return nothing."""

    @abstractmethod
    def query_arrow(self, sql: str) -> pa.Table:
        """Run a query and return all of its rows (for small results)."""

    @abstractmethod
    def stream_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Run a query and yield its rows in Arrow batches, so memory does not grow with it."""

    @abstractmethod
    def count_rows(self, sql: str) -> int:
        """Number of rows a query returns."""

    @abstractmethod
    def replace_table(self, name: str, select_sql: str) -> int:
        """Create or replace `name` from a query in one atomic step; returns its row count."""

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    @abstractmethod
    def describe(self, name: str) -> list[tuple[str, str]]:
        """(column, type) pairs of a table, in order."""

    @abstractmethod
    def ensure_schema(self, schema: str) -> None: ...

    @abstractmethod
    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        """Load JSON Lines files with an explicit schema (neutral types) into a new table."""

    @abstractmethod
    def replace_rows(self, target: str, source: str, key: str, value: str) -> None:
        """Atomically make the rows of `target` with `key = value` exactly the rows of `source`,
        creating `target` from `source`'s schema if needed, then drop `source`."""

    @abstractmethod
    def ingest_files(
        self,
        paths: Sequence[Path],
        file_format: str,
        table: str,
        nulls: Sequence[str] = (),
        encoding: str = "utf-8",
    ) -> int:
        """Create or replace `table` from data files (csv, parquet or jsonl) with types
        inferred from all their rows, CSV fields equal to one of `nulls` read as NULL;
        returns the row count."""

    def replace_rows_from_jsonl(
        self, target: str, paths: Sequence[Path], columns: dict[str, str], key: str, value: str
    ) -> int:
        """Atomically make the rows of `target` with `key = value` exactly the rows of the JSON
        Lines files; returns their number. By default through a staging table."""
        staging = f"{target}__staging"
        n = self.load_jsonl(paths, staging, columns)
        self.replace_rows(target, staging, key, value)
        return n

    @contextmanager
    def wide_queries(self) -> Iterator[None]:
        """Plan the queries inside for very many expressions (a model compiled to SQL). A
        warehouse whose planner needs different settings for them says so here."""
        yield

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all. Re-entrant: an inner use joins the
        outer transaction."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def check_name(name: str) -> str:
    if not all(_PART.match(p) for p in name.split(".")):
        raise ValueError(f"{name!r} is not a valid table name")
    return name
