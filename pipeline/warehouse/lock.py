"""The run lock: one `pipeline run` (or ingest, or `sql --write`) at a time per warehouse.

An OS file lock of its own, not the warehouse's: a run holds it from start to end while it
holds the warehouse file only around its writes, so readers get in between. The holder writes
who it is into the lock file, so the one that is refused can say which run is in the way."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import WarehouseError

if TYPE_CHECKING:
    from pipeline.warehouse.base import Warehouse


def describe_holder(lock_path: Path) -> str:
    """What the lock file says of its holder ("" when there is none)."""
    try:
        return lock_path.read_text().strip()
    except OSError:
        return ""


def _holder_soon(lock_path: Path, patience: float = 1.0) -> str:
    """The holder writes who it is just after it takes the lock: give it a moment."""
    deadline = time.monotonic() + patience
    while True:
        who = describe_holder(lock_path)
        if who or time.monotonic() >= deadline:
            return who or "holder unknown"
        time.sleep(0.02)


@contextmanager
def run_lock(lock_path: Path, target: Path | str, holder: str) -> Iterator[None]:
    """Hold `lock_path` exclusively for the block, or fail at once naming who holds it."""
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            who = _holder_soon(lock_path)
            raise WarehouseError(
                f"{target} is held by another pipeline run ({who}); try again when it has "
                f"finished (lock file {lock_path})"
            ) from None
        # the previous holder removes the file as it lets go: a lock on a file no longer at
        # the path locks nothing, so open the path again
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder}, since {since}\n".encode())
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(lock_path)
        os.close(fd)


def exclusive(warehouse: Warehouse, config_path: Path, holder: str) -> AbstractContextManager[None]:
    """The run lock of this warehouse: beside its file, or beside the config for a warehouse
    without one (BigQuery). `holder` says who takes it ("run ...", "pipeline ingest")."""
    path = warehouse.run_lock_path()
    target = getattr(warehouse, "path", None) or config_path
    lock = path or config_path.with_name(config_path.name + ".lock")
    return run_lock(lock, target, f"pid {os.getpid()}, {holder}")
