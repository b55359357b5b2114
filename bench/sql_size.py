"""Where compiling a model to SQL stops being practical: for ensembles of growing size, in one
run, the SQL's size, the time to compile it, DuckDB's time to plan it and to score rows with
it, against predict_proba in one process on the same rows already in memory.

    python -m bench.sql_size [--rows 100000] [--train-rows 20000]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import pyarrow as pa

from bench.common import REPO, section
from pipeline.render.compile import compile_estimator, leaf_count, scoring_query
from pipeline.render.templates import Templates
from pipeline.warehouse.duckdb import DuckDBWarehouse

N_FEATURES = 13  # as many as the Titanic example's features
MAX_SQL_MB = 60.0  # past this, not even planned
GRID: list[tuple[str, dict[str, Any]]] = [
    ("RandomForestClassifier", {"n_estimators": 10, "max_depth": 6}),
    ("RandomForestClassifier", {"n_estimators": 100, "max_depth": 6}),
    ("RandomForestClassifier", {"n_estimators": 300, "max_depth": 6}),
    ("RandomForestClassifier", {"n_estimators": 1000, "max_depth": 6}),
    ("RandomForestClassifier", {"n_estimators": 100, "max_depth": 10}),
    ("RandomForestClassifier", {"n_estimators": 100, "max_depth": 14}),
    ("RandomForestClassifier", {"n_estimators": 100, "max_depth": None}),
    ("HistGradientBoostingClassifier", {"max_iter": 100}),
    ("HistGradientBoostingClassifier", {"max_iter": 500}),
    ("LogisticRegression", {"max_iter": 1000}),
]


def data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, N_FEATURES))  # X: (n_rows, n_features)
    X[:, :4] = np.round(X[:, :4])  # a few discrete columns, as one-hot and counts are
    signal = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + 0.5 * X[:, 3:8].sum(axis=1)
    y = (signal + rng.normal(0, 1, rows) > 0).astype(int)  # y: (n_rows,)
    return X, y


def estimator(name: str, params: dict[str, Any]) -> Any:
    from sklearn import ensemble, linear_model

    module = linear_model if name == "LogisticRegression" else ensemble
    return getattr(module, name)(random_state=0, **params)


def measure(name: str, params: dict[str, Any], X_train: Any, y: Any, X: Any) -> dict[str, Any]:
    model = estimator(name, params).fit(X_train, y)
    features = [f"x{j}" for j in range(N_FEATURES)]
    out: dict[str, Any] = {"model": name, "params": params, "leaves": leaf_count(model)}
    start = time.perf_counter()
    compiled = compile_estimator(model, features, DuckDBWarehouse.dialect)
    out["compile_s"] = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_proba(X)
    out["python_s"] = time.perf_counter() - start
    with DuckDBWarehouse.in_memory() as wh:
        wh.execute(f"SET threads = {len(os.sched_getaffinity(0))}")
        columns = {f: X[:, j] for j, f in enumerate(features)}
        ids = {"id": np.arange(len(X)), "dataset": ["test"] * len(X)}
        wh.register("rows", pa.table({**ids, **columns}))
        templates = Templates(REPO / "sql", wh.dialect)
        sql = scoring_query(templates, compiled, "SELECT * FROM rows", "id", "BIGINT", "r", "m").sql
        out["sql_mb"] = len(sql.encode()) / 1e6
        if out["sql_mb"] > MAX_SQL_MB:
            return out
        with wh.wide_queries():
            start = time.perf_counter()
            wh.execute("EXPLAIN " + sql)
            out["plan_s"] = time.perf_counter() - start
            start = time.perf_counter()
            wh.execute(f"CREATE TABLE scored AS {sql}")
            out["sql_s"] = time.perf_counter() - start
    return out


def table(results: list[dict[str, Any]], rows: int) -> str:
    head = (
        f"| model | leaves | SQL | compile | DuckDB plan | DuckDB score {rows:,} rows | "
        "predict_proba | SQL / Python |\n|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        if "sql_s" in r:
            plan, run = f"{r['plan_s']:.2f} s", f"{r['sql_s']:.2f} s"
            ratio = f"{r['sql_s'] / r['python_s']:.1f}x"
        else:
            plan, run, ratio = "skipped", "skipped", "-"
        lines.append(
            f"| {r['model']} ({params}) | {r['leaves']:,} | {r['sql_mb']:.2f} MB | "
            f"{r['compile_s']:.2f} s | {plan} | {run} | {r['python_s']:.2f} s | {ratio} |"
        )
    return head + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows scored")
    parser.add_argument("--train-rows", type=int, default=20_000)
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}")
    X_train, y = data(args.train_rows, 0)
    X, _ = data(args.rows, 1)
    results = []
    for name, params in GRID:
        with section(f"{name} {params}"):
            r = measure(name, params, X_train, y, X)
            print("  ", r, flush=True)
            results.append(r)
    print()
    print(table(results, args.rows))


if __name__ == "__main__":
    main()
