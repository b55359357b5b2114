"""The estimator a config names, made and checked before anything is fitted: train fits it,
the runner and the data contracts check it before the first write; the feature arrays it is
fitted on, checked for what it cannot take (and named when its fit overflows)."""

from __future__ import annotations

import importlib
from typing import Any

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.vocabulary import Task

#: top-level packages an estimator may come from when the config names no others
DEFAULT_PACKAGES = ("sklearn",)


def make_estimator(
    dotted: str, params: dict[str, Any], packages: tuple[str, ...] | list[str] = ()
) -> Any:
    """A scikit-learn-compatible estimator by dotted path (sklearn.linear_model.Ridge).

    A config is data, not code: nothing is imported outside the allowed top-level packages
    (sklearn, plus [model] packages), and nothing is called until the attribute is known to be
    an estimator class, so `subprocess.Popen` or `os.system` never runs. The parameters are
    checked by scikit-learn's own validation, so a bad one fails before the first write."""
    allowed = (*DEFAULT_PACKAGES, *packages)
    module_name, _, class_name = dotted.rpartition(".")
    top = module_name.partition(".")[0]
    if top not in allowed:
        raise ConfigError(
            f"[model] estimator {dotted!r} is outside the allowed packages {list(allowed)}; "
            "add its package to [model] packages if you trust it"
        )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"[model] estimator {dotted!r} cannot be imported: {exc}") from exc
    from sklearn.base import BaseEstimator

    if not isinstance(cls, type) or not issubclass(cls, BaseEstimator):
        raise ConfigError(
            f"[model] estimator {dotted!r} is not a scikit-learn estimator class "
            "(a subclass of sklearn.base.BaseEstimator)"
        )
    if not callable(getattr(cls, "fit", None)) or not callable(getattr(cls, "predict", None)):
        raise ConfigError(f"[model] estimator {dotted!r} has no fit/predict")
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ConfigError(f"[model.params] do not fit {dotted}: {exc}") from exc
    _validate_params(estimator, dotted)
    return estimator


def _validate_params(estimator: Any, dotted: str) -> None:
    """scikit-learn's own parameter checks, which otherwise run only inside fit."""
    validate = getattr(estimator, "_validate_params", None)
    if validate is None:
        return
    try:
        validate()
    except (TypeError, ValueError) as exc:  # InvalidParameterError is a ValueError
        message = " ".join(str(exc).split())
        raise ConfigError(f"[model.params] of {dotted}: {message}") from exc


def check_estimator_fits_task(estimator: Any, task: str, dotted: str) -> None:
    """The part of the task check that needs no labels, so the runner can make it before
    any stage writes."""
    from sklearn.base import is_classifier, is_regressor

    task = str(task)
    if task in (Task.binary, Task.multiclass) and not is_classifier(estimator):
        raise ConfigError(f"task {task!r} needs a classifier; {dotted} is not one")
    if task == Task.regression and not is_regressor(estimator):
        raise ConfigError(f"task 'regression' needs a regressor; {dotted} is not one")


def check_finite(estimator: Any, X: Any, names: list[str], dotted: str) -> None:
    """No estimator takes infinity, and many take no NaN (scikit-learn's allow_nan tag): name
    the feature columns instead of scikit-learn's "Input X contains NaN". The contracts refuse
    such raw values before preprocess; this is for features_train made under another config."""
    import numpy as np

    infinite = [n for n, bad in zip(names, np.isinf(X).any(axis=0), strict=True) if bad]
    if infinite:
        raise DataError(f"features_train columns {infinite} hold infinity; run preprocess again")
    try:
        allow_nan = estimator.__sklearn_tags__().input_tags.allow_nan
    except AttributeError:  # not a scikit-learn >= 1.6 estimator: let it say for itself
        return
    missing = [n for n, bad in zip(names, np.isnan(X).any(axis=0), strict=True) if bad]
    if missing and not allow_nan:
        raise DataError(
            f"features_train columns {missing} hold missing values and "
            f"{dotted.rpartition('.')[2]} cannot take them: impute them ([[features]] impute) "
            "and run preprocess again, or choose an estimator that takes NaN"
        )


def name_float32_overflow(exc: ValueError, X: Any, names: list[str], dotted: str) -> None:
    """Trees (and ensembles of them) compute in float32: a finite double beyond 3.4e38 is
    "infinity or a value too large for dtype('float32')" to scikit-learn. Which estimators
    cast is theirs to know, so this names the columns when the fit says so."""
    import numpy as np

    if "too large for dtype('float32')" not in str(exc):
        return
    limit = float(np.finfo(np.float32).max)
    large = [n for n, bad in zip(names, (np.abs(X) > limit).any(axis=0), strict=True) if bad]
    raise DataError(
        f"features_train columns {large} hold values beyond {limit:.3g} in magnitude, and "
        f"{dotted.rpartition('.')[2]} computes in float32: clip or scale them ([[features]] clip, "
        "scale)"
    ) from exc


def name_overflow(exc: ValueError, X: Any, names: list[str], dotted: str) -> None:
    """A linear model squares its features: beyond 1.3e154 that overflows a double, and SciPy
    stops with "array must not contain infs or NaNs". Name the columns to scale."""
    import numpy as np

    if "must not contain infs or NaNs" not in str(exc):
        return
    limit = float(np.sqrt(np.finfo(np.float64).max))
    large = [n for n, bad in zip(names, (np.abs(X) > limit).any(axis=0), strict=True) if bad]
    if large:
        raise DataError(
            f"{dotted.rpartition('.')[2]} overflowed fitting features_train: columns {large} "
            f"hold values beyond {limit:.3g} in magnitude, whose squares a double cannot hold; "
            "scale them ([[features]] scale)"
        ) from exc
