"""The estimator a config names, made and checked before anything is fitted: train fits it,
the runner and the data contracts check it before the first write."""

from __future__ import annotations

import importlib
from typing import Any

from pipeline.core.errors import ConfigError
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
