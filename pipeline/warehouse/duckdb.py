"""DuckDB, the embedded default: one file on disk, a schema standing in for a BigQuery dataset.

How the file is held lives in `duckdb_file`, the SQL over data files in `duckdb_reading`; this
is the engine's side of the interface: its queries, its catalog and its transactions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from pipeline.config import WarehouseConfig
from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.render.dialect import DUCKDB, Dialect
from pipeline.warehouse.base import SPILL_NAME
from pipeline.warehouse.duckdb_file import DuckDBFile
from pipeline.warehouse.duckdb_reading import ingest_select, jsonl_select, parquet_batches
from pipeline.warehouse.text import check_name, engine_error, one_line, refuse_write

if TYPE_CHECKING:
    import pyarrow as pa

# what `pipeline sql` runs without --write (DESCRIBE, SHOW, SUMMARIZE, FROM and VALUES parse
# as SELECT; a PRAGMA that changes a setting parses as SET)
READ_ONLY_STATEMENTS = frozenset({"SELECT", "PRAGMA"})


class DuckDBWarehouse(DuckDBFile):
    dialect: ClassVar[Dialect] = DUCKDB
    supports_transactions: ClassVar[bool] = True
    reads_files_locally: ClassVar[bool] = True
    # [warehouse] keys passed to DuckDB as settings: a cap on its memory and threads
    option_types: ClassVar[dict[str, type]] = {"memory_limit": str, "threads": int}
    _confined = False

    @classmethod
    def from_config(
        cls,
        config: WarehouseConfig,
        read_only: bool = False,
        on_demand: bool = False,
        create: bool = False,
    ) -> DuckDBWarehouse:
        if config.path is None:
            raise ConfigError("[warehouse] type 'duckdb' needs a path")
        return cls(
            config.path,
            seed_from=config.seed_from,
            read_only=read_only,
            settings=cls._options(config),
            on_demand=on_demand,
            create=create,
        )

    @classmethod
    def _known_keys(cls) -> str:
        return f"path, seed_from, {', '.join(cls.option_types)}"

    @classmethod
    def in_memory(cls, settings: Mapping[str, str | int] | None = None) -> DuckDBWarehouse:
        """A database in memory; settings as [warehouse] passes them (threads = 1: float sums
        added in one order, the same bytes on every run)."""
        return cls(":memory:", settings=settings)

    # --- transactions: the base class's template runs these --------------------------------
    def _begin(self) -> None:
        self._run("BEGIN TRANSACTION")

    def _commit(self) -> None:
        self._run("COMMIT")

    def _rollback(self) -> None:
        self.con.execute("ROLLBACK").fetchall()

    @contextmanager
    def wide_queries(self) -> Iterator[None]:
        """Without statistics propagation: its planning time grows with the square of the
        expressions in a query, which a forest compiled to SQL has by the thousand
        (bench/sql_size.py measures it). Those statistics speed up filters and joins, which a
        compiled model's projection barely has."""
        # a setting lives on the connection: hold one for the whole block
        with self.reading() if self.read_only else self.writing():
            (before,) = self._run("SELECT current_setting('disabled_optimizers')")[0]
            disabled = ",".join(filter(None, [str(before or ""), "statistics_propagation"]))
            self._run(f"SET disabled_optimizers = {self.dialect.literal(disabled)}")
            try:
                yield
            finally:
                self._run(f"SET disabled_optimizers = {self.dialect.literal(str(before or ''))}")

    def register(self, name: str, data: object) -> None:
        """Expose a DataFrame or Arrow table as a view, without copying it."""
        self.con.register(name, data)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    # --- queries ---------------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        self._run(sql)

    def query_arrow(self, sql: str) -> pa.Table:
        with self.reading():
            try:
                relation = self.con.sql(sql)
                if relation is None:  # a statement, not a query
                    raise WarehouseError(one_line(f"not a query (it returns no rows): {sql[:80]}"))
                return relation.to_arrow_table()
            except duckdb.PermissionException as exc:
                if not self._confined:
                    raise WarehouseError(engine_error(exc)) from exc
                raise ConfigError(
                    f"{str(exc).splitlines()[0]}: read-only `pipeline sql` reads "
                    "only the warehouse's own tables; pass --write to read files"
                ) from exc
            except duckdb.Error as exc:
                raise WarehouseError(engine_error(exc)) from exc

    def confine(self) -> None:
        # a setting that can be turned off on an open connection, never back on
        self._settings["enable_external_access"] = False
        self._confined = True
        if self._con is not None:
            self._drain("SET enable_external_access = false", None)

    def check_read_only(self, sql: str) -> None:
        """DuckDB's own parser says what each statement is. A read-only connection already
        refuses writes to the database; this also refuses what writes elsewhere (COPY TO,
        EXPORT, ATTACH, INSTALL/LOAD, SET) and more than one statement."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot parse the query: {str(exc).splitlines()[0]}") from exc
        if len(statements) != 1:
            raise refuse_write([s.type.name for s in statements])
        kind = statements[0].type.name
        if kind == "EXPLAIN":  # EXPLAIN ANALYZE runs its statement: judge that one
            inner = re.sub(r"^\s*EXPLAIN\s+(ANALYZE\s+)?", "", sql, flags=re.IGNORECASE)
            if inner.strip() != sql.strip():
                self.check_read_only(inner)
                return
        if kind not in READ_ONLY_STATEMENTS:
            raise refuse_write([kind])

    def stream_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        # a cursor of its own, so the caller may use the connection while it streams
        with self.reading():
            cursor = self.con.cursor()
            try:
                with self._engine_errors():
                    yield from cursor.sql(sql).to_arrow_reader(batch_rows)
            finally:
                cursor.close()

    def read_out(
        self, sql: str, batch_rows: int, spill_dir: Path
    ) -> tuple[int, Iterator[pa.RecordBatch]]:
        """Copy the rows to a Parquet file and stream that: the warehouse file is held only
        while the copy runs, not while the caller scores them for minutes."""
        import pyarrow.parquet as pq

        spill_dir.mkdir(parents=True, exist_ok=True)
        path = spill_dir / SPILL_NAME
        try:
            self._read(f"COPY ({sql}) TO {self.dialect.literal(str(path))} (FORMAT parquet)")
            total = pq.ParquetFile(path).metadata.num_rows
        except BaseException:  # a failed or interrupted copy leaves no half file behind
            path.unlink(missing_ok=True)
            raise
        if total == 0:  # nothing will iterate the batches, so their cleanup would never run
            path.unlink(missing_ok=True)
            return 0, iter(())
        return total, parquet_batches(path, batch_rows)

    def count_rows(self, sql: str) -> int:
        rows = self._read(f"SELECT count(*) FROM ({sql}) AS q")
        return int(rows[0][0])  # type: ignore[call-overload]

    # --- the catalog -----------------------------------------------------------------------
    def table_exists(self, name: str) -> bool:
        schema, table = check_name(name).split(".")
        rows = self._read(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
        return bool(rows[0][0])

    def describe(self, name: str) -> list[tuple[str, str]]:
        """A view's columns as the catalog remembers them from its creation: the view is also
        bound here, so one over a table that since lost a column is named now, not as an
        engine error from the first query that reads it."""
        schema, table = check_name(name).split(".")
        where = "WHERE table_schema = ? AND table_name = ?"
        with self.reading():
            rows = self._read(
                f"SELECT column_name, data_type FROM information_schema.columns {where} "
                "ORDER BY ordinal_position",
                [schema, table],
            )
            kind = self._read(
                f"SELECT table_type FROM information_schema.tables {where}", [schema, table]
            )
            if kind and kind[0][0] == "VIEW":
                try:
                    self.con.execute(f"SELECT * FROM {self.dialect.quote(name)} LIMIT 0").fetchall()
                except duckdb.Error as exc:
                    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise DataError(
                        f"view {name} no longer matches its table: {one_line(first)}"
                    ) from exc
        return [(str(c), str(t)) for c, t in rows]

    def ensure_schema(self, schema: str) -> None:
        self._run(f"CREATE SCHEMA IF NOT EXISTS {self.dialect.quote(check_name(schema))}")

    def schema_exists(self, schema: str) -> bool:
        rows = self._read(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
            [check_name(schema)],
        )
        return bool(rows[0][0])

    def table_names(self, schema: str) -> list[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
        return sorted(str(r[0]) for r in self._read(sql, [check_name(schema)]))

    # --- loading ---------------------------------------------------------------------------
    def ingest_files(
        self,
        paths: Sequence[Path],
        file_format: str,
        table: str,
        nulls: Sequence[str] = (),
        encoding: str = "utf-8",
        decimal: str = ".",
    ) -> int:
        select = ingest_select(self.dialect, paths, file_format, nulls, encoding, decimal)
        return self.replace_table(check_name(table), select)

    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        return self.replace_table(check_name(table), jsonl_select(self.dialect, paths, columns))

    def replace_rows_from_jsonl(
        self, target: str, paths: Sequence[Path], columns: dict[str, str], key: str, value: str
    ) -> int:
        # one transaction reads the files straight into the target: one write, not two
        t = self.dialect.quote(check_name(target))
        self.ensure_schema(target.split(".")[0])
        select = jsonl_select(self.dialect, paths, columns)
        with self.transaction():
            self._run(f"CREATE TABLE IF NOT EXISTS {t} AS {select} WITH NO DATA")
            self._run(
                f"DELETE FROM {t} WHERE {self.dialect.quote(key)} = {self.dialect.literal(value)}"
            )
            n = int(self._run(f"INSERT INTO {t} BY NAME {select}")[0][0])  # type: ignore[call-overload]
        return n

    def _swap_key_rows(self, target: str, source: str, key: str, value: str) -> None:
        t, s = self.dialect.quote(target), self.dialect.quote(source)
        self._run(
            f"DELETE FROM {t} WHERE {self.dialect.quote(key)} = {self.dialect.literal(value)}"
        )
        self._run(f"INSERT INTO {t} BY NAME SELECT * FROM {s}")
