"""One module per stage. Each has `<stage>_from_data` (Python objects in and out) and
`<stage>_from_path` (opens the project named by a config path, records the ledger row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.stages.ledger import StageResult
    from pipeline.stages.project import Project


@dataclass(frozen=True)
class RunOptions:
    """What the CLI passes to the path layer: every path arrives as an option."""

    config_path: Path
    run_id: str
    models_dir: Path
    out_dir: Path
    model_dir: Path | None = None  # a specific model for predict/evaluate; else the latest
    quiet: bool = False
    # scoring settings that override the config's [scoring] section when given
    executor: str | None = None
    workers: int | None = None
    batch_rows: int | None = None
    scheduler: str | None = None  # Dask scheduler address, for executor "dask"


StageBody = Callable[["Project", RunOptions, "StageResult"], None]

# bodies that hold the warehouse themselves, only around their reads and their writes
_SELF_HOLDING: set[StageBody] = set()


def holds_own_warehouse(body: StageBody) -> StageBody:
    """Mark a stage body that holds the warehouse itself (`with wh.reading():`, `with
    wh.writing(), wh.transaction():`) instead of for its whole run: one that reads, then
    works for minutes without the warehouse, then writes, lets readers in meanwhile."""
    _SELF_HOLDING.add(body)
    return body


def run_recorded(project: Project, options: RunOptions, stage: str, body: StageBody) -> StageResult:
    """Run a stage body on an open project: its writes commit together or not at all, and its
    ledger row is written afterwards, outside that transaction, whatever the outcome. A body
    not marked `holds_own_warehouse` holds the warehouse for writing from start to end. On a
    warehouse without transactions the stage says so, in its messages and its ledger row."""
    from pipeline.stages.ledger import recorded

    wh = project.warehouse
    if body in _SELF_HOLDING:
        with recorded(project, options.run_id, stage) as result:
            body(project, options, result)
    else:
        # one hold for the body and its ledger row, so readers wait once, not twice in a row
        with wh.writing(), recorded(project, options.run_id, stage) as result, wh.transaction():
            body(project, options, result)
    note = wh.transaction_note()  # on a warehouse whose writes cannot commit together
    if note:
        result.messages.append(f"{stage}: {note}")
    return result


def from_path(stage: str, body: StageBody, options: RunOptions) -> StageResult:
    """The path layer of one stage: open the project named by the config, take the run lock,
    run, close."""
    from pipeline.stages.project import Project

    with (
        Project.open(options.config_path, on_demand=True) as project,
        project.exclusive_run(options.run_id),
    ):
        return run_recorded(project, options, stage, body)
