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
