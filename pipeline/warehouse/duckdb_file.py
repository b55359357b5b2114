"""Holding a DuckDB file: open it only while reading or writing (on demand), wait while another
process holds it, share one connection among nested holds, and say who is in the way.

One process at a time may write a DuckDB file, and a reader cannot open it while a writer has
it: a run therefore holds the file only around its reads and its writes, so `pipeline sql` and
`pipeline show` get in between."""

from __future__ import annotations

import logging
import re
import shutil
import time
from abc import ABC
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline.core.errors import WarehouseError
from pipeline.warehouse.base import DEFAULT_WAIT, Warehouse
from pipeline.warehouse.lock import describe_holder
from pipeline.warehouse.text import one_line

log = logging.getLogger("pipeline")


class DuckDBFile(Warehouse, ABC):
    """A warehouse in one DuckDB file (or in memory): the file's holding mechanics, and
    statements run through `_run`/`_read`, each holding the file for its call."""

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
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writable = False
        self._depth = 0
        self._opened_at = 0.0
        self._told_waiting = False
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

    # --- statements, each holding the file for its call ------------------------------------
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
        with self._engine_errors():
            return self.con.execute(sql, params).fetchall()

    def _error_types(self) -> tuple[type[BaseException], ...]:
        return (duckdb.Error,)

    def close(self) -> None:
        self._pinned = False
        self._depth = 0
        self._disconnect()
