"""The run ledger: one row per stage run, written when the stage ends, whatever the outcome."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.core.errors import is_interrupt
from pipeline.core.vocabulary import ColumnType
from pipeline.stages.project import Project
from pipeline.stages.spec import Table
from pipeline.warehouse import Warehouse

LEDGER_TABLE = Table.runs  # one row per stage run, whatever the stage
#: the ledger column that says what a row's status does not (a stage run without a transaction)
NOTES = "notes"


def new_run_id() -> str:
    """Sortable by time, unique across machines."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def git_commit(directory: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass
class StageResult:
    """What a stage reports: rows, the hashes of the SQL it ran, and lines for the user."""

    stage: str
    rows_in: int = 0
    rows_out: int = 0
    sql_hashes: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    # what needs a look but does not stop the run; the CLI logs these to stderr
    warnings: list[str] = field(default_factory=list)


def latest_model_id(project: Project) -> str | None:
    table = project.table(LEDGER_TABLE)
    with project.warehouse.reading():
        if not project.warehouse.table_exists(table):
            return None
        sql = project.templates.render("ledger/latest_model.sql", table=table).sql
        rows = project.warehouse.query_arrow(sql).to_pylist()
    return str(rows[0]["model_id"]) if rows else None


def trained_in_run(project: Project, run_id: str) -> str | None:
    """The model the train stage of run `run_id` made, if it ran and succeeded."""
    table = project.table(LEDGER_TABLE)
    with project.warehouse.reading():
        if not project.warehouse.table_exists(table):
            return None
        sql = project.templates.render("ledger/trained_in_run.sql", table=table, run_id=run_id)
        rows = project.warehouse.query_arrow(sql.sql).to_pylist()
    return str(rows[0]["model_id"]) if rows else None


@contextmanager
def recorded(project: Project, run_id: str, stage: str) -> Iterator[StageResult]:
    """Run a stage body and append its ledger row, success, failure or Ctrl-C."""
    result = StageResult(stage=stage)
    started = datetime.now(UTC)
    error: BaseException | None = None
    try:
        yield result
    except BaseException as exc:
        error = exc
        raise
    finally:
        record(project, run_id, result, started, error)


def record(
    project: Project,
    run_id: str,
    result: StageResult,
    started: datetime,
    error: BaseException | None,
) -> None:
    """Append one ledger row. Ctrl-C is status `interrupted`, not a failure with DuckDB's or
    Python's wording. A connection Ctrl-C left unable to write (a transaction it could not
    end) is replaced by a fresh one for this row."""
    interrupted = error is not None and is_interrupt(error)
    if error is None:
        status, message = "success", None
    elif interrupted:
        status, message = "interrupted", "interrupted"
    else:
        status, message = "failed", f"{type(error).__name__}: {error}"
    row = {
        "run_id": run_id,
        "stage": result.stage,
        "started_at": started.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "ended_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "status": status,
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "sql_hashes": json.dumps(result.sql_hashes, sort_keys=True),
        "model_id": result.model_id,
        "config_hash": project.config.hash,
        "git_commit": git_commit(project.config.path.parent),
        "error": message,
        "checks": json.dumps(result.details["contracts"], sort_keys=True)
        if "contracts" in result.details
        else None,
        # what else the stage measured (parts and their bytes, threads, ...), as JSON
        "details": json.dumps(
            {k: v for k, v in result.details.items() if k != "contracts"},
            sort_keys=True,
            default=str,
        ),
    }
    if error is not None:
        # recorded once: the runner records a Ctrl-C that no stage's row took
        with suppress(AttributeError, TypeError):
            error.ledger_recorded = True  # type: ignore[attr-defined]
    try:
        _write_row(project, project.warehouse, row)
    except Exception:
        if not interrupted:
            raise
        from pipeline.warehouse import open_warehouse

        with open_warehouse(project.config.warehouse, on_demand=True) as fresh:
            _write_row(project, fresh, row)


def _write_row(project: Project, wh: Warehouse, row: dict[str, Any]) -> None:
    """The row, and on a warehouse without transactions that the stage ran without one, in a
    `notes` column the ledger gains the first time it needs it: a ledger on a warehouse with
    transactions keeps the columns it always had."""
    table = project.table(LEDGER_TABLE)
    t = project.templates
    with wh.writing(), wh.transaction():  # a short write of its own
        wh.ensure_schema(project.config.output_schema)
        wh.execute(t.render("ledger/create.sql", table=table).sql)
        wh.execute(t.render("ledger/record.sql", table=table, row=row).sql)
        note = wh.transaction_note()
        if note:
            wh.add_missing_columns(table, [(NOTES, wh.dialect.type_name(ColumnType.string))])
            wh.update_rows(table, {NOTES: note}, {"run_id": row["run_id"], "stage": row["stage"]})
