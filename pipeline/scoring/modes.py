"""The scoring modes as the user reads them: which `--executor` values score on this machine,
and how a report names where the rows were scored."""

from __future__ import annotations

from pipeline.core.vocabulary import Executor

#: modes that score Arrow batches in Python on this machine; "dask" and "warehouse" are placed
#: by the predict stage
LOCAL_EXECUTORS = (Executor.auto, Executor.process, Executor.thread, Executor.inprocess)

#: "N rows scored <description>"
DESCRIPTIONS = {
    Executor.inprocess: "in-process",
    Executor.process: "in worker processes",
    Executor.thread: "in threads",
    Executor.dask: "on the Dask cluster",
    Executor.warehouse: "in the warehouse, as SQL",
}


def mode_named(name: str) -> Executor:
    """The mode a name means; a ValueError listing the local ones for any other name."""
    try:
        return Executor(name)
    except ValueError:
        known = ", ".join(LOCAL_EXECUTORS)
        raise ValueError(f"unknown executor {name!r}; known: {known}") from None


def describe_mode(mode: str) -> str:
    """Where rows were scored, for messages; a caller's own executor by its name."""
    return DESCRIPTIONS.get(mode, f"on {mode}")  # type: ignore[call-overload]
