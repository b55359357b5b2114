"""Scoring, side by side in one run: the pipeline's predict stage end to end (warehouse ->
JSON Lines -> warehouse) against model.predict in one process on arrays already in memory,
n_jobs=-1 threads (forests), the 100-row-batch ProcessPoolExecutor recipe (1M rows only), and
the predict stage scoring in the warehouse (`--executor warehouse`: the model compiled to SQL).
Also the predict stage's peak RSS at each size.

    python bench/scoring.py [--sizes 1000000,10000000] [--models rf891,rf100k,hgb,lr]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, fmt_rows, run_stage, section, timed, write_config
from pipeline.model.trained import TrainedModel, feature_matrix
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from pipeline.tools.synthetic import generate

MODELS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (estimator, params, training rows: "real" = the 891 Kaggle rows, else synthetic)
    "rf891": ("sklearn.ensemble.RandomForestClassifier", {"random_state": 0}, "real"),
    "rf100k": ("sklearn.ensemble.RandomForestClassifier", {"random_state": 0}, "100000"),
    "hgb": ("sklearn.ensemble.HistGradientBoostingClassifier", {"random_state": 0}, "100000"),
    "lr": ("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}, "real"),
}

_MODEL: Any = None  # the naive recipe's global model, inherited by its forked workers
NAIVE_LIMIT_S = 400.0
#: in-warehouse scoring is skipped for a model whose SQL is larger than this
WAREHOUSE_MAX_SQL_MB = 30.0
WAREHOUSE_LIMIT_S = 900.0


def _predict_batch(batch: np.ndarray) -> np.ndarray:
    return _MODEL.predict(batch)


def _naive_recipe(estimator: Any, X: np.ndarray) -> None:
    """The usual blog recipe: 100-row batches, ProcessPoolExecutor(max_workers=8).map."""
    global _MODEL
    os.setsid()  # its own process group, so a hung recipe can be killed whole
    _MODEL = estimator
    batches = [X[i : i + 100] for i in range(0, len(X), 100)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=8, mp_context=ctx) as pool:
        list(pool.map(_predict_batch, batches))


def naive_recipe(estimator: Any, X: np.ndarray, limit: float) -> float | None:
    """Seconds the recipe took, or None when it had not finished after `limit` seconds: forked
    after the parent used GNU OpenMP (HistGradientBoosting), its workers deadlock."""
    child = multiprocessing.get_context("fork").Process(target=_naive_recipe, args=(estimator, X))
    start = time.perf_counter()
    child.start()
    child.join(limit)
    if child.is_alive():
        os.killpg(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join()
        return None
    return time.perf_counter() - start if child.exitcode == 0 else None


MEMORY_LIMIT = "2GB"  # DuckDB's cap in the benchmark projects (--memory-limit)


def set_memory_limit(limit: str) -> None:
    global MEMORY_LIMIT
    MEMORY_LIMIT = limit


def project(root: Path, name: str, rows: int) -> Path:
    """A project whose test table has `rows` synthetic rows and whose model is trained."""
    estimator, params, training = MODELS[name]
    directory = root / f"{name}-{rows}"
    directory.mkdir(parents=True)
    config = write_config(directory, estimator, params, memory_limit=MEMORY_LIMIT)
    with Project.open(config) as p:
        labelled = 891 if training == "real" else int(training)
        generate(p.warehouse, REPO / "sql", labelled, rows)
        if training == "real":
            p.warehouse.execute(
                f"ATTACH '{REPO / 'warehouse.duckdb.example'}' AS example (READ_ONLY)"
            )
            p.warehouse.execute(
                "CREATE OR REPLACE TABLE raw.titanic_train AS "
                "SELECT * FROM example.raw.titanic_train"
            )
            p.warehouse.execute("DETACH example")
    options = RunOptions(config, new_run_id(), directory / "models", directory / "runs", quiet=True)
    run_stages(options, ["preprocess", "train"])
    return config


def in_memory_arrays(config: Path) -> tuple[TrainedModel, np.ndarray]:
    """The rows the predict stage scores, as a float64 matrix already in memory."""
    with Project.open(config) as p:
        model = TrainedModel.load(next((config.parent / "models").iterdir()))
        sql, _ = model.transform_sql(p.warehouse.dialect, p.raw_sources(), ["holdout", "test"])
        X = feature_matrix(p.warehouse.query_arrow(sql), model.feature_names)
    return model, X  # X: (n_rows, n_features)


def measure(root: Path, name: str, rows: int, naive: bool) -> dict[str, Any]:
    config = project(root, name, rows)
    stage = run_stage(config, "predict")
    model, X = in_memory_arrays(config)
    estimator = model.estimator
    out: dict[str, Any] = {
        "model": name,
        "rows": int(X.shape[0]),
        "stage_s": stage["seconds"],
        "stage_mode": stage["mode"],
        "stage_rss_mb": stage["rss_mb"],
        "one_process_s": timed(lambda: estimator.predict(X)),
    }
    if hasattr(estimator, "n_jobs") and "Forest" in type(estimator).__name__:
        estimator.n_jobs = -1
        out["threads_s"] = timed(lambda: estimator.predict(X))
        estimator.n_jobs = None
    if naive:
        out["naive_s"] = naive_recipe(estimator, X, NAIVE_LIMIT_S)
    out.update(in_warehouse(config, model))
    shutil.rmtree(config.parent)
    return out


def in_warehouse(config: Path, model: TrainedModel) -> dict[str, Any]:
    """The predict stage with the model compiled to SQL, when its SQL is of a practical size."""
    from pipeline.render.compile import compile_estimator, leaf_count
    from pipeline.warehouse.duckdb import DuckDBWarehouse as W

    start = time.perf_counter()
    compiled = compile_estimator(model.estimator, model.feature_names, W.dialect)
    chars = sum(len(e) for layer in compiled.layers for _, e in layer.new)
    out: dict[str, Any] = {
        "sql_mb": chars / 1e6,
        "leaves": leaf_count(model.estimator),
        "compile_s": time.perf_counter() - start,
    }
    if out["sql_mb"] > WAREHOUSE_MAX_SQL_MB:
        out["warehouse_s"] = None
        return out
    try:
        stage = run_stage(config, "predict", "warehouse", timeout=WAREHOUSE_LIMIT_S)
    except subprocess.TimeoutExpired:
        out["warehouse_s"] = None
        return out
    out["warehouse_s"] = stage["seconds"]
    out["warehouse_rss_mb"] = stage["rss_mb"]
    return out


def warehouse_table(results: list[dict[str, Any]]) -> str:
    head = (
        "| model | rows | leaves | SQL | in-warehouse stage | Python stage | one process | "
        "in-warehouse / Python stage | in-warehouse / one process |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in results:
        w = r.get("warehouse_s")
        if w is None:
            why = "SQL too large" if r["sql_mb"] > WAREHOUSE_MAX_SQL_MB else "timed out"
            shown, ratio_stage, ratio_one = f"skipped ({why})", "-", "-"
        else:
            shown = f"{w:.2f} s"
            ratio_stage = f"{w / r['stage_s']:.2f}"
            ratio_one = f"{w / r['one_process_s']:.2f}"
        lines.append(
            f"| {r['model']} | {fmt_rows(r['rows']) if r['rows'] % 1000 else r['rows']} | "
            f"{r['leaves']:,} | {r['sql_mb']:.2f} MB | {shown} | {r['stage_s']:.2f} s | "
            f"{r['one_process_s']:.2f} s | {ratio_stage} | {ratio_one} |"
        )
    return head + "\n".join(lines)


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| model | rows | predict stage (mode) | one process | n_jobs=-1 | 100-row pool | "
        "stage / one process | naive / stage | stage peak RSS |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in results:
        threads = f"{r['threads_s']:.2f} s" if "threads_s" in r else "n/a"
        naive, naive_ratio = "-", "-"
        if "naive_s" in r:
            n = r["naive_s"]
            naive = f"{n:.1f} s" if n is not None else f"hung (> {NAIVE_LIMIT_S:.0f} s)"
            naive_ratio = (
                f"{n / r['stage_s']:.0f}x"
                if n is not None
                else f"> {NAIVE_LIMIT_S / r['stage_s']:.0f}x"
            )
        lines.append(
            f"| {r['model']} | {fmt_rows(r['rows']) if r['rows'] % 1000 else r['rows']:} | "
            f"{r['stage_s']:.2f} s ({r['stage_mode']}) | {r['one_process_s']:.2f} s | {threads} | "
            f"{naive} | {r['stage_s'] / r['one_process_s']:.2f} | {naive_ratio} | "
            f"{r['stage_rss_mb']:.0f} MB |"
        )
    return head + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--memory-limit", default=MEMORY_LIMIT, help="DuckDB's memory cap")
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the 100-row-batch recipe (minutes)"
    )
    args = parser.parse_args()
    set_memory_limit(args.memory_limit)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"cores: {len(os.sched_getaffinity(0))}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as tmp:
        for rows in sizes:
            for name in args.models.split(","):
                with section(f"{name} at {fmt_rows(rows)} rows"):
                    naive = rows <= 1_000_000 and not args.no_naive
                    r = measure(Path(tmp), name, rows, naive=naive)
                    print("  ", json.dumps(r), flush=True)
                    results.append(r)
    print()
    print(table(results))
    print()
    print(warehouse_table(results))
    for name in args.models.split(","):
        by_size = {r["rows"]: r for r in results if r["model"] == name}
        if len(by_size) > 1:
            small, large = by_size[min(by_size)], by_size[max(by_size)]
            print(
                f"{name}: predict stage peak RSS {large['stage_rss_mb']:.0f} MB at "
                f"{large['rows']:,} rows vs {small['stage_rss_mb']:.0f} MB at {small['rows']:,} "
                f"rows: {large['stage_rss_mb'] / small['stage_rss_mb']:.2f}x"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
