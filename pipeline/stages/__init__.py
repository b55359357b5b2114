"""One module per stage. Each has `<stage>_from_data` (Python objects in and out) and
`<stage>_from_path` (opens the project named by a config path, records the ledger row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.ledger import StageResult
    from pipeline.project import Project


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


def run_recorded(project: Project, options: RunOptions, stage: str, body: StageBody) -> StageResult:
    """Run a stage body on an open project: its writes commit together or not at all, and its
    ledger row is written afterwards, outside that transaction, whatever the outcome."""
    from pipeline.ledger import recorded

    with recorded(project, options.run_id, stage) as result, project.warehouse.transaction():
        body(project, options, result)
    return result


def from_path(stage: str, body: StageBody, options: RunOptions) -> StageResult:
    """The path layer of one stage: open the project named by the config, run, close."""
    from pipeline.project import Project

    with Project.open(options.config_path) as project:
        return run_recorded(project, options, stage, body)
