"""Run one pipeline stage in a fresh process and print its wall time and peak RSS as JSON.

Heavy libraries are imported before the clock starts, as they are for the baselines the
benchmarks compare against; the time is the stage's own work."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/

import json
import time

import duckdb  # noqa: F401  (imported before timing, like the baselines)
import pandas  # noqa: F401
import pyarrow  # noqa: F401
import sklearn.ensemble
import sklearn.linear_model  # noqa: F401

from bench.common import peak_rss_mb
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages


def main() -> None:
    config, stage = Path(sys.argv[1]), sys.argv[2]
    executor = sys.argv[3] if len(sys.argv) > 3 else None
    options = RunOptions(
        config_path=config,
        run_id=new_run_id(),
        models_dir=config.parent / "models",
        out_dir=config.parent / "runs",
        quiet=True,
        executor=executor,
    )
    start = time.perf_counter()
    result = run_stages(options, [stage])[0]
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": result.rows_out,
                "mode": result.details.get("mode"),
                "rss_mb": peak_rss_mb(),
                "messages": result.messages,
            }
        )
    )


if __name__ == "__main__":
    main()
