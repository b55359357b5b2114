"""One stage's floor in a fresh process, for bench/scale.py: the same work done the shortest way
we can write it, timed, then checked against what the pipeline's stage wrote (the check is not
timed). Prints one JSON line: seconds, the timed parts, rows, this process's peak RSS, checks.

    python bench/_scale_floor.py PROJECT_DIR preprocess|train|predict|evaluate MEMORY_LIMIT

The floor writes into `floor.duckdb` beside the project's warehouse, which it attaches
read-only as `wh`; it reads nothing the pipeline's JSON Lines parts hold."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import joblib
import numpy as np
import pyarrow as pa
import sklearn.ensemble
import sklearn.linear_model  # noqa: F401

from bench import _scale_sql as S
from bench.common import peak_rss_mb

BATCH_ROWS = 1_000_000
TABLES = ["clean", "feature_stats", "features_train", "features_holdout", "features_test"]


def connect(project: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(project / "floor.duckdb"), config={"memory_limit": memory_limit})
    con.execute(f"ATTACH '{project / 'warehouse.duckdb'}' AS wh (READ_ONLY)")
    con.execute("CREATE SCHEMA IF NOT EXISTS fl")
    return con


def checksum(con: duckdb.DuckDBPyConnection, relation: str) -> list[Any]:
    """Row count and an order-free sum of row hashes (run ids left out: they differ)."""
    row = con.execute(
        f"SELECT count(*), sum(hash(t)) FROM (SELECT * EXCLUDE (run_id) FROM {relation}) AS t"
        if relation.endswith("feature_stats")
        else f"SELECT count(*), sum(hash(t)) FROM (SELECT * FROM {relation}) AS t"
    ).fetchall()[0]
    return [int(row[0]), str(row[1])]


def preprocess(con: duckdb.DuckDBPyConnection, parts: dict[str, float]) -> tuple[int, dict]:
    start = time.perf_counter()
    violations = con.execute(S.CONTRACTS).fetchall()[0]
    parts["contracts"] = time.perf_counter() - start
    for statement in S.preprocess_script():
        con.execute(statement)
    parts["tables"] = time.perf_counter() - start - parts["contracts"]
    rows = int(violations[0]) + int(violations[10])
    checks = {t: checksum(con, f"wh.pipeline.{t}") == checksum(con, f"fl.{t}") for t in TABLES}
    return rows, checks


def model_dir(project: Path) -> Path:
    (found,) = sorted((project / "models").glob("*/model.json"))
    return found.parent


def arrays(batch: pa.RecordBatch, names: list[str]) -> np.ndarray:
    X = np.empty((batch.num_rows, len(names)))  # X: (n_rows, n_features)
    for j, name in enumerate(names):
        X[:, j] = batch.column(name).to_numpy(zero_copy_only=False)
    return X


def train(
    con: duckdb.DuckDBPyConnection, project: Path, parts: dict[str, float]
) -> tuple[int, dict]:
    from pipeline.config import load_config
    from pipeline.render.dialect import DUCKDB
    from pipeline.render.templates import templates_for
    from pipeline.stages.estimator import make_estimator
    from pipeline.stages.train import fingerprint, sample_sql

    config = load_config(project / "pipeline.toml")
    meta = json.loads((model_dir(project) / "model.json").read_text())
    names = meta["feature_names"]
    rows = config.train.sample_rows or 10**12
    sql = sample_sql(templates_for(config.sql_dir, DUCKDB), "fl_train", "PassengerId", rows)
    start = time.perf_counter()
    con.execute("CREATE OR REPLACE TEMP VIEW fl_train AS SELECT * FROM wh.pipeline.features_train")
    table = con.sql(sql).to_arrow_table()
    X = arrays(table.combine_chunks().to_batches()[0], names)  # X: (n_sample, n_features)
    y = table.column("Survived").to_numpy()  # y: (n_sample,)
    con.close()  # nothing of DuckDB's runs beside the fit
    parts["read"] = time.perf_counter() - start
    estimator = make_estimator(config.model.estimator, config.model.params)
    estimator.fit(X, y)
    parts["fit"] = time.perf_counter() - start - parts["read"]
    return len(y), {"sample": fingerprint(X, y) == meta["train_fingerprint"]}


def predict_all_cores(estimator: Any, X: np.ndarray) -> np.ndarray:
    """predict_proba on every core: a forest's own threads, else row blocks on threads (BLAS
    and the tree walks release the GIL). proba: (n_rows, n_classes)"""
    if "n_jobs" in estimator.get_params():
        return estimator.set_params(n_jobs=-1).predict_proba(X)
    blocks = np.array_split(X, os.cpu_count() or 1)
    with ThreadPoolExecutor(len(blocks)) as pool:
        return np.concatenate(list(pool.map(estimator.predict_proba, blocks)))


def predict(
    con: duckdb.DuckDBPyConnection, project: Path, parts: dict[str, float]
) -> tuple[int, dict]:
    directory = model_dir(project)
    meta = json.loads((directory / "model.json").read_text())
    names, model_id = meta["feature_names"], meta["model_id"]
    estimator = joblib.load(directory / "model.joblib")
    out = project / "floor-parts"
    out.mkdir(exist_ok=True)
    parts.update(read=0.0, predict=0.0, jsonl=0.0)
    rows, clock = 0, time.perf_counter()
    sql = " UNION ALL ".join(
        f'SELECT * EXCLUDE ("Survived") FROM wh.pipeline.features_{d}'
        if d == "holdout"
        else f"SELECT * FROM wh.pipeline.features_{d}"
        for d in ("holdout", "test")
    )
    reader = con.cursor().execute(sql).to_arrow_reader(BATCH_ROWS)
    for i, batch in enumerate(reader):
        X = arrays(batch, names)  # X: (batch_rows, n_features)
        parts["read"] += time.perf_counter() - clock
        clock = time.perf_counter()
        proba = predict_all_cores(estimator, X)
        result = pa.table(
            {
                "model_id": pa.repeat(pa.scalar(model_id), len(X)),
                "PassengerId": batch.column("PassengerId"),
                "dataset": batch.column("dataset"),
                "prediction": estimator.classes_[proba.argmax(axis=1)],
                "score": proba[:, 1],
            }
        )
        parts["predict"] += time.perf_counter() - clock
        clock = time.perf_counter()
        con.register("result", result)
        con.execute(f"COPY result TO '{out / f'part-{i:05d}.jsonl'}' (FORMAT JSON)")
        con.unregister("result")
        parts["jsonl"] += time.perf_counter() - clock
        rows += len(X)
        clock = time.perf_counter()
    con.execute(
        "CREATE OR REPLACE TABLE fl.predictions AS SELECT * FROM read_json("
        f"'{out}/part-*.jsonl', format = 'newline_delimited', columns = {{model_id: 'VARCHAR', "
        "PassengerId: 'BIGINT', dataset: 'VARCHAR', prediction: 'BIGINT', score: 'DOUBLE'})"
    )
    parts["jsonl"] += time.perf_counter() - clock
    for path in out.iterdir():
        path.unlink()
    out.rmdir()
    # the same rows; scores equal up to the order of a forest's threaded sums
    n_pipeline, n_floor, differ, worst = con.execute(
        "SELECT (SELECT count(*) FROM wh.pipeline.predictions), (SELECT count(*) FROM "
        "fl.predictions), count(*) FILTER (a.prediction <> b.prediction), "
        "max(abs(a.score - b.score)) FROM wh.pipeline.predictions AS a JOIN fl.predictions AS b "
        'USING (model_id, "PassengerId", dataset)'
    ).fetchall()[0]
    same = n_pipeline == n_floor == rows and differ == 0 and (worst or 0) <= 1e-12
    return rows, {"predictions": same}


def evaluate(
    con: duckdb.DuckDBPyConnection, project: Path, parts: dict[str, float]
) -> tuple[int, dict]:
    model_id = json.loads((model_dir(project) / "model.json").read_text())["model_id"]
    start = time.perf_counter()
    found = con.execute(S.metrics_sql(model_id)).fetchall()
    parts["metrics"] = time.perf_counter() - start
    pipeline = {
        (s, g, m): v
        for s, g, m, v in con.execute(
            "SELECT slice, segment, metric, value FROM wh.pipeline.metrics "
            f"WHERE dataset = 'holdout' AND model_id = '{model_id}'"
        ).fetchall()
    }
    names = ["rows", "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
    same = all(
        abs(pipeline[(row[0], row[1], m)] - v) <= 1e-9 * max(1.0, abs(v))
        for row in found
        for m, v in zip(names, row[2:], strict=True)
        if v is not None and (row[0], row[1], m) in pipeline
    )
    rows = next(int(row[2]) for row in found if row[0] == "all")
    return rows, {"metrics": same}


def main() -> None:
    project, stage, memory_limit = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    con = connect(project, memory_limit)
    parts: dict[str, float] = {}
    if stage == "preprocess":
        rows, checks = preprocess(con, parts)
    else:
        rows, checks = {"train": train, "predict": predict, "evaluate": evaluate}[stage](
            con, project, parts
        )
    print(
        json.dumps(
            {
                "seconds": sum(parts.values()),
                "parts": parts,
                "rows": rows,
                "rss_mb": peak_rss_mb(),
                "checks": checks,
            }
        )
    )


if __name__ == "__main__":
    main()
