"""Score Arrow batches with a trained model into JSON Lines part files, on any executor.

A task is `score_part(batch, part, job)`: it needs nothing from the process it runs in but the
model directory named in `job`, so a process pool, a thread pool, the calling thread or a Dask
client's executor can all run it. A worker loads the model once (or inherits it by fork), caps
its BLAS/OpenMP pools at one thread so N workers use N cores rather than N squared threads, and
writes its part with the Arrow writer in `pipeline.scoring.jsonl`. The parent keeps a bounded
number of batches in flight, so memory does not grow with the table.

Start method: fork, set explicitly (Python 3.14 changes the Linux default to forkserver). Forked
workers inherit the loaded model and scikit-learn and start in milliseconds, where forkserver and
spawn pay seconds of imports. It is safe with the parent's open DuckDB connection because a worker
never calls into DuckDB: it gets Arrow batches and writes JSON with Arrow, so no DuckDB lock
copied at fork can be waited on. Where fork is not available, forkserver is used.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import ScoringError

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.core.keys import SigningKey
    from pipeline.model.trained import TrainedModel

#: modes that score Arrow batches in Python on this machine (every `--executor` is listed
#: in pipeline.config.EXECUTORS; "dask" and "warehouse" are placed by the predict stage)
LOCAL_EXECUTORS = ("auto", "process", "thread", "inprocess")
#: rows timed before choosing between in-process and worker scoring
SAMPLE_ROWS = 5_000
#: moving a batch to a worker and back, per byte of feature data (pickle + pipe, measured here)
TRANSFER_SECONDS_PER_BYTE = 1.0e-9
#: forking and tearing down one worker
WORKER_START_SECONDS = 0.05
#: estimators whose predict walks trees in Cython without the GIL: threads scale with cores
GIL_FREE_PREDICT = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
    }
)


@dataclass(frozen=True)
class PartJob:
    """Everything a task needs besides its batch."""

    run_id: str
    model_id: str
    model_dir: str
    id_column: str
    out_dir: str
    scored_by: str = ""  # the predictions table's `scored_by` value
    #: return the part's bytes instead of writing it: for workers that do not share this disk
    ship: bool = False


@dataclass(frozen=True)
class Placement:
    """Where scoring tasks run: a mode name or an Executor, how many at once, what the
    predictions table calls it and why, and whether tasks ship their parts back as bytes
    (workers that do not share this disk)."""

    executor: str | Executor
    workers: int
    scored_by: str | None = None
    reason: str = "executor given by the caller"
    ship: bool = False


@dataclass
class ScoreReport:
    rows: int
    parts: list[Path]
    mode: str
    reason: str
    seconds: float


# --- in the worker ---------------------------------------------------------------------------
_MODELS: dict[str, TrainedModel] = {}
#: prctl(2) option: the signal this process gets when its parent dies
PR_SET_PDEATHSIG = 1
#: this process's pid while it runs a process pool: a child forked then is one of its workers
_POOL_PARENT: int | None = None
_LOCK = threading.Lock()


def limit_threads() -> None:
    """One BLAS/OpenMP thread in this process: parallelism comes from the workers."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def init_worker(
    model_dir: str, limit: bool = True, key: SigningKey | None = None, parent: int | None = None
) -> None:
    """Pool initializer: load the model once per worker (a forked worker already has it).

    Ctrl-C reaches the whole process group: the parent handles it and tears the pool down, so
    a worker ignores it rather than print its own traceback. A worker dies with its parent
    (`parent`: the pid that forked it) instead of living on as an orphan holding a model."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # held back while forking (`sigint_held`): drop it
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    die_with_parent(parent)
    if limit:
        limit_threads()
    model_for(model_dir, key)


@contextmanager
def sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back in this thread: a worker forked in here inherits the mask and ignores
    the signal in its initializer, so a Ctrl-C that lands while it starts cannot give it a
    traceback. This process gets the signal as soon as the block ends."""
    main = threading.current_thread() is threading.main_thread()
    if not main or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def die_with_parent(parent: int | None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, then check that the parent did
    not die before the request (the fork-to-prctl race). Elsewhere the pool's own pipes end an
    orphaned worker once it next looks for work."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def register_model(model_dir: str, model: TrainedModel) -> None:
    """Make `model` the one tasks naming `model_dir` use in this process."""
    with _LOCK:
        _MODELS[model_dir] = model


def forget_model(model_dir: str) -> None:
    with _LOCK:
        _MODELS.pop(model_dir, None)


def model_for(model_dir: str, key: SigningKey | None = None) -> TrainedModel:
    """The model tasks naming `model_dir` use: registered (or inherited by fork) after the
    parent verified it, else loaded here, checked with `key` when there is one."""
    model = _MODELS.get(model_dir)
    if model is None:
        with _LOCK:
            model = _MODELS.get(model_dir)
            if model is None:
                from pipeline.model.trained import TrainedModel

                model = _MODELS[model_dir] = TrainedModel.load(model_dir, key)
    return model


def score_part(batch: pa.RecordBatch, part: int, job: PartJob) -> tuple[str | bytes, int]:
    """Score one batch into one JSON Lines part; returns (path, rows), or (the part's bytes,
    rows) when the job ships results back to the parent."""
    import pyarrow as pa

    from pipeline.model.trained import column, feature_matrix
    from pipeline.scoring.jsonl import encode_jsonl

    model = model_for(job.model_dir)
    X = feature_matrix(batch, model.feature_names)  # X: (n_rows, n_features)
    labels, score = model.predict_arrays(X)  # (n_rows,), (n_rows,) or None
    n = batch.num_rows
    columns = {
        job.id_column: column(batch, job.id_column),
        "dataset": column(batch, "dataset"),
        "prediction": labels,
        "score": score if score is not None else pa.nulls(n, pa.float64()),
    }
    constants = {"run_id": job.run_id, "model_id": job.model_id, "scored_by": job.scored_by}
    data, _ = encode_jsonl(columns, constants)
    if job.ship:
        return data.tobytes(), n
    return write_part(job.out_dir, part, data), n


def write_part(out_dir: str, part: int, data: bytes | memoryview) -> str:
    """Write one part; a full disk (or any OS refusal) is a ScoringError naming the file."""
    path = os.path.join(out_dir, f"part-{part:06d}.jsonl")
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise ScoringError(
            f"cannot write the scoring part {path}: {_os_reason(exc)}; nothing of the run was "
            "written to the predictions table"
        ) from exc
    return path


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


# --- in the parent ---------------------------------------------------------------------------
def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods and sys.platform != "darwin" else "forkserver"


def process_executor(model: TrainedModel, workers: int) -> ProcessPoolExecutor:
    """A pool whose workers hold `model`: inherited by fork, else loaded by the initializer."""
    assert model.directory is not None, "process scoring needs a saved model directory"
    model_dir = str(model.directory)
    _MODELS[model_dir] = model  # what forked workers inherit
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


def choose_mode(
    model: TrainedModel,
    sample: pa.RecordBatch,
    total_rows: int,
    workers: int,
    requested: str,
    job: PartJob,
    batch_rows: int,
) -> tuple[str, str]:
    """The fastest of one process, threads and worker processes, by timing the whole task
    (features to JSON Lines) on a sample in this process.

    Two sample sizes separate a task's per-call cost from its per-row cost. Threads are timed
    too, on the sample split in two: scikit-learn's trees and BLAS release the GIL, and threads
    move no rows; a model that holds the GIL shows no gain there. Processes cost their start-up
    and the transfer of every row."""
    if requested != "auto":
        return requested, f"executor {requested!r} requested"
    if workers < 2:
        return "inprocess", "one core"
    if total_rows <= SAMPLE_ROWS or sample.num_rows < SAMPLE_ROWS:
        return "inprocess", f"only {total_rows:,} rows: not worth starting workers"
    small, large = sample.slice(0, SAMPLE_ROWS // 5), sample.slice(0, SAMPLE_ROWS)
    halves = [large.slice(0, SAMPLE_ROWS // 2), large.slice(SAMPLE_ROWS // 2)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pair:
        probe = replace(job, out_dir=tmp, ship=False)
        _MODELS[job.model_dir] = model
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
    # split in two: threads scale with the cores there (bench: 2.6 s on two threads against
    # 5.1 s in one for 1M rows), so the noisy probe is not asked.
    gain = max(t_large / max(t_pair, 1e-9), 1.0)
    if type(model.estimator).__name__ in GIL_FREE_PREDICT:
        gain = max(gain, 2.0)
    threads = one / max(1.0, (gain - 1.0) * (workers - 1) + 1.0)
    bytes_per_row = large.nbytes / max(large.num_rows, 1)
    processes = (
        one / workers
        + WORKER_START_SECONDS * workers
        + TRANSFER_SECONDS_PER_BYTE * bytes_per_row * total_rows
    )
    estimates = {"inprocess": one, "thread": threads, "process": processes}
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


def score_batches(
    model: TrainedModel,
    batches: Iterator[pa.RecordBatch],
    total_rows: int,
    job: PartJob,
    executor: str | Executor = "auto",
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = 50_000,
    scored_by: str | None = None,
    reason: str = "executor given by the caller",
) -> ScoreReport:
    """Score every batch into part files under job.out_dir (emptied first).

    `executor` is a mode name or any concurrent.futures.Executor (a Dask client's, say);
    `scored_by` names a given executor in the predictions table (default: its class name)."""
    start = time.perf_counter()
    out = Path(job.out_dir)
    shutil.rmtree(out, ignore_errors=True)
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise ScoringError(f"cannot create the parts directory {out}: {_os_reason(exc)}") from exc
    workers = workers or default_workers()
    batches = (b for b in batches if b.num_rows)  # a warehouse may send an empty first page
    head = _take_rows(batches, SAMPLE_ROWS)
    if not head:
        return ScoreReport(0, [], "inprocess", "no rows to score", time.perf_counter() - start)
    stream = _chain(head, batches)
    try:
        if isinstance(executor, Executor):
            mode = scored_by or type(executor).__name__
            job = replace(job, scored_by=mode)
            results = run_bounded(executor, stream, job, 2 * workers, progress)
        else:
            if executor not in LOCAL_EXECUTORS:
                known = ", ".join(LOCAL_EXECUTORS)
                raise ValueError(f"unknown executor {executor!r}; known: {known}")
            mode, reason = choose_mode(
                model, _sample(head), total_rows, workers, executor, job, batch_rows
            )
            job = replace(job, scored_by=mode)
            results = _run_mode(mode, model, stream, job, workers, progress)
    except BrokenExecutor as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise ScoringError(
            "a scoring worker died (killed, or out of memory) before its batch was done; "
            f"nothing of run {job.run_id} was written to the predictions table"
        ) from exc
    except OSError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise ScoringError(
            f"scoring into {out} failed: {_os_reason(exc)} ({exc.filename or out}); "
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


def _run_mode(
    mode: str,
    model: TrainedModel,
    stream: Iterator[pa.RecordBatch],
    job: PartJob,
    workers: int,
    progress: Callable[[int], None] | None,
) -> list[tuple[str, int]]:
    if mode == "inprocess":
        _MODELS[job.model_dir] = model
        results = []
        for i, batch in enumerate(stream):
            path, n = score_part(batch, i, job)
            results.append((str(path), n))
            if progress:
                progress(batch.num_rows)
        return results
    global _POOL_PARENT
    pool: Executor
    if mode == "thread":
        _MODELS[job.model_dir] = model
        pool = ThreadPoolExecutor(max_workers=workers)
    else:
        pool = process_executor(model, workers)
        _POOL_PARENT = os.getpid()
    try:
        with pool:
            return run_bounded(pool, stream, job, 2 * workers, progress)
    finally:
        _POOL_PARENT = None


def _after_fork_in_child() -> None:
    """In a child forked while this process runs a worker pool: ignore Ctrl-C and die with
    the parent as the very first thing, before any later after-fork step could block and
    leave an orphan that never reached the pool's initializer."""
    global _POOL_PARENT
    parent, _POOL_PARENT = _POOL_PARENT, None  # the worker's own forks are not workers
    if parent is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_bounded(
    pool: Executor,
    batches: Iterator[pa.RecordBatch],
    job: PartJob,
    max_in_flight: int,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[str, int]]:
    """Submit batches to any Executor with at most max_in_flight pending; the next batch is
    read from the warehouse while the workers score, so I/O hides behind the work. Parts a
    worker ships back (`job.ship`) are written here."""
    parts: dict[Future[tuple[str | bytes, int]], int] = {}
    pending: set[Future[tuple[str | bytes, int]]] = set()
    results: list[tuple[str, int]] = []

    def collect(done: set[Future[tuple[str | bytes, int]]]) -> None:
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


def describe_mode(mode: str) -> str:
    return {
        "inprocess": "in-process",
        "process": "in worker processes",
        "thread": "in threads",
        "dask": "on the Dask cluster",
        "warehouse": "in the warehouse, as SQL",
    }.get(mode, f"on {mode}")
