"""The whole pipeline at N synthetic rows, each stage beside its floor measured in the same run.

Rows come from the project's SQL generator (`sql/synthetic/titanic.sql`): N labelled rows and
N/10 unlabelled ones. Then preprocess, train on a sample (`[train] sample_rows`), predict every
holdout and unlabelled row, evaluate: each stage in its own process (`pipeline run --stage X`'s
work, through `bench/_stage.py`), then its floor in its own process (`bench/_scale_floor.py`):

- preprocess: the same contracts, split, statistics and feature tables written by six DuckDB
  statements written by hand (`bench/_scale_sql.py`); checked equal to the stage's tables (row
  counts and an order-free checksum of every row);
- train: the same sample read into arrays and the estimator's own `fit` on them;
- predict: the feature rows read out of DuckDB into arrays, the estimator's `predict_proba` on
  every core, and DuckDB writing the result as JSON Lines and loading it (checked equal to the
  predictions table);
- evaluate: the headline metrics (rows, accuracy, precision, recall, f1, roc_auc, log_loss,
  overall and per slice) in one hand-written statement (checked equal to the metrics table).

Per stage: wall time, rows per second, peak RSS of the stage's process tree (workers included:
the sum over the tree, sampled every 50 ms with psutil; without psutil, the stage's own
process), and disk (the warehouse file, runs/ and models/) after it. Then stage / floor.

    python -m bench.scale --rows 1000000 [--estimator forest|logistic] [--sample-rows N]
        [--memory-limit 1GB] [--keep] [--dir PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import tomlkit

from bench.common import REPO, fmt_rows, section, write_config
from pipeline.tools.synthetic import generate
from pipeline.warehouse.duckdb import DuckDBWarehouse

STAGES = ["preprocess", "train", "predict", "evaluate"]
ESTIMATORS = {
    "forest": (
        "sklearn.ensemble.RandomForestClassifier",
        {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 2, "random_state": 0},
    ),
    "logistic": ("sklearn.linear_model.LogisticRegression", {"max_iter": 5000}),
}


def tree_peak(process: subprocess.Popen[str]) -> tuple[threading.Thread, dict[str, float]]:
    """Watch `process` and its descendants; `peak['mb']` is the largest sum of their RSS."""
    peak = {"mb": 0.0}
    try:
        import psutil
    except ImportError:  # the stage's own VmHWM is reported instead
        return threading.Thread(target=lambda: None), peak

    def watch() -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while process.poll() is None:
            total = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:  # the stage ended meanwhile
                break
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak["mb"] = max(peak["mb"], total / 2**20)
            time.sleep(0.05)

    return threading.Thread(target=watch, daemon=True), peak


def run(args: list[str]) -> dict[str, Any]:
    """A script in a fresh process: its JSON line, and its tree's peak RSS as `tree_mb`."""
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watcher, peak = tree_peak(process)
    watcher.start()
    out, err = process.communicate()
    watcher.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{err[-3000:]}")
    found: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    found["tree_mb"] = max(peak["mb"], found["rss_mb"])
    return found


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
        if path.exists()
        else 0.0
    )


