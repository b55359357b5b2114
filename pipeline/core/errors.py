"""Expected failures. The CLI prints their message without a traceback and exits non-zero."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error a user can fix; the message names the file, table or column."""

    exit_code = 1


class ConfigError(PipelineError):
    exit_code = 2


class MissingInputError(PipelineError):
    """A stage's input does not exist yet: the message says which stage to run first."""

    exit_code = 3


class DataError(PipelineError):
    """The data breaks an assumption of the pipeline (types, nulls, empty split)."""

    exit_code = 4


class ModelIntegrityError(PipelineError):
    """A model directory is incomplete or a file in it changed since it was written."""

    exit_code = 5


class TemplateError(PipelineError):
    """A SQL template failed to render; the message names the file and line."""

    exit_code = 6


class WarehouseError(PipelineError):
    """The warehouse refused a statement or could not be opened."""

    exit_code = 7


class ScoringError(PipelineError):
    """A scoring worker died or failed; no predictions of the run were written."""

    exit_code = 8


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python raises it or as DuckDB does when it cancels a running query (also
    when the warehouse layer wrapped that in an error of its own). DuckDB 2.0 raises a plain
    `RuntimeError("Query interrupted")` for Ctrl-C, and InterruptException for interrupt().
    Shared by the CLI (exit 130) and the ledger (status `interrupted`)."""
    import sys

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        if type(seen) is RuntimeError and str(seen) == "Query interrupted":
            return True
        duckdb = sys.modules.get("duckdb")
        if duckdb is not None and isinstance(seen, duckdb.InterruptException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
