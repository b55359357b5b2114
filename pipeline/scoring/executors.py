"""The local modes' executors: worker processes holding the model, a thread pool, or the
calling thread.

Start method: fork, set explicitly (Python 3.14 changes the Linux default to forkserver). Forked
workers inherit the loaded model and scikit-learn and start in milliseconds, where forkserver and
spawn pay seconds of imports. It is safe with the parent's open DuckDB connection because a worker
never calls into DuckDB: it gets Arrow batches and writes JSON with Arrow, so no DuckDB lock
copied at fork can be waited on. Where fork is not available, forkserver is used.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor as TaskExecutor
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from pipeline.core.vocabulary import Executor
from pipeline.scoring.submit import run_bounded
from pipeline.scoring.tasks import PartJob, score_part
from pipeline.scoring.workers import forking_workers, init_worker, register_model

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.model.trained import TrainedModel


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods and sys.platform != "darwin" else "forkserver"


def process_executor(model: TrainedModel, workers: int) -> ProcessPoolExecutor:
    """A pool whose workers hold `model`: inherited by fork, else loaded by the initializer."""
    assert model.directory is not None, "process scoring needs a saved model directory"
    model_dir = str(model.directory)
    register_model(model_dir, model)  # what forked workers inherit
    method = start_method()
    context = multiprocessing.get_context(method)
    # a forked worker's parent is this process; a forkserver's is the server
    parent = os.getpid() if method == "fork" else None
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(model_dir, True, model.signing_key, parent),
    )


def run_local(
    mode: Executor,
    model: TrainedModel,
    stream: Iterator[pa.RecordBatch],
    job: PartJob,
    workers: int,
    progress: Callable[[int], None] | None,
) -> list[tuple[str, int]]:
    """Score every batch in `mode` (inprocess, thread or process); (path, rows) per part."""
    if mode == Executor.inprocess:
        register_model(job.model_dir, model)
        results = []
        for i, batch in enumerate(stream):
            path, n = score_part(batch, i, job)
            results.append((str(path), n))
            if progress:
                progress(batch.num_rows)
        return results
    pool: TaskExecutor
    forking: AbstractContextManager[None]
    if mode == Executor.thread:
        register_model(job.model_dir, model)
        pool = ThreadPoolExecutor(max_workers=workers)
        forking = nullcontext()
    else:
        pool = process_executor(model, workers)
        forking = forking_workers()
    with forking, pool:
        return run_bounded(pool, stream, job, 2 * workers, progress)