def make_project(
    directory: Path, rows: int, estimator: str, sample: int, memory: str, importance: bool = False
) -> Path:
    dotted, params = ESTIMATORS[estimator]
    config = write_config(directory, dotted, params, memory_limit=memory)
    doc = tomlkit.parse(config.read_text())
    doc["train"] = {"sample_rows": sample}
    # evaluate's floor is the metric SQL: feature importance (scoring the holdout again, once per
    # feature and repeat) is other work, measured by itself with --importance
    doc["explain"] = {"repeats": 5 if importance else 0}
    config.write_text(tomlkit.dumps(doc))
    with DuckDBWarehouse(directory / "warehouse.duckdb", settings={"memory_limit": memory}) as wh:
        generate(wh, REPO / "sql", rows, max(rows // 10, 1))
        wh.execute("CHECKPOINT")
    return config


def disk(directory: Path) -> dict[str, float]:
    return {
        "warehouse": size_mb(directory / "warehouse.duckdb"),
        "runs": size_mb(directory / "runs"),
        "models": size_mb(directory / "models"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="labelled rows")
    parser.add_argument("--estimator", choices=sorted(ESTIMATORS), default="forest")
    parser.add_argument("--sample-rows", type=int, default=100_000, help="[train] sample_rows")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB's, stage and floor alike")
    parser.add_argument("--keep", action="store_true", help="keep the project directory")
    parser.add_argument(
        "--importance",
        action="store_true",
        help="evaluate computes feature importance too ([explain] repeats 5; default 0: the "
        "metric SQL alone, like its floor)",
    )
    parser.add_argument("--dir", type=Path, help="where the project goes (default: a temp dir)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench-scale-"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"cores: {len(os.sched_getaffinity(0))}; project: {directory}")
    try:
        unlabelled = fmt_rows(max(args.rows // 10, 1))
        with section(f"raw: {fmt_rows(args.rows)} labelled rows, {unlabelled} unlabelled"):
            config = make_project(
                directory,
                args.rows,
                args.estimator,
                args.sample_rows,
                args.memory_limit,
                args.importance,
            )
            raw_mb = size_mb(directory / "warehouse.duckdb")
            print(f"   warehouse with the raw tables: {raw_mb:.0f} MB")
        results = []
        for stage in STAGES:
            with section(f"{stage}: stage, then floor"):
                got = run([str(REPO / "bench" / "_stage.py"), str(config), stage])
                used = disk(directory)
                floor = run(
                    [
                        str(REPO / "bench" / "_scale_floor.py"),
                        str(directory),
                        stage,
                        args.memory_limit,
                    ]
                )
                print(
                    "   stage",
                    json.dumps({k: got[k] for k in ("seconds", "rows", "mode", "tree_mb")}),
                )
                print("   floor", json.dumps(floor))
                results.append((stage, got, floor, used))
        report(args, raw_mb, results)
    finally:
        if args.keep:
            print(f"kept: {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def report(
    args: argparse.Namespace, raw_mb: float, results: list[tuple[str, dict, dict, dict]]
) -> None:
    print(
        f"\n{fmt_rows(args.rows)} labelled rows, {args.estimator}, sample {args.sample_rows:,}, "
        f"DuckDB memory_limit {args.memory_limit}; raw tables {raw_mb:.0f} MB in the warehouse\n"
    )
    print(
        "| stage | rows | stage time | rows/s | peak RSS | floor time | floor RSS | stage / floor "
        "| floor equal | warehouse | runs/ |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    total = floor_total = 0.0
    for stage, got, floor, used in results:
        rows = floor["rows"] or got["rows"]
        total, floor_total = total + got["seconds"], floor_total + floor["seconds"]
        parts = ", ".join(f"{k} {v:.2f}" for k, v in floor["parts"].items())
        print(
            f"| {stage} | {rows:,} | {got['seconds']:.2f} s | {rows / got['seconds']:,.0f} "
            f"| {got['tree_mb']:.0f} MB | {floor['seconds']:.2f} s ({parts}) "
            f"| {floor['tree_mb']:.0f} MB | {got['seconds'] / floor['seconds']:.2f} "
            f"| {'yes' if all(floor['checks'].values()) else 'NO'} "
            f"| {used['warehouse']:.0f} MB | {used['runs']:.1f} MB |"
        )
    peak = max(got["tree_mb"] for _, got, _, _ in results)
    final = results[-1][3]
    print(
        f"\nend to end {total:.1f} s ({1e6 * total / args.rows:.2f} µs per labelled row), floors "
        f"{floor_total:.1f} s, ratio {total / floor_total:.2f}; peak RSS {peak:.0f} MB; disk "
        f"{final['warehouse'] + final['runs'] + final['models']:.0f} MB = "
        f"{(final['warehouse'] + final['runs'] + final['models']) / raw_mb:.2f} x the raw tables"
    )


if __name__ == "__main__":
    main()
