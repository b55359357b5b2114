"""What a scoring worker process holds and how it behaves: the models tasks use, one BLAS
thread, no Ctrl-C of its own, death with its parent.

The model registry is a plain dict of model directory -> loaded model, every read and write
under one lock: threads of one process may ask for the same model at once, and the lock makes
the first load the only one. A child forked while another thread held the lock would inherit
it held, so each forked child starts with a fresh lock.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.core.keys import SigningKey
    from pipeline.model.trained import TrainedModel

#: prctl(2) option: the signal this process gets when its parent dies
PR_SET_PDEATHSIG = 1

_models: dict[str, TrainedModel] = {}
_models_lock = threading.Lock()
#: this process's pid while it runs a process pool: a child forked then is one of its workers
_pool_parent: int | None = None


def register_model(model_dir: str, model: TrainedModel) -> None:
    """Make `model` the one tasks naming `model_dir` use in this process (and in the workers
    it forks afterwards)."""
    with _models_lock:
        _models[model_dir] = model


def forget_model(model_dir: str) -> None:
    with _models_lock:
        _models.pop(model_dir, None)


def model_for(model_dir: str, key: SigningKey | None = None) -> TrainedModel:
    """The model tasks naming `model_dir` use: registered (or inherited by fork) after the
    parent verified it, else loaded here, checked with `key` when there is one."""
    with _models_lock:
        model = _models.get(model_dir)
        if model is None:
            from pipeline.model.trained import TrainedModel

            model = _models[model_dir] = TrainedModel.load(model_dir, key)
        return model


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


@contextmanager
def forking_workers() -> Iterator[None]:
    """While inside, every child this process forks is a pool worker: it ignores Ctrl-C and
    dies with this process from its first instruction on (`_after_fork_in_child`)."""
    global _pool_parent
    _pool_parent = os.getpid()
    try:
        yield
    finally:
        _pool_parent = None


def _after_fork_in_child() -> None:
    """In a child forked while this process runs a worker pool: ignore Ctrl-C and die with
    the parent as the very first thing, before any later after-fork step could block and
    leave an orphan that never reached the pool's initializer. Every child gets a fresh lock
    for the model registry (see the module docstring)."""
    global _pool_parent, _models_lock
    _models_lock = threading.Lock()
    parent, _pool_parent = _pool_parent, None  # the worker's own forks are not workers
    if parent is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
