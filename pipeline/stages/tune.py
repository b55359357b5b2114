"""[tune]: which candidates a search tries, the checks made before the first write and how the
folds' scores become a ranking. The folds are cross-validated in `stages/tune_folds.py`; the
search is recorded by `stages/tune_record.py`.

Ranking follows scikit-learn's GridSearchCV, so the two can be compared number for number:
candidates in ParameterGrid order (keys sorted, the last key varying fastest), mean and
population standard deviation (ddof 0) over the folds, rank 1 for the best mean with ties
sharing the smaller rank, and the best being the first candidate of rank 1. A candidate with a
fold of no value (NULL metric: GridSearchCV's NaN) has no mean and ranks after all that have
one; when none has a mean, train refuses (tune_folds.check_defined) where GridSearchCV ranks
them all 1."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import Search, Task
from pipeline.stages.estimator import make_estimator

if TYPE_CHECKING:
    from pipeline.config.schema import Config
    from pipeline.config.sections import TuneConfig

#: what [tune] metric may name, per task: the overall metrics of sql/evaluate/<task>.sql
METRICS: dict[Task, tuple[str, ...]] = {
    Task.binary: (
        "roc_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "average_precision",
        "log_loss",
        "brier",
    ),
    Task.multiclass: (
        "accuracy",
        "macro_f1",
        "macro_precision",
        "macro_recall",
        "weighted_f1",
        "weighted_precision",
        "weighted_recall",
    ),
    Task.regression: (
        "rmse",
        "mae",
        "mse",
        "msle",
        "median_absolute_error",
        "r2",
        "explained_variance",
    ),
}
#: errors and losses: the smaller, the better
LOWER_IS_BETTER = frozenset(
    {"log_loss", "brier", "rmse", "mae", "mse", "msle", "median_absolute_error"}
)
#: the file the search is recorded in, in the model directory (and its manifest)
SEARCH_FILE = "cv_results.json"
#: the most candidates a search may fit (each on every fold)
MAX_CANDIDATES = 10_000


def tune_metric(tune: TuneConfig, task: Task | str) -> str:
    """[tune] metric, or the task's main metric: the first of METRICS[task]."""
    return tune.metric or METRICS[Task(task)][0]


def candidates(tune: TuneConfig) -> list[dict[str, Any]]:
    """The grid's combinations in scikit-learn's ParameterGrid order (keys sorted, the last
    varying fastest). A random search keeps `candidates` of them, still in that order: the
    combination numbers sha256(seed, 0), sha256(seed, 1), ... point at (modulo the grid's
    size), until that many distinct ones; the same on every machine and library version, and
    the grid itself is never listed whole."""
    keys = sorted(tune.grid)
    sizes = [len(tune.grid[k]) for k in keys]
    total = math.prod(sizes)
    if tune.search == Search.grid or tune.candidates is None or tune.candidates >= total:
        if total > MAX_CANDIDATES:
            raise ConfigError(
                f"[tune] grid has {total} combinations, more than {MAX_CANDIDATES}: "
                'search = "random" with candidates tries some of them'
            )
        chosen = list(range(total))
    else:
        picked: set[int] = set()
        draw = 0
        while len(picked) < tune.candidates:
            digest = hashlib.sha256(f"{tune.seed}\x1f{draw}".encode()).hexdigest()
            picked.add(int(digest, 16) % total)
            draw += 1
        chosen = sorted(picked)
    out = []
    for number in chosen:
        combination: dict[str, Any] = {}
        for key, size in zip(reversed(keys), reversed(sizes), strict=True):
            number, r = divmod(number, size)
            combination[key] = tune.grid[key][r]
        out.append({k: combination[k] for k in keys})
    return out


def check_tune(config: Config) -> None:
    """A grid key the estimator does not take, a value it refuses, or a metric the task has
    not: one ConfigError before anything is written."""
    tune, model = config.tune, config.model
    if tune is None:
        return
    known = METRICS[Task(config.task)]
    metric = tune_metric(tune, config.task)
    if metric not in known:
        raise ConfigError(
            f"[tune] metric {metric!r} is not a {config.task} metric; known: {', '.join(known)}"
        )
    base = make_estimator(model.estimator, model.params, model.packages)
    params = base.get_params(deep=False)
    name = model.estimator.rpartition(".")[2]
    for key in sorted(tune.grid):
        if key not in params:
            raise ConfigError(
                f"[tune] grid key {key!r} is not a parameter of {name}; "
                f"its parameters: {', '.join(sorted(params))}"
            )
    for candidate in candidates(tune):
        try:
            make_estimator(model.estimator, {**model.params, **candidate}, model.packages)
        except ConfigError as exc:
            raise ConfigError(f"[tune] grid {params_text(candidate)}: {exc}") from exc


def params_text(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


@dataclass(frozen=True)
class CandidateScores:
    """One candidate's parameters (the grid's keys only) and its metric on each fold."""

    candidate: int  # its place in candidate order, from 0
    params: Mapping[str, Any]
    fold_scores: tuple[float | None, ...]  # fold 0 first
    mean: float | None  # None when a fold has no value (a fold with one class, for roc_auc)
    std: float | None
    rank: int

    def to_json(self) -> dict[str, object]:
        return {
            "candidate": self.candidate,
            "params": dict(self.params),
            "fold_scores": list(self.fold_scores),
            "mean": self.mean,
            "std": self.std,
            "rank": self.rank,
        }


@dataclass(frozen=True)
class SearchResult:
    """A whole search: what it scored, on how many rows, and every candidate's scores."""

    metric: str
    folds: int
    search: Search
    seed: int | None
    rows: int  # the rows cross-validated: the training split, or its sample
    scored: tuple[CandidateScores, ...]

    @property
    def best(self) -> CandidateScores:
        """The first candidate of rank 1."""
        return next(c for c in self.scored if c.rank == 1)

    def to_json(self) -> dict[str, object]:
        """cv_results.json in the model directory."""
        return {
            "metric": self.metric,
            "folds": self.folds,
            "search": str(self.search),
            "seed": self.seed,
            "rows": self.rows,
            "best": self.best.candidate,
            "candidates": [c.to_json() for c in self.scored],
        }

    def summary(self) -> dict[str, object]:
        """The ledger's and the stage result's account of the search."""
        best = self.best
        return {
            "metric": self.metric,
            "folds": self.folds,
            "candidates": len(self.scored),
            "best": best.candidate,
            "best_params": dict(best.params),
            "mean": best.mean,
            "std": best.std,
        }


def rank_scores(
    params: list[dict[str, Any]], scores: list[list[float | None]], metric: str
) -> tuple[CandidateScores, ...]:
    """Means, standard deviations and ranks; scores: (n_candidates, n_folds). A candidate
    with a fold of no value ranks last, as GridSearchCV ranks a NaN mean."""
    import numpy as np

    values = np.array(
        [[np.nan if s is None else s for s in row] for row in scores], dtype=np.float64
    )  # (n_candidates, n_folds)
    means = values.mean(axis=1)  # (n_candidates,)
    stds = values.std(axis=1)  # (n_candidates,) ddof 0
    better = -means if metric not in LOWER_IS_BETTER else means  # smaller is better
    key = np.where(np.isnan(better), np.inf, better)
    ranks = [int((key < k).sum()) + 1 for k in key]  # "min" ranking: ties share the smaller

    def number(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    return tuple(
        CandidateScores(i, p, tuple(row), number(means[i]), number(stds[i]), ranks[i])
        for i, (p, row) in enumerate(zip(params, scores, strict=True))
    )
