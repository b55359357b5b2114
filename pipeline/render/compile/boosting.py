"""Gradient boosting: a starting raw score plus every stage's tree, through the loss's link;
classic gradient boosting's scikit-learn trees and HistGradientBoosting's predictors."""

from __future__ import annotations

from typing import Any

from pipeline.core.errors import ScoringError
from pipeline.render.compile.builder import Builder, num
from pipeline.render.compile.links import from_raw
from pipeline.render.compile.trees import hist_tree, sk_tree


def _init_raw(est: Any, n_features: int) -> list[float]:
    """Classic gradient boosting's starting raw score: constant for its built-in inits."""
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    init = est.init_
    # scikit-learn's own dummies predict a constant; a subclass may not
    if init != "zero" and type(init) not in (DummyClassifier, DummyRegressor):
        raise ScoringError(f"a gradient boosting init of {type(init).__name__} is not compiled")
    raw = est._raw_predict_init(np.zeros((1, n_features), dtype=np.float32))  # (1, n_trees)
    return [float(r) for r in raw[0]]


def _link_of(est: Any) -> str:
    name = type(est._loss.link).__name__
    return {"IdentityLink": "identity", "LogLink": "log", "LogitLink": "logit"}.get(
        name, "softmax" if "Multinomial" in name else name
    )


def _boosted_sums(b: Builder, starts: list[float], walks: list[list[tuple[str, str]]]) -> list[str]:
    """start_k + the walk of tree k of every stage, in stage order."""
    terms = {
        f"raw__{k}": (num(start), [b.quote(stage[k][0]) for stage in walks])
        for k, start in enumerate(starts)
    }
    return b.accumulate(terms, walks)


def boosting(b: Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """Classic gradient boosting: init + learning_rate * leaf value, stage by stage."""
    scale = float(est.learning_rate)
    starts = _init_raw(est, len(b.x))
    walks = [
        [
            (f"t__{i}_{k}", sk_tree(b, t, scale * t.tree_.value[:, 0, 0]))
            for k, t in enumerate(stage)
        ]
        for i, stage in enumerate(est.estimators_)  # (n_stages, n_trees_per_stage)
    ]
    return from_raw(b, _boosted_sums(b, starts, walks), _link_of(est), classes)


def hist_boosting(b: Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """HistGradientBoosting: baseline + leaf value, iteration by iteration."""
    if getattr(est, "is_categorical_", None) is not None and est.is_categorical_.any():
        raise ScoringError("HistGradientBoosting with categorical features is not compiled")
    starts = [float(v) for v in est._baseline_prediction[0]]  # (n_trees_per_iteration,)
    walks = [
        [(f"t__{i}_{k}", hist_tree(b, predictor)) for k, predictor in enumerate(iteration)]
        for i, iteration in enumerate(est._predictors)
    ]
    return from_raw(b, _boosted_sums(b, starts, walks), _link_of(est), classes)
