"""The bounded submission loop: any `concurrent.futures.Executor` scores a stream of batches
with at most a fixed number of them in flight, so memory does not grow with the table, and
the next batch is read from the warehouse while the workers score."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

from pipeline.scoring.tasks import PartJob, score_part, write_part
from pipeline.scoring.workers import sigint_held

if TYPE_CHECKING:
    import pyarrow as pa

#: what a task returns: the part's path (or its bytes, shipped back) and its row count
Result = tuple[str | bytes, int]


def run_bounded(
    pool: Executor,
    batches: Iterator[pa.RecordBatch],
    job: PartJob,
    max_in_flight: int,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[str, int]]:
    """Submit batches to `pool` with at most max_in_flight pending; returns (path, rows) per
    part. Parts a worker ships back (`job.ship`) are written here."""
    parts: dict[Future[Result], int] = {}
    pending: set[Future[Result]] = set()
    results: list[tuple[str, int]] = []

    def collect(done: set[Future[Result]]) -> None:
        for future in done:
            payload, n = future.result()
            part = parts.pop(future)
            path = payload if isinstance(payload, str) else write_part(job.out_dir, part, payload)
            results.append((path, n))
            if progress:
                progress(n)

    try:
        for i, batch in enumerate(batches):
            if len(pending) >= max_in_flight:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
            if isinstance(pool, ProcessPoolExecutor):
                with sigint_held():  # a submit may fork the pool's workers
                    future = pool.submit(score_part, batch, i, job)
            else:
                future = pool.submit(score_part, batch, i, job)
            parts[future] = i
            pending.add(future)
        done, pending = wait(pending)
        collect(done)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    return results
