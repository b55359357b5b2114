"""Which compiler turns which estimator into SQL: scikit-learn classes mapped to compilers.

An estimator is looked up along its class's method resolution order, stopping at the first
scikit-learn class there: a user's subclass of `RandomForestClassifier` compiles as its parent
does, while a scikit-learn class that is not listed is refused even when it derives from one
that is (`RidgeClassifier` derives from `Ridge` but predicts labels, not Ridge's values). A
class that is no scikit-learn estimator at all is refused whatever its name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pipeline.core.errors import ScoringError
from pipeline.render.compile.boosting import boosting, hist_boosting
from pipeline.render.compile.builder import Builder
from pipeline.render.compile.linear import linear
from pipeline.render.compile.trees import forest

#: a compiler writes the estimator's layers into the builder and returns (prediction, score)
Compiler = Callable[[Builder, Any, list[str] | None], tuple[str, str]]


@cache
def compilers() -> dict[type, Compiler]:
    """scikit-learn class -> its compiler; imported on first use, as scikit-learn is slow to
    import and rendering SQL rarely needs it."""
    from sklearn import ensemble, linear_model, tree

    return {
        linear_model.LogisticRegression: linear,
        linear_model.LogisticRegressionCV: linear,
        linear_model.LinearRegression: linear,
        linear_model.Ridge: linear,
        linear_model.RidgeCV: linear,
        linear_model.Lasso: linear,
        linear_model.LassoCV: linear,
        linear_model.ElasticNet: linear,
        linear_model.ElasticNetCV: linear,
        tree.DecisionTreeClassifier: forest,
        tree.DecisionTreeRegressor: forest,
        tree.ExtraTreeClassifier: forest,
        tree.ExtraTreeRegressor: forest,
        ensemble.RandomForestClassifier: forest,
        ensemble.RandomForestRegressor: forest,
        ensemble.ExtraTreesClassifier: forest,
        ensemble.ExtraTreesRegressor: forest,
        ensemble.GradientBoostingClassifier: boosting,
        ensemble.GradientBoostingRegressor: boosting,
        ensemble.HistGradientBoostingClassifier: hist_boosting,
        ensemble.HistGradientBoostingRegressor: hist_boosting,
    }


def _sklearn_class(cls: type) -> bool:
    return cls.__module__ == "sklearn" or cls.__module__.startswith("sklearn.")


def check_compilable(estimator: Any) -> Compiler:
    """The compiler for this kind of estimator, or a ScoringError naming it: checked before
    training too, so `pipeline run --executor warehouse` fails before its first write."""
    known = compilers()
    for cls in type(estimator).__mro__:
        if _sklearn_class(cls):
            compiler = known.get(cls)
            if compiler is not None:
                return compiler
            break  # the nearest scikit-learn class decides
    names = ", ".join(sorted(cls.__name__ for cls in known))
    raise ScoringError(
        f"{type(estimator).__name__} cannot be compiled to SQL (compiled: {names}); "
        "score it in Python with --executor auto, process, thread or dask"
    )
