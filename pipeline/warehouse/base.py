"""The one interface every warehouse implements. Nothing outside `pipeline.warehouse` knows
which warehouse runs: dialect differences are flags here and macros in `sql/macros/`."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Self

from pipeline.core.errors import ConfigError
from pipeline.render.dialect import Dialect

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.config import WarehouseConfig

_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: how long a reader (or a run's write) waits for the warehouse file by default, in seconds
DEFAULT_WAIT = 60.0


def one_line(text: str) -> str:
    """An engine's multi-line error text as one line: the CLI prints one line per error. Lines
    (hints such as "Did you mean ...", the caret under the query) join with "; ", runs of
    whitespace become one space, and a line holding only the caret is dropped."""
    lines = [" ".join(line.split()) for line in str(text).splitlines()]
    return "; ".join(line for line in lines if line.strip("^ "))


def engine_error(exc: BaseException) -> str:
    """The message of a WarehouseError made from an engine's exception: its kind and its text,
    on one line."""
    return one_line(f"{type(exc).__name__}: {exc}")


def refuse_write(kinds: Sequence[str]) -> ConfigError:
    """The one message for what `pipeline sql` will not run without --write: names the kind of
    each statement (DROP, COPY, ...)."""
    if not kinds:
        return ConfigError("no SQL statement given")
    if len(kinds) == 1:
        what = ("an " if kinds[0][:1] in tuple("AEIOU") else "a ") + f"{kinds[0]} statement"
    else:
        what = f"{len(kinds)} statements ({', '.join(kinds)})"
    return ConfigError(
        f"pipeline sql runs one read-only query by default and this is {what}; "
        "pass --write to run statements that change data or write files"
    )


#: the file a warehouse's `read_out` may copy a query's rows to, in the run's directory
SPILL_NAME = "read_out.parquet"


class Warehouse(ABC):
    #: the SQL dialect this warehouse speaks: quoting, literals, type names, query size limit
    dialect: ClassVar[Dialect]
    #: seconds to wait for the warehouse while another process holds it (a warehouse without
    #: locks never waits)
    wait: float = DEFAULT_WAIT

    @classmethod
    @abstractmethod
    def from_config(
        cls, config: WarehouseConfig, read_only: bool = False, on_demand: bool = False
    ) -> Warehouse:
        """Build from the [warehouse] section; each implementation reads its own keys.
        `read_only` never writes (and never creates the warehouse); `on_demand` holds the
        warehouse only inside `reading()`/`writing()` and single calls, not from open to close."""

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
    def schema_exists(self, schema: str) -> bool:
        """Whether the schema (a BigQuery dataset) exists, tables or none."""

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
        decimal: str = ".",
    ) -> int:
        """Create or replace `table` from data files (csv, parquet or jsonl) with types
        inferred from all their rows, CSV fields equal to one of `nulls` read as NULL and
        numbers read with `decimal` as the decimal separator; returns the row count."""

    def replace_rows_from_jsonl(
        self, target: str, paths: Sequence[Path], columns: dict[str, str], key: str, value: str
    ) -> int:
        """Atomically make the rows of `target` with `key = value` exactly the rows of the JSON
        Lines files; returns their number. By default through a staging table."""
        staging = f"{target}__staging"
        n = self.load_jsonl(paths, staging, columns)
        self.replace_rows(target, staging, key, value)
        return n

    def read_out(
        self, sql: str, batch_rows: int, spill_dir: Path
    ) -> tuple[int, Iterator[pa.RecordBatch]]:
        """The query's row count and its rows in batches, read so that iterating them holds
        nothing in the warehouse (a run scores for minutes; readers must get in meanwhile).
        By default the warehouse streams: it has no lock to hold."""
        return self.count_rows(sql), self.stream_batches(sql, batch_rows)

    def check_read_only(self, sql: str) -> None:
        """Refuse (with `refuse_write`) anything but one query that only reads. By default
        sqlglot classifies it in this warehouse's dialect."""
        import sqlglot
        from sqlglot import exp

        try:
            statements = [s for s in sqlglot.parse(sql, read=self.dialect.name) if s is not None]
        except sqlglot.errors.ParseError as exc:
            raise ConfigError(f"cannot parse the query: {str(exc).splitlines()[0]}") from exc
        if len(statements) != 1:
            raise refuse_write([s.key.upper() for s in statements])
        if not isinstance(statements[0], exp.Query | exp.Describe | exp.Show):
            raise refuse_write([statements[0].key.upper()])

    def confine(self) -> None:
        """Let the queries that follow reach only the warehouse's own tables, not files on
        this machine: for read-only ad-hoc SQL, typed by whoever runs `pipeline sql`. A
        warehouse that cannot read local files has nothing to do."""
        return

    def run_lock_path(self) -> Path | None:
        """Where runs on this warehouse lock each other out; None: beside the config."""
        return None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the warehouse for reads in the block (one connection for all of them).
        Re-entrant; a warehouse without locks holds nothing."""
        yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the warehouse for writes in the block; keep it short, readers wait meanwhile.
        Re-entrant; a warehouse without locks holds nothing."""
        yield

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
