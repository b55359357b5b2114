"""The one interface every warehouse implements. Nothing outside `pipeline.warehouse` knows
which warehouse runs: dialect differences are flags here and macros in `sql/macros/`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pipeline.core.errors import ConfigError, WarehouseError
from pipeline.render.dialect import Dialect
from pipeline.warehouse.text import check_name, engine_error, one_line, refuse_write

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.config import WarehouseConfig

#: how long a reader (or a run's write) waits for the warehouse file by default, in seconds
DEFAULT_WAIT = 60.0
#: the file a warehouse's `read_out` may copy a query's rows to, in the run's directory
SPILL_NAME = "read_out.parquet"

__all__ = ["DEFAULT_WAIT", "SPILL_NAME", "Warehouse", "check_name", "one_line", "refuse_write"]


class Warehouse(ABC):
    """The interface, and the mechanics every engine shares as template methods: an engine
    implements the steps that differ (`_swap_key_rows`, `_begin`/`_commit`/`_rollback`, how its
    errors read, how it lists tables) and says with class flags what it can do."""

    #: the SQL dialect this warehouse speaks: quoting, literals, type names, query size limit
    dialect: ClassVar[Dialect]
    #: whether the writes inside `transaction()` commit together; without, each write is
    #: atomic on its own and a stage says it ran without a transaction (`transaction_note`)
    supports_transactions: ClassVar[bool] = False
    #: whether SQL reads files on this machine, so ingest may query them (null tokens, commas)
    reads_files_locally: ClassVar[bool] = False
    #: the [warehouse] keys this engine reads, each with the type its value is converted to
    option_types: ClassVar[Mapping[str, type]] = {}
    #: seconds to wait while another process holds the warehouse (one without locks never does)
    wait: float = DEFAULT_WAIT
    # inside `transaction()`: an inner use joins the outer one
    _in_transaction: bool = False

    @classmethod
    @abstractmethod
    def from_config(
        cls, config: WarehouseConfig, read_only: bool = False, on_demand: bool = False
    ) -> Warehouse:
        """Build from the [warehouse] section; each implementation reads its own keys.
        `read_only` never writes (and never creates the warehouse); `on_demand` holds the
        warehouse only inside `reading()`/`writing()` and single calls, not from open to close."""

    @classmethod
    def _options(cls, config: WarehouseConfig) -> dict[str, Any]:
        """The engine's [warehouse] keys, converted; an unknown key fails naming the known."""
        unknown = set(config.options) - set(cls.option_types)
        if unknown:
            raise ConfigError(
                f"[warehouse] unknown keys for {cls.dialect.name}: {sorted(unknown)}; "
                f"known: {cls._known_keys()}"
            )
        return {k: cls.option_types[k](v) for k, v in config.options.items()}

    @classmethod
    def _known_keys(cls) -> str:
        return str(sorted(cls.option_types))

    # --- what each engine implements -----------------------------------------------------
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
    def table_names(self, schema: str) -> list[str]:
        """The tables of one schema (dataset), sorted."""

    @abstractmethod
    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        """Load JSON Lines files with an explicit schema (neutral types) into a new table."""

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

    @abstractmethod
    def _swap_key_rows(self, target: str, source: str, key: str, value: str) -> None:
        """Replace the rows of `target` with `key = value` by all rows of `source` (both
        exist, `target` has every column of `source`), atomically where the engine can."""

    @abstractmethod
    def close(self) -> None: ...

    # --- the shared mechanics -------------------------------------------------------------
    def replace_table(self, name: str, select_sql: str) -> int:
        """Create or replace `name` from a query in one atomic step; returns its row count."""
        self.ensure_schema(check_name(name).split(".")[0])
        self.execute(f"CREATE OR REPLACE TABLE {self.dialect.quote(name)} AS {select_sql}")
        return self.count_rows(f"SELECT 1 FROM {self.dialect.quote(name)}")

    def replace_rows(self, target: str, source: str, key: str, value: str) -> None:
        """Atomically make the rows of `target` with `key = value` exactly the rows of `source`,
        creating `target` from `source`'s schema if needed, then drop `source`."""
        t, s = self.dialect.quote(check_name(target)), self.dialect.quote(check_name(source))
        with self.transaction():
            if not self.table_exists(target):
                self.execute(f"CREATE TABLE {t} AS SELECT * FROM {s} WHERE FALSE")
            self.add_missing_columns(target, self.describe(source))
            self._swap_key_rows(target, source, key, value)
            self.execute(f"DROP TABLE {s}")

    def add_missing_columns(self, target: str, columns: Sequence[tuple[str, str]]) -> None:
        """Add the (column, engine type) pairs `target` lacks: a newer pipeline may write more
        columns than an older run's table has, and earlier rows stay (NULL there) instead of
        the write failing. Names compare case-insensitively, as the engines do."""
        have = {c.lower() for c, _ in self.describe(target)}
        for column, ctype in columns:
            if column.lower() not in have:
                self.execute(
                    f"ALTER TABLE {self.dialect.quote(target)} "
                    f"ADD COLUMN {self.dialect.quote(column)} {ctype}"
                )

    def update_rows(
        self, table: str, values: Mapping[str, object], where: Mapping[str, object]
    ) -> None:
        """Set `values` on the rows whose columns equal all of `where`."""
        q, lit = self.dialect.quote, self.dialect.literal
        sets = ", ".join(f"{q(c)} = {lit(v)}" for c, v in values.items())
        match = " AND ".join(f"{q(c)} = {lit(v)}" for c, v in where.items())
        self.execute(f"UPDATE {q(check_name(table))} SET {sets} WHERE {match}")

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

    # --- holding the warehouse, and transactions ------------------------------------------
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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all, on a warehouse that
        `supports_transactions`. Re-entrant: an inner use joins the outer transaction. On one
        that does not, it groups nothing (each write is atomic on its own): whoever relies on
        it says so with `transaction_note`."""
        if not self.supports_transactions or self._in_transaction:
            yield
            return
        with self.writing():
            self._begin()
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._in_transaction = False
                self._rollback()
                raise
            self._in_transaction = False
            self._commit()

    def transaction_note(self) -> str | None:
        """What a stage says of its writes on this warehouse: None where they commit
        together, else that it ran without a transaction."""
        if self.supports_transactions:
            return None
        return (
            f"ran without a transaction: {self.dialect.name} commits each write on its own, "
            "so a failure can leave part of the stage's writes in place"
        )

    # the steps of `transaction()`, for an engine that `supports_transactions`
    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    # --- engine errors --------------------------------------------------------------------
    @contextmanager
    def _engine_errors(self, doing: str = "") -> Iterator[None]:
        """The engine's own exceptions raised in the block as a WarehouseError with a
        one-line message; `doing` names the step ("load into raw.t") where it helps."""
        try:
            yield
        except self._error_types() as exc:
            raise WarehouseError(self._error_message(exc, doing)) from exc

    def _error_types(self) -> tuple[type[BaseException], ...]:
        return ()  # the exceptions the engine's client raises for a failed statement

    def _error_message(self, exc: BaseException, doing: str) -> str:
        return engine_error(exc)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
