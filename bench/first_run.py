"""A first `pipeline run` on a fresh warehouse of N synthetic labelled rows, then a second run on
the same inputs: both succeed, the model id is the same, and every prediction is there once.

    python -m bench.first_run --rows 2000000

Runs the installed CLI in subprocesses, as a user would; prints the figures and exits non-zero
when a check fails."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO, write_config
from pipeline.tools.synthetic import generate
from pipeline.warehouse.duckdb import DuckDBWarehouse


def pipeline(*args: str) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"pipeline {' '.join(args)} exited {out.returncode}:\n{out.stderr}")
    return out.stdout, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--unlabelled", type=int, default=None)
    args = parser.parse_args()
    unlabelled = args.unlabelled if args.unlabelled is not None else args.rows // 4
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = write_config(
            directory,
            "sklearn.ensemble.HistGradientBoostingClassifier",
            {"max_iter": 50, "random_state": 0},
        )
        with DuckDBWarehouse(directory / "warehouse.duckdb") as wh:
            generate(wh, REPO / "sql", args.rows, unlabelled)
        print(f"{args.rows:,} labelled and {unlabelled:,} unlabelled synthetic rows")
        ids = []
        for attempt in ("first", "second"):
            out, seconds = pipeline("run", "-q", "-c", str(config))
            model = re.search(r"models/(\S+)", out)
            ids.append(model.group(1) if model else "?")
            print(f"{attempt} run: {seconds:.1f} s, model {ids[-1]}")
        counts, _ = pipeline(
            "sql",
            "-c",
            str(config),
            "--format",
            "csv",
            "SELECT dataset, count(*) AS n, count(DISTINCT PassengerId) AS ids, "
            "count(DISTINCT model_id) AS models FROM pipeline.predictions GROUP BY 1 ORDER BY 1",
        )
        print(counts.strip())
        rows = [line.split(",") for line in counts.strip().splitlines()[1:]]
        expected = {"holdout": None, "test": unlabelled}
        ok = ids[0] == ids[1] != "?" and len(rows) == 2
        for dataset, n, distinct, models in rows:
            ok &= n == distinct and models == "1"
            if expected.get(dataset) is not None:
                ok &= int(n) == expected[dataset]
        print("same model id, one copy of each prediction:", "yes" if ok else "NO")
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
