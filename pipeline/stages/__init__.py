"""One module per stage. Each has `<stage>_from_data` (Python objects in and out) and
`<stage>_from_path` (opens the project named by a config path, records the ledger row)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
