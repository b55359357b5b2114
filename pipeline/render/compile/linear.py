"""Linear models: X @ coef.T + intercept, summed left to right as numpy does."""

from __future__ import annotations

from typing import Any

from pipeline.render.compile.builder import Builder, num
from pipeline.render.compile.links import from_raw


def linear(b: Builder, est: Any, classes: list[str] | None) -> tuple[str, str]:
    """X @ coef.T + intercept."""
    import numpy as np

    coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))  # (n_outputs, n_features)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))  # (n_outputs,)
    sums = {
        f"raw__{k}": (None, [f"{x} * {num(w)}" for x, w in zip(b.x, row, strict=True)] + [num(c)])
        for k, (row, c) in enumerate(zip(coef, intercept, strict=True))
    }
    return from_raw(b, b.accumulate(sums), "identity", classes)
