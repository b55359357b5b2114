"""What every stage body shares: the options a run gets, and the one way a body is run on an
open project (its writes in one transaction, its ledger row whatever the outcome).

One module per stage holds `<stage>_from_data` (Python objects in and out, what tests call)
and `run_<stage>`, the body that reads its inputs from the project and records its result;
`pipeline.stages.runner.run_stages` opens the project and runs the bodies in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.vocabulary import Stage
from pipeline.stages.spec import SPECS

if TYPE_CHECKING:
    from pipeline.stages.ledger import StageResult
    from pipeline.stages.project import Project


@dataclass(frozen=True)
class RunOptions:
    """What the CLI passes to the runner: every path arrives as an option."""

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
    model: str | None = None  # an alias, a model id or "latest"; else [scoring] model
    incremental: bool = False  # predict scores only the rows its model has not scored yet
    keep_parts: bool = False  # keep predict's JSON Lines parts after they are loaded
    allow_drift: bool = False  # predict writes even when drift is over a [monitor] fail threshold


StageBody = Callable[["Project", RunOptions, "StageResult"], None]


def run_recorded(
    project: Project, options: RunOptions, stage: Stage | str, body: StageBody
) -> StageResult:
    """Run a stage body on an open project: its writes commit together or not at all, and its
    ledger row is written afterwards, outside that transaction, whatever the outcome. A body
    not declared to hold the warehouse itself (pipeline/stages/spec.py) holds it for writing
    from start to end. On a warehouse without transactions the stage says so, in its messages
    and its ledger row."""
    from pipeline.stages.ledger import recorded

    stage = Stage(stage)
    wh = project.warehouse
    if SPECS[stage].holds_own_warehouse:
        with recorded(project, options.run_id, stage.value) as result:
            body(project, options, result)
    else:
        # one hold for the body and its ledger row, so readers wait once, not twice in a row
        with (
            wh.writing(),
            recorded(project, options.run_id, stage.value) as result,
            wh.transaction(),
        ):
            body(project, options, result)
    note = wh.transaction_note()  # on a warehouse whose writes cannot commit together
    if note:
        result.messages.append(f"{stage.value}: {note}")
    return result
