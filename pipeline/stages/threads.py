"""How many threads a fit may use: `[train] threads`, applied to OpenMP and BLAS (threadpoolctl)
and to the estimator's own `n_jobs` while it fits.

The bound changes how fast a model fits, never which model: it is not part of the model id,
and the saved estimator keeps the `n_jobs` the config gave it (unset stays unset), so scoring
does what it did before. An `n_jobs` set in [model.params] is the user's and is kept: it is a
parameter of the model (in its id) that says how many joblib workers the estimator starts;
`threads` still bounds the OpenMP and BLAS pools inside them.

How OpenMP's idle threads wait is a setting of the process, not of a fit: libgomp reads
OMP_WAIT_POLICY once, when it is loaded. `pipeline run` asks for PASSIVE (threads sleep at a
barrier instead of spinning) before anything loads it, unless the environment already says;
see `wait_passively`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def fit_threads(configured: int | None) -> int:
    """`[train] threads`, or the cores this process may run on when unset."""
    if configured is not None:
        return configured
    from pipeline.scoring.executors import default_workers

    return default_workers()


def fit_n_jobs(estimator: Any, threads: int) -> int | None:
    """The `n_jobs` the estimator fits with: [model.params]'s when set, else `threads`; None
    for an estimator without the parameter."""
    params = estimator.get_params(deep=False)
    if "n_jobs" not in params:
        return None
    return threads if params["n_jobs"] is None else int(params["n_jobs"])


@contextmanager
def bounded_threads(estimator: Any, threads: int, fitting: bool = True) -> Iterator[None]:
    """Inside, OpenMP and BLAS pools use at most `threads` threads, and so does the estimator's
    `n_jobs` when it is unset (None) and it is `fitting`; afterwards it is unset again.

    Only a fit gets the jobs: a forest predicting on several jobs adds its trees' probabilities
    in the order the jobs finish, and a float sum in another order is other bytes (the training
    metrics in model.json, [tune]'s fold scores). Predictions run on one job, as scoring's do."""
    from threadpoolctl import threadpool_limits

    params = estimator.get_params(deep=False)
    ours = fitting and "n_jobs" in params and params["n_jobs"] is None
    if ours:
        estimator.set_params(n_jobs=threads)
    try:
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            # an estimator whose n_jobs no longer does anything warns when it is set (scikit-
            # learn 1.8's LogisticRegression): that one is ours, not the user's, to hear
            warnings.filterwarnings("ignore", "'n_jobs' has no effect", FutureWarning)
            yield
    finally:
        if ours:
            estimator.set_params(n_jobs=None)


def wait_passively() -> None:
    """OpenMP threads that wait sleep rather than spin, unless OMP_WAIT_POLICY is already set.

    Spinning threads hold a core each while they wait for the slowest one; on a machine that
    other work shares, that made a boosting fit here 4 to 9 times slower than with sleeping
    threads, and slower with two threads than with one (README, "Training threads").
    Sleeping changes how fast, never a result. Effective only before the OpenMP runtime is
    loaded (in a process that has not yet imported scikit-learn's compiled parts): the CLI
    calls it first thing."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
