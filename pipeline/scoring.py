"""Score Arrow batches with a trained model, in worker processes or in-process, into JSON Lines.

Workers load the model once (the pool's initializer), cap their BLAS/OpenMP pools at one thread
so N workers use N cores and not N squared threads, and write their own part files with DuckDB's
JSON writer (vectorized; doubles round-trip exactly). The parent keeps a bounded number of
batches in flight, so memory does not grow with the table.

Start method: forkserver, set explicitly. The parent holds an open DuckDB connection with its own
threads; forking such a process can copy a held lock into the child. A forkserver is started
fresh before any of that, preloads scikit-learn once, and forks clean workers from itself.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.model import TrainedModel

#: what starting a pool of workers costs before the first row is scored (forkserver, importing
#: scikit-learn once); below this much estimated scoring time, in-process scoring wins
POOL_START_SECONDS = 1.5
SAMPLE_ROWS = 2_000


@dataclass(frozen=True)
class PartJob:
    """What every part file carries besides the scored rows."""

    run_id: str
    model_id: str
    id_column: str
    out_dir: str


@dataclass
class ScoreReport:
    rows: int
    parts: list[Path]
    mode: str
    reason: str
    seconds: float


# --- in the worker ---------------------------------------------------------------------------
_STATE: dict[str, Any] = {}


def init_worker(model_dir: str) -> None:
    """Pool initializer: load the model once per worker, one thread per worker."""
    from threadpoolctl import threadpool_limits

    from pipeline.model import TrainedModel

    _STATE["limits"] = threadpool_limits(limits=1)
    _STATE["model"] = TrainedModel.load(model_dir)


def _use_model(model: TrainedModel) -> None:
    _STATE["model"] = model


def score_part(batch: pa.RecordBatch, part: int, job: PartJob) -> tuple[str, int]:
    """Score one batch and write it as one JSON Lines file; returns (path, rows)."""
    import duckdb
    import pyarrow as pa

    from pipeline.model import feature_matrix

    model: TrainedModel = _STATE["model"]
    X = feature_matrix(batch, model.feature_names)  # X: (n_rows, n_features)
    labels, score = model.predict_arrays(X)  # (n_rows,), (n_rows,) or None
    n = batch.num_rows
    table = pa.table(
        {
            job.id_column: batch.column(job.id_column),
            "dataset": batch.column("dataset"),
            "prediction": pa.array(labels),
            "score": pa.array(score, type=pa.float64())
            if score is not None
            else pa.nulls(n, pa.float64()),
        }
    )
    path = os.path.join(job.out_dir, f"part-{part:05d}.jsonl")
    con = _STATE.get("con")
    if con is None:
        con = _STATE["con"] = duckdb.connect()
    con.register("scored", table)
    con.execute(
        "COPY (SELECT $run AS run_id, $model AS model_id, * FROM scored) TO "
        f"'{path.replace(chr(39), chr(39) * 2)}' (FORMAT JSON)",
        {"run": job.run_id, "model": job.model_id},
    ).fetchall()
    con.unregister("scored")
    return path, n


# --- in the parent ---------------------------------------------------------------------------
def choose_mode(
    model: TrainedModel, sample: pa.RecordBatch, total_rows: int, workers: int, requested: str
) -> tuple[str, str]:
    """Process workers only when scoring costs more than starting and feeding them."""
    if requested != "auto":
        return requested, f"executor {requested!r} requested"
    if workers < 2:
        return "inprocess", "one worker available"
    from pipeline.model import feature_matrix

    rows = sample.slice(0, SAMPLE_ROWS)
    X = feature_matrix(rows, model.feature_names)  # X: (n_sample, n_features)
    start = time.perf_counter()
    model.predict_arrays(X)
    per_row = (time.perf_counter() - start) / max(rows.num_rows, 1)
    estimate = per_row * total_rows
    if estimate < POOL_START_SECONDS:
        return (
            "inprocess",
            f"~{estimate:.2f} s of model time for {total_rows:,} rows is less than the "
            f"~{POOL_START_SECONDS} s it takes to start {workers} workers",
        )
    return (
        "process",
        f"~{estimate:.1f} s of model time for {total_rows:,} rows, split over {workers} workers",
    )


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def make_process_executor(model_dir: Path, workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.scoring", "sklearn.ensemble", "sklearn.linear_model"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(str(model_dir),),
    )


def score_batches(
    model: TrainedModel,
    batches: Iterator[pa.RecordBatch],
    total_rows: int,
    job: PartJob,
    executor: str = "auto",
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ScoreReport:
    """Score every batch into part files under job.out_dir (emptied first)."""
    start = time.perf_counter()
    out = Path(job.out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    workers = workers or default_workers()
    first = next(batches, None)
    if first is None:
        return ScoreReport(0, [], "inprocess", "no rows to score", 0.0)
    mode, reason = choose_mode(model, first, total_rows, workers, executor)
    stream = _chain(first, batches)
    try:
        if mode == "inprocess":
            _use_model(model)
            results = [score_part(b, i, job) for i, b in enumerate(stream) if _tick(progress, b)]
        else:
            if model.directory is None:
                raise ValueError("process scoring needs a saved model directory")
            with make_process_executor(model.directory, workers) as pool:
                results = run_bounded(pool, stream, job, 2 * workers, progress)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    parts = [Path(p) for p, _ in sorted(results)]
    rows = sum(n for _, n in results)
    return ScoreReport(rows, parts, mode, reason, time.perf_counter() - start)


def run_bounded(
    pool: Executor,
    batches: Iterator[pa.RecordBatch],
    job: PartJob,
    max_in_flight: int,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[str, int]]:
    """Submit batches to any concurrent.futures.Executor with at most max_in_flight pending."""
    pending: set[Future[tuple[str, int]]] = set()
    results: list[tuple[str, int]] = []

    def collect(done: set[Future[tuple[str, int]]]) -> None:
        for future in done:
            path, n = future.result()
            results.append((path, n))
            if progress:
                progress(n)

    try:
        for i, batch in enumerate(batches):
            if len(pending) >= max_in_flight:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
            pending.add(pool.submit(score_part, batch, i, job))
        done, pending = wait(pending)
        collect(done)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    return results


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _tick(progress: Callable[[int], None] | None, batch: pa.RecordBatch) -> bool:
    if progress:
        progress(batch.num_rows)
    return True
