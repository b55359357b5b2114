"""Which local mode scores a table fastest: one process, threads or worker processes.

The choice times the whole task (features to JSON Lines) on a sample of the rows in this
process, then adds what the timing cannot show: starting workers and moving rows to them.
Those two are constants measured on the development machine (a pickle through a pipe, a fork
and teardown); they only need to be right in order of magnitude to pick the right mode.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.core.vocabulary import Executor
from pipeline.scoring.modes import describe_mode
from pipeline.scoring.tasks import PartJob, score_part
from pipeline.scoring.workers import register_model

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.model.trained import TrainedModel

#: rows timed before choosing between in-process and worker scoring
SAMPLE_ROWS = 5_000
#: measured: moving a batch to a worker and back, per byte of feature data (pickle + pipe)
TRANSFER_SECONDS_PER_BYTE = 1.0e-9
#: measured: forking and tearing down one worker
WORKER_START_SECONDS = 0.05


def gil_free_predict(estimator: object) -> bool:
    """Whether the estimator's predict walks trees in Cython without the GIL, so threads scale
    with cores (a subclass walks its trees as its parent does)."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    forests = (RandomForestClassifier, RandomForestRegressor)
    return isinstance(estimator, (*forests, ExtraTreesClassifier, ExtraTreesRegressor))


def choose_mode(
    model: TrainedModel,
    sample: pa.RecordBatch,
    total_rows: int,
    workers: int,
    job: PartJob,
    batch_rows: int,
) -> tuple[Executor, str]:
    """The fastest of one process, threads and worker processes for `auto`, and why, by timing
    the whole task on `sample` in this process.

    Two sample sizes separate a task's per-call cost from its per-row cost. Threads are timed
    too, on the sample split in two: scikit-learn's trees and BLAS release the GIL, and threads
    move no rows; a model that holds the GIL shows no gain there. Processes cost their start-up
    and the transfer of every row."""
    if workers < 2:
        return Executor.inprocess, "one core"
    if total_rows <= SAMPLE_ROWS or sample.num_rows < SAMPLE_ROWS:
        return Executor.inprocess, f"only {total_rows:,} rows: not worth starting workers"
    small, large = sample.slice(0, SAMPLE_ROWS // 5), sample.slice(0, SAMPLE_ROWS)
    halves = [large.slice(0, SAMPLE_ROWS // 2), large.slice(SAMPLE_ROWS // 2)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pair:
        probe = replace(job, out_dir=tmp, ship=False)
        register_model(job.model_dir, model)
        score_part(small, 0, probe)  # warm caches
        t_small = _best_time(lambda: score_part(small, 1, probe))
        t_large = _best_time(lambda: score_part(large, 2, probe))
        t_pair = _best_time(
            lambda: list(pair.map(lambda i: score_part(halves[i], 3 + i, probe), (0, 1)))
        )
    # a task costs per_call + per_row * rows
    per_row = max(t_large - t_small, 0.0) / max(large.num_rows - small.num_rows, 1)
    per_call = max(t_small - per_row * small.num_rows, 0.0)
    calls = max(total_rows // max(batch_rows, 1), 1)
    one = per_row * total_rows + per_call * calls
    # two threads ran the sample `gain` times faster than one; more threads scale alike. A
    # forest walks its trees without the GIL, but its per-call overhead hides that on a sample
    # split in two: threads scale with the cores there (measured: twice as fast on two threads
    # as in one), so the noisy probe is not asked.
    gain = max(t_large / max(t_pair, 1e-9), 1.0)
    if gil_free_predict(model.estimator):
        gain = max(gain, 2.0)
    threads = one / max(1.0, (gain - 1.0) * (workers - 1) + 1.0)
    bytes_per_row = large.nbytes / max(large.num_rows, 1)
    processes = (
        one / workers
        + WORKER_START_SECONDS * workers
        + TRANSFER_SECONDS_PER_BYTE * bytes_per_row * total_rows
    )
    estimates = {Executor.inprocess: one, Executor.thread: threads, Executor.process: processes}
    mode = min(estimates, key=lambda m: estimates[m])
    shown = ", ".join(f"{describe_mode(m)} ~{t:.2f} s" for m, t in estimates.items())
    return mode, f"{shown} for {total_rows:,} rows on {workers} cores"


def _best_time(fn: Callable[[], object], repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
