"""DuckDB, the embedded default: one file on disk, a schema standing in for a BigQuery dataset."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from pipeline.config import WarehouseConfig
from pipeline.errors import ConfigError, WarehouseError
from pipeline.warehouse.base import Warehouse, check_name

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("pipeline")

# [warehouse] keys passed to DuckDB as settings: a cap on its memory and threads
SETTINGS: dict[str, type] = {"memory_limit": str, "threads": int}


class DuckDBWarehouse(Warehouse):
    dialect: ClassVar[str] = "duckdb"
    quote_char: ClassVar[str] = '"'
    type_names: ClassVar[dict[str, str]] = {
        "string": "VARCHAR",
        "int": "BIGINT",
        "float": "DOUBLE",
        "bool": "BOOLEAN",
        "timestamp": "TIMESTAMP",
    }

    def __init__(
        self,
        path: Path | str,
        seed_from: Path | None = None,
        read_only: bool = False,
        settings: Mapping[str, str | int] | None = None,
    ):
        self.path = Path(path)
        self._in_transaction = False
        if str(path) != ":memory:" and not self.path.exists():
            if seed_from is not None and seed_from.exists():
                shutil.copyfile(seed_from, self.path)
                log.info("created %s from %s", self.path, seed_from)
            elif read_only:
                raise WarehouseError(f"warehouse file {self.path} does not exist")
        try:
            self.con = duckdb.connect(str(path), read_only=read_only, config=dict(settings or {}))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseError(
                    f"warehouse {self.path} is held by another process (another pipeline run "
                    "or a DuckDB session has it open); try again when it has finished"
                ) from exc
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> DuckDBWarehouse:
        if config.path is None:
            raise ConfigError("[warehouse] type 'duckdb' needs a path")
        unknown = set(config.options) - set(SETTINGS)
        if unknown:
            raise ConfigError(
                f"[warehouse] unknown keys for duckdb: {sorted(unknown)}; "
                f"known: path, seed_from, {', '.join(SETTINGS)}"
            )
        settings = {k: SETTINGS[k](v) for k, v in config.options.items()}
        return cls(config.path, seed_from=config.seed_from, settings=settings)

    @classmethod
    def in_memory(cls) -> DuckDBWarehouse:
        return cls(":memory:")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self._run("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self.con.execute("ROLLBACK").fetchall()
            raise
        self._in_transaction = False
        self._run("COMMIT")

    @contextmanager
    def wide_queries(self) -> Iterator[None]:
        """Without statistics propagation: its time grows with the square of the expressions
        in a query, and a 300-tree forest compiled to SQL took 30 s to plan with it and 2.5 s
        without (measured with DuckDB 2.0.0). Those statistics speed up filters and joins,
        which a compiled model's projection barely has."""
        (before,) = self._run("SELECT current_setting('disabled_optimizers')")[0]
        disabled = ",".join(filter(None, [str(before or ""), "statistics_propagation"]))
        self._run(f"SET disabled_optimizers = {self.literal(disabled)}")
        try:
            yield
        finally:
            self._run(f"SET disabled_optimizers = {self.literal(str(before or ''))}")

    def register(self, name: str, data: object) -> None:
        """Expose a DataFrame or Arrow table as a view, without copying it."""
        self.con.register(name, data)

    def _run(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Execute and drain: DuckDB 2 refuses new work while a result is unread."""
        try:
            return self.con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"{type(exc).__name__}: {exc}") from exc

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query_arrow(self, sql: str) -> pa.Table:
        try:
            relation = self.con.sql(sql)
            if relation is None:  # a statement, not a query
                raise WarehouseError(f"not a query (it returns no rows): {sql[:80]}")
            return relation.to_arrow_table()
        except duckdb.Error as exc:
            raise WarehouseError(f"{type(exc).__name__}: {exc}") from exc

    def stream_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        # a cursor of its own, so the caller may use the connection while it streams
        cursor = self.con.cursor()
        try:
            reader = cursor.sql(sql).to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as exc:
            raise WarehouseError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            cursor.close()

    def count_rows(self, sql: str) -> int:
        return int(self._run(f"SELECT count(*) FROM ({sql}) AS q")[0][0])  # type: ignore[call-overload]

    def replace_table(self, name: str, select_sql: str) -> int:
        check_name(name)
        self.ensure_schema(name.split(".")[0])
        self._run(f"CREATE OR REPLACE TABLE {self.quote(name)} AS {select_sql}")
        return self.count_rows(f"SELECT * FROM {self.quote(name)}")

    def table_exists(self, name: str) -> bool:
        schema, table = check_name(name).split(".")
        rows = self._run(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
        return bool(rows[0][0])

    def describe(self, name: str) -> list[tuple[str, str]]:
        schema, table = check_name(name).split(".")
        rows = self._run(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        )
        return [(str(c), str(t)) for c, t in rows]

    def ensure_schema(self, schema: str) -> None:
        self._run(f"CREATE SCHEMA IF NOT EXISTS {self.quote(check_name(schema))}")

    def _read_jsonl(self, paths: Sequence[Path], columns: dict[str, str]) -> str:
        """A SELECT over JSON Lines files with an explicit schema: no type guessing."""
        files = "[" + ", ".join(self.literal(str(p)) for p in paths) + "]"
        cols = ", ".join(
            f"{self.literal(c)}: {self.literal(self.type_names[t])}" for c, t in columns.items()
        )
        return (
            f"SELECT * FROM read_json({files}, format = 'newline_delimited', columns = {{{cols}}})"
        )

    READERS: ClassVar[dict[str, str]] = {
        "csv": "read_csv({files}, header = true, sample_size = -1)",
        "parquet": "read_parquet({files})",
        "jsonl": "read_json({files}, format = 'newline_delimited', sample_size = -1)",
    }

    def ingest_files(
        self,
        paths: Sequence[Path],
        file_format: str,
        table: str,
        nulls: Sequence[str] = (),
        encoding: str = "utf-8",
    ) -> int:
        files = "[" + ", ".join(self.literal(str(p)) for p in paths) + "]"
        reader = self.READERS[file_format].format(files=files)
        if file_format == "csv":
            # missing-value tokens become NULL before the types are inferred
            tokens = ", ".join(self.literal(t) for t in nulls or [""])
            reader = f"{reader[:-1]}, nullstr = [{tokens}], encoding = {self.literal(encoding)})"
        return self.replace_table(check_name(table), "SELECT * FROM " + reader)

    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        check_name(table)
        return self.replace_table(table, self._read_jsonl(paths, columns))

    def replace_rows_from_jsonl(
        self, target: str, paths: Sequence[Path], columns: dict[str, str], key: str, value: str
    ) -> int:
        # one transaction reads the files straight into the target: one write, not two
        t = self.quote(check_name(target))
        self.ensure_schema(target.split(".")[0])
        select = self._read_jsonl(paths, columns)
        with self.transaction():
            self._run(f"CREATE TABLE IF NOT EXISTS {t} AS {select} WITH NO DATA")
            self._run(f"DELETE FROM {t} WHERE {self.quote(key)} = {self.literal(value)}")
            n = int(self._run(f"INSERT INTO {t} BY NAME {select}")[0][0])  # type: ignore[call-overload]
        return n

    def _add_missing_columns(self, target: str, source: str) -> None:
        """A newer pipeline may write more columns than an older run's table has: add them,
        so earlier rows stay (with NULL there) instead of the write failing."""
        have = {c.lower() for c, _ in self.describe(target)}  # names are case-insensitive
        for column, ctype in self.describe(source):
            if column.lower() not in have:
                self._run(
                    f"ALTER TABLE {self.quote(target)} ADD COLUMN {self.quote(column)} {ctype}"
                )

    def replace_rows(self, target: str, source: str, key: str, value: str) -> None:
        t, s = self.quote(check_name(target)), self.quote(check_name(source))
        with self.transaction():
            self._run(f"CREATE TABLE IF NOT EXISTS {t} AS SELECT * FROM {s} WHERE FALSE")
            self._add_missing_columns(target, source)
            self._run(f"DELETE FROM {t} WHERE {self.quote(key)} = {self.literal(value)}")
            self._run(f"INSERT INTO {t} BY NAME SELECT * FROM {s}")
            self._run(f"DROP TABLE {s}")

    def close(self) -> None:
        self.con.close()
