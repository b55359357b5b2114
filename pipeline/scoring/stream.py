"""Score a stream of Arrow batches with a trained model into JSON Lines part files.

The plan (`ScoringPlan`) says what to score and where: the part job, the row count, the
placement (a local mode or any `concurrent.futures.Executor`, a Dask client's say). A local
`auto` is resolved by the cost model in `pipeline.scoring.cost` on the first rows; the parent
keeps a bounded number of batches in flight (`pipeline.scoring.submit`), and a worker caps its
BLAS/OpenMP pools at one thread so N workers use N cores (`pipeline.scoring.workers`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor
from concurrent.futures import Executor as TaskExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import ScoringError
from pipeline.core.vocabulary import Executor
from pipeline.scoring.cost import SAMPLE_ROWS, choose_mode
from pipeline.scoring.executors import default_workers, run_local
from pipeline.scoring.modes import LOCAL_EXECUTORS
from pipeline.scoring.submit import run_bounded
from pipeline.scoring.tasks import PartJob, os_reason

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.model.trained import TrainedModel


@dataclass(frozen=True)
class Placement:
    """Where scoring tasks run: a local mode or an Executor, how many at once (0: one per
    core), what the predictions table calls it and why, and whether tasks ship their parts
    back as bytes (workers that do not share this disk)."""

    executor: Executor | TaskExecutor = Executor.auto
    workers: int = 0
    scored_by: str | None = None
    reason: str = "executor given by the caller"
    ship: bool = False


@dataclass(frozen=True)
class ScoringPlan:
    """What `score_batches` scores: `total_rows` rows for `job`, placed by `placement`, read in
    batches of `batch_rows` (the cost model counts the calls by it)."""

    job: PartJob
    total_rows: int
    placement: Placement = field(default_factory=Placement)
    batch_rows: int = 50_000


@dataclass
class ScoreReport:
    rows: int
    parts: list[Path]
    mode: str
    reason: str
    seconds: float


def score_batches(
    model: TrainedModel,
    batches: Iterator[pa.RecordBatch],
    plan: ScoringPlan,
    progress: Callable[[int], None] | None = None,
) -> ScoreReport:
    """Score every batch into part files under the job's out_dir (emptied first); `progress`
    hears the rows of each part done."""
    start = time.perf_counter()
    where = plan.placement
    job = replace(plan.job, ship=where.ship)
    out = Path(job.out_dir)
    shutil.rmtree(out, ignore_errors=True)
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise ScoringError(f"cannot create the parts directory {out}: {os_reason(exc)}") from exc
    workers = where.workers or default_workers()
    batches = (b for b in batches if b.num_rows)  # a warehouse may send an empty first page
    head = _take_rows(batches, SAMPLE_ROWS)
    if not head:
        return ScoreReport(
            0, [], Executor.inprocess, "no rows to score", time.perf_counter() - start
        )
    stream = _chain(head, batches)
    reason = where.reason
    try:
        if isinstance(where.executor, TaskExecutor):
            mode: str = where.scored_by or type(where.executor).__name__
            job = replace(job, scored_by=mode)
            results = run_bounded(where.executor, stream, job, 2 * workers, progress)
        else:
            local = _local_mode(where.executor)
            if local == Executor.auto:
                local, reason = choose_mode(
                    model, _sample(head), plan.total_rows, workers, job, plan.batch_rows
                )
            else:
                reason = f"executor {local!r} requested"
            mode = local.value
            job = replace(job, scored_by=mode)
            results = run_local(local, model, stream, job, workers, progress)
    except BrokenExecutor as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise ScoringError(
            "a scoring worker died (killed, or out of memory) before its batch was done; "
            f"nothing of run {job.run_id} was written to the predictions table"
        ) from exc
    except OSError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise ScoringError(
            f"scoring into {out} failed: {os_reason(exc)} ({exc.filename or out}); "
            f"nothing of run {job.run_id} was written to the predictions table"
        ) from exc
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    results.sort()
    return ScoreReport(
        rows=sum(n for _, n in results),
        parts=[Path(p) for p, _ in results],
        mode=mode,
        reason=reason,
        seconds=time.perf_counter() - start,
    )


def _local_mode(executor: Executor) -> Executor:
    """The local mode a placement names; "dask" and "warehouse" are not placed here."""
    if executor not in LOCAL_EXECUTORS:
        known = ", ".join(LOCAL_EXECUTORS)
        raise ValueError(f"unknown executor {executor!r}; known: {known}")
    return executor


def _take_rows(batches: Iterator[pa.RecordBatch], rows: int) -> list[pa.RecordBatch]:
    """The first batches, until they hold `rows` rows (the warehouse may yield small ones)."""
    head: list[pa.RecordBatch] = []
    while sum(b.num_rows for b in head) < rows:
        batch = next(batches, None)
        if batch is None:
            break
        head.append(batch)
    return head


def _sample(head: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    return pa.Table.from_batches(head).combine_chunks().to_batches()[0]


def _chain(head: list[pa.RecordBatch], rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from head
    yield from rest
