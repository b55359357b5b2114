"""What the commands print and how: results to stdout, warnings and progress through logging to
stderr, and an expected failure as one line with its exit code."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from pipeline.core.errors import PipelineError, is_interrupt

T = TypeVar("T")

# Results go to stdout; warnings and progress go through logging to stderr.
log = logging.getLogger("pipeline")

#: the exit code of a process ended by Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130


def guard(fn: Callable[[], T]) -> T:
    """Expected failures print one line to stderr and exit non-zero, without a traceback.
    Ctrl-C prints one line and exits 130; what was half-done has been rolled back by then
    (transactions, the model directory's rename, the scoring parts' removal)."""
    try:
        return fn()
    except PipelineError as exc:
        if is_interrupt(exc):
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(INTERRUPTED) from None
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BaseException as exc:
        if isinstance(exc, typer.Exit | SystemExit) or not is_interrupt(exc):
            raise
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(INTERRUPTED) from None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes: a test runner swaps it per
    command, and a handler bound to an old one would write to a closed file."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _Formatter(logging.Formatter):
    """`warning: ...` for what needs a look; `pipeline: ...` for what is only news."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = "pipeline" if record.levelno == logging.INFO else record.levelname.lower()
        return f"{prefix}: {record.getMessage()}"


class _WarningFormatter(logging.Formatter):
    """A Python warning (scikit-learn's ConvergenceWarning, say) as one line, `warning:
    <category>: <message>`, not the file path and source line warnings.formatwarning gives."""

    HEAD = re.compile(r"^.*?:\d+: (\w+): (.*)$", re.DOTALL)

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage().strip()
        found = self.HEAD.match(text)
        if found:
            lines = found.group(2).splitlines()
            if len(lines) > 1 and lines[-1][:1].isspace():
                lines = lines[:-1]  # the source line warnings.formatwarning appends
            # every line of the advice (sklearn's "increase max_iter or scale the data"), joined
            text = f"{found.group(1)}: " + " ".join(x.strip() for x in lines if x.strip())
        return f"warning: {' '.join(text.split())}"


def setup_logging(quiet: bool, verbose: bool = False) -> None:
    """-q hides warnings (errors still show), Python's own warnings too; -v adds debugging
    detail."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    logging.captureWarnings(True)
    warned = _StderrHandler()
    warned.setFormatter(_WarningFormatter())
    py_warnings = logging.getLogger("py.warnings")
    py_warnings.handlers[:] = [warned]
    py_warnings.propagate = False
    py_warnings.setLevel(level)


def say(message: str) -> None:
    """One result line to stdout. A reader that went away (`pipeline run | head -1`) must not
    abort the run: the rest of the output goes to os.devnull, and the run carries on."""
    try:
        typer.echo(message)
    except BrokenPipeError:
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test runner's buffer)
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)  # the unflushed rest goes there too, not to a closed pipe at exit
        os.close(devnull)


def print_messages(result: Any) -> None:
    """A stage's results to stdout; its warnings (unseen categories, changed templates) through
    logging to stderr, so `> out.txt` keeps the results clean and -q hides the warnings."""
    for warning in result.warnings:
        log.warning(warning)
    for message in result.messages:
        say(message)
