"""DuckDB, the embedded default: one file on disk, a schema standing in for a BigQuery dataset."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from pipeline.config import WarehouseConfig
from pipeline.core.errors import ConfigError, DataError, WarehouseError
from pipeline.render.dialect import DUCKDB, Dialect
from pipeline.warehouse.base import (
    DEFAULT_WAIT,
    SPILL_NAME,
    Warehouse,
    check_name,
    engine_error,
    one_line,
    refuse_write,
)
from pipeline.warehouse.lock import describe_holder

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("pipeline")

# [warehouse] keys passed to DuckDB as settings: a cap on its memory and threads
SETTINGS: dict[str, type] = {"memory_limit": str, "threads": int}

# what `pipeline sql` runs without --write (DESCRIBE, SHOW, SUMMARIZE, FROM and VALUES parse
# as SELECT; a PRAGMA that changes a setting parses as SET)
READ_ONLY_STATEMENTS = frozenset({"SELECT", "PRAGMA"})


class DuckDBWarehouse(Warehouse):
    dialect: ClassVar[Dialect] = DUCKDB

    def __init__(
        self,
        path: Path | str,
        seed_from: Path | None = None,
        read_only: bool = False,
        settings: Mapping[str, str | int] | None = None,
        on_demand: bool = False,
        wait: float = DEFAULT_WAIT,
        create: bool = False,
    ):
        """`read_only` never writes nor creates the file. `on_demand` opens the file only
        inside `reading()`/`writing()` (or for one call), so other processes get in between;
        otherwise it stays open, read-write unless `read_only`, until `close()`. An
        `on_demand` open (a run) refuses a missing file with no seed unless `create` (ingest):
        a mistyped path must not leave an empty warehouse behind."""
        self.path = Path(path)
        self.read_only = read_only
        self.wait = wait
        self._settings: dict[str, str | bool | int | float | list[str]] = dict(settings or {})
        self._in_transaction = False
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writable = False
        self._depth = 0
        self._opened_at = 0.0
        self._told_waiting = False
        self._confined = False
        #: seconds each read-write hold of the file lasted, in order (the run's writes)
        self.write_holds: list[float] = []
        memory = str(path) == ":memory:"
        if not memory and not self.path.exists():
            if read_only:
                seeded = f"; `pipeline run` creates it from {seed_from}" if seed_from else ""
                raise WarehouseError(
                    f"warehouse file {self.path} does not exist (check the path){seeded}"
                )
            if seed_from is not None and seed_from.exists():
                shutil.copyfile(seed_from, self.path)
                log.info("created %s from %s", self.path, seed_from)
            elif on_demand and not create:
                seed = f" and its seed_from {seed_from} does not either" if seed_from else ""
                raise WarehouseError(
                    f"warehouse file {self.path} does not exist{seed} (check [warehouse] "
                    "path); `pipeline ingest` creates it"
                )
        self._pinned = memory or not on_demand
        if self._pinned:
            self._connect(writable=not read_only)

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
        unknown = set(config.options) - set(SETTINGS)
        if unknown:
            raise ConfigError(
                f"[warehouse] unknown keys for duckdb: {sorted(unknown)}; "
                f"known: path, seed_from, {', '.join(SETTINGS)}"
            )
        settings = {k: SETTINGS[k](v) for k, v in config.options.items()}
        return cls(
            config.path,
            seed_from=config.seed_from,
            read_only=read_only,
            settings=settings,
            on_demand=on_demand,
            create=create,
        )

    # --- holding the file ------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError(f"{self.path} is not open: use reading() or writing()")
        return self._con

    def run_lock_path(self) -> Path | None:
        return None if str(self.path) == ":memory:" else Path(f"{self.path}.lock")

    def _holder(self, exc: Exception) -> str:
        """Who holds the file: the run named in the run lock, else DuckDB's process."""
        lock = self.run_lock_path()
        run = describe_holder(lock) if lock else ""
        found = re.search(r"held in (\S+) \(PID (\d+)\)", str(exc))
        process = f"pid {found.group(2)} ({found.group(1)})" if found else "another process"
        return f"{process}; pipeline run lock: {run}" if run else process

    def _connect(self, writable: bool) -> None:
        """Open the file, waiting (up to `wait` s) while another process holds it: a reader
        waits for a write in progress, a writer for reads in progress."""
        deadline = time.monotonic() + self.wait
        delay = 0.01
        if not writable and not self.read_only and not self.path.exists():
            writable = True  # a read-only open cannot create the file a writer is to fill
        while True:
            attempt = time.monotonic()  # a hold counts from the open that got the file
            try:
                self._con = duckdb.connect(
                    str(self.path), read_only=not writable, config=self._settings
                )
                break
            except duckdb.ConnectionException as exc:
                if not writable and "different configuration" in str(exc):
                    # this process has the file open read-write already: share that
                    writable = True
                    continue
                raise WarehouseError(one_line(f"cannot open warehouse {self.path}: {exc}")) from exc
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise WarehouseError(
                        one_line(f"cannot open warehouse {self.path}: {exc}")
                    ) from exc
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"warehouse {self.path} is held by another process "
                        f"({self._holder(exc)}) for more than {self.wait:g} s; try again "
                        "when it has finished"
                    ) from exc
                if not self._told_waiting:
                    self._told_waiting = True
                    what = "reads" if writable else "a write"
                    log.warning(
                        "waiting for %s in progress on %s (%s)", what, self.path, self._holder(exc)
                    )
                # short polls: a run lets go between its writes only for a moment
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        self._writable = writable
        self._opened_at = attempt

    def _disconnect(self) -> None:
        if self._con is None:
            return
        self._con.close()  # a read-write close checkpoints, so that is part of the hold
        self._con = None
        if self._writable and str(self.path) != ":memory:":
            held = time.monotonic() - self._opened_at
            self.write_holds.append(held)
            log.debug("held %s read-write for %.3f s", self.path, held)

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._hold(writable=False):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        if self.read_only:
            raise WarehouseError(f"warehouse {self.path} was opened read-only")
        with self._hold(writable=True):
            yield

    @contextmanager
    def _hold(self, writable: bool) -> Iterator[None]:
        if self._con is None:
            self._connect(writable)
        elif writable and not self._writable:
            # a write inside a read: reopen read-write (no result of the read is pending)
            self._disconnect()
            self._connect(writable=True)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and not self._pinned:
                self._disconnect()

    @classmethod
    def in_memory(cls) -> DuckDBWarehouse:
        return cls(":memory:")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        with self.writing():
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

    def _run(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Execute and drain: DuckDB 2 refuses new work while a result is unread. Holds the
        file for writing for the call unless the caller holds it already."""
        with self.reading() if self.read_only else self.writing():
            return self._drain(sql, params)

    def _read(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """`_run` for a statement that only reads: a read-only hold is enough."""
        with self.reading():
            return self._drain(sql, params)

    def _drain(self, sql: str, params: list[object] | None) -> list[tuple[object, ...]]:
        try:
            return self.con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(engine_error(exc)) from exc

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
                reader = cursor.sql(sql).to_arrow_reader(batch_rows)
                yield from reader
            except duckdb.Error as exc:
                raise WarehouseError(engine_error(exc)) from exc
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
        return total, _parquet_batches(path, batch_rows)

    def count_rows(self, sql: str) -> int:
        rows = self._read(f"SELECT count(*) FROM ({sql}) AS q")
        return int(rows[0][0])  # type: ignore[call-overload]

    def replace_table(self, name: str, select_sql: str) -> int:
        check_name(name)
        self.ensure_schema(name.split(".")[0])
        self._run(f"CREATE OR REPLACE TABLE {self.dialect.quote(name)} AS {select_sql}")
        return self.count_rows(f"SELECT * FROM {self.dialect.quote(name)}")

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
        with self.reading():
            rows = self._read(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            )
            kind = self._read(
                "SELECT table_type FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, table],
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

    def _read_jsonl(self, paths: Sequence[Path], columns: dict[str, str]) -> str:
        """A SELECT over JSON Lines files with an explicit schema: no type guessing."""
        files = "[" + ", ".join(self.dialect.literal(str(p)) for p in paths) + "]"
        cols = ", ".join(
            f"{self.dialect.literal(c)}: {self.dialect.literal(self.dialect.type_name(t))}"
            for c, t in columns.items()
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
        decimal: str = ".",
    ) -> int:
        files = "[" + ", ".join(self.dialect.literal(str(p)) for p in paths) + "]"
        reader = self.READERS[file_format].format(files=files)
        if file_format == "csv":
            # missing-value tokens become NULL before the types are inferred
            tokens = ", ".join(self.dialect.literal(t) for t in nulls or [""])
            reader = (
                f"{reader[:-1]}, nullstr = [{tokens}], encoding = {self.dialect.literal(encoding)}"
            )
            if decimal != ".":
                reader += f", decimal_separator = {self.dialect.literal(decimal)}"
            reader += ")"
        return self.replace_table(check_name(table), "SELECT * FROM " + reader)

    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        check_name(table)
        return self.replace_table(table, self._read_jsonl(paths, columns))

    def replace_rows_from_jsonl(
        self, target: str, paths: Sequence[Path], columns: dict[str, str], key: str, value: str
    ) -> int:
        # one transaction reads the files straight into the target: one write, not two
        t = self.dialect.quote(check_name(target))
        self.ensure_schema(target.split(".")[0])
        select = self._read_jsonl(paths, columns)
        with self.transaction():
            self._run(f"CREATE TABLE IF NOT EXISTS {t} AS {select} WITH NO DATA")
            self._run(
                f"DELETE FROM {t} WHERE {self.dialect.quote(key)} = {self.dialect.literal(value)}"
            )
            n = int(self._run(f"INSERT INTO {t} BY NAME {select}")[0][0])  # type: ignore[call-overload]
        return n

    def _add_missing_columns(self, target: str, source: str) -> None:
        """A newer pipeline may write more columns than an older run's table has: add them,
        so earlier rows stay (with NULL there) instead of the write failing."""
        have = {c.lower() for c, _ in self.describe(target)}  # names are case-insensitive
        for column, ctype in self.describe(source):
            if column.lower() not in have:
                self._run(
                    f"ALTER TABLE {self.dialect.quote(target)} "
                    f"ADD COLUMN {self.dialect.quote(column)} {ctype}"
                )

    def replace_rows(self, target: str, source: str, key: str, value: str) -> None:
        t, s = self.dialect.quote(check_name(target)), self.dialect.quote(check_name(source))
        with self.transaction():
            self._run(f"CREATE TABLE IF NOT EXISTS {t} AS SELECT * FROM {s} WHERE FALSE")
            self._add_missing_columns(target, source)
            self._run(
                f"DELETE FROM {t} WHERE {self.dialect.quote(key)} = {self.dialect.literal(value)}"
            )
            self._run(f"INSERT INTO {t} BY NAME SELECT * FROM {s}")
            self._run(f"DROP TABLE {s}")

    def close(self) -> None:
        self._pinned = False
        self._depth = 0
        self._disconnect()


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
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
