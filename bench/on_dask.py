"""The predict stage on a Dask cluster against local worker processes, side by side in one run:
what scoring through `distributed` costs (the batches and parts travel over TCP) on the same two
cores. A LocalCluster of worker processes on 127.0.0.1 stands in for a cluster.

    python -m bench.on_dask [--rows 1000000] [--models rf891,hgb,lr]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.common import fmt_rows, run_stage, section
from bench.scoring import project


def measure(root: Path, name: str, rows: int, scheduler: str) -> dict[str, Any]:
    config = project(root, name, rows)
    local = run_stage(config, "predict", "process")
    text = config.read_text().replace("[scoring]\n", f'[scoring]\nscheduler = "{scheduler}"\n')
    config.write_text(text)
    remote = run_stage(config, "predict", "dask")
    shutil.rmtree(config.parent)
    return {
        "model": name,
        "rows": local["rows"],
        "process_s": local["seconds"],
        "dask_s": remote["seconds"],
        "dask_mode": remote["mode"],
    }


def main() -> None:
    from distributed import LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", default="rf891,hgb,lr")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}")
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp,
        LocalCluster(
            n_workers=cores,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        for name in args.models.split(","):
            with section(f"{name} at {fmt_rows(args.rows)} rows"):
                r = measure(Path(tmp), name, args.rows, cluster.scheduler_address)
                print("  ", json.dumps(r), flush=True)
                results.append(r)
    print()
    print("| model | rows | local processes | Dask LocalCluster | Dask / local |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {fmt_rows(r['rows']) if r['rows'] % 1000 else r['rows']} | "
            f"{r['process_s']:.2f} s | {r['dask_s']:.2f} s | {r['dask_s'] / r['process_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
