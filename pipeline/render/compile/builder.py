"""The pieces every compiler shares: the layers of SELECTs a compiled model is, the builder
that stacks them and sums terms in scikit-learn's order, and exact double literals."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pipeline.core.errors import ScoringError

#: terms per expression in a running sum; DuckDB refuses expressions nested 1,000 deep
SUM_CHUNK = 200


@dataclass
class Layer:
    """One SELECT: the columns of the layer before that later layers still read (`keep`),
    and new (alias, expression) columns."""

    keep: list[str]
    new: list[tuple[str, str]]


@dataclass
class CompiledModel:
    """Layers over the feature columns; `prediction` and `score` read the last layer."""

    estimator: str
    layers: list[Layer] = field(default_factory=list)
    prediction: str = "NULL"
    score: str = "NULL"

    @property
    def columns(self) -> int:
        return sum(len(layer.new) for layer in self.layers)


def num(value: float) -> str:
    """A double literal both engines read as DOUBLE/FLOAT64 and round-trip exactly: the shortest
    repr, with an exponent (DuckDB reads `0.1` as DECIMAL, `0.1e0` as DOUBLE)."""
    value = float(value)
    if not math.isfinite(value):
        raise ScoringError(f"cannot write the non-finite number {value!r} into SQL")
    text = repr(value)
    if "e" not in text:
        text += "e0"
    return f"({text})" if text.startswith("-") else text


def float32_bound(threshold: float) -> float:
    """The largest double d such that float32(d) <= threshold, so that for every double x,
    `float32(x) <= threshold` exactly when `x <= d`. Casting to float32 rounds to nearest,
    ties to even, and never reverses order: the doubles that round to at most f (the largest
    float32 <= threshold) are those below the midpoint between f and the next float32, plus
    the midpoint itself when the tie rounds down to f."""
    import numpy as np

    f = np.float32(threshold)
    if float(f) > threshold:
        f = np.nextafter(f, np.float32(-np.inf))
    up = np.nextafter(f, np.float32(np.inf))
    if np.isinf(up):  # above the largest float32: only overflow to inf lies beyond
        return float(np.finfo(np.float64).max)
    midpoint = (float(f) + float(up)) / 2  # exact: a float32 midpoint fits in a double
    if np.float32(midpoint) == f:
        return midpoint
    return float(np.nextafter(midpoint, -np.inf))


class Builder:
    """Layers of SELECTs over the feature columns, built one compiler step at a time."""

    def __init__(self, features: list[str], quote: Callable[[str], str]):
        self.features = features
        self.x = [quote(f) for f in features]
        self.quote = quote
        self.layers: list[Layer] = []
        self.live = list(features)  # the columns the last layer yields (besides id, dataset)

    def step(self, new: list[tuple[str, str]], keep: list[str] | None = None) -> list[str]:
        """A layer of `new` columns over the last one, which keeps `keep` (default: all of
        the last layer's columns); returns the new columns, quoted."""
        keep = self.live if keep is None else keep
        self.layers.append(Layer(list(keep), new))
        self.live = list(keep) + [alias for alias, _ in new]
        return [self.quote(alias) for alias, _ in new]

    def accumulate(
        self,
        sums: Mapping[str, tuple[str | None, list[str]]],
        walks: list[list[tuple[str, str]]] | None = None,
    ) -> list[str]:
        """`start + terms[0] + terms[1] + ...` for each alias, left to right as numpy adds.
        Term i reads the feature columns, or the columns `walks[i]` computes a layer earlier
        (tree walks). `SUM_CHUNK` terms (and walks) per layer; returns the sums, quoted."""
        n = len(next(iter(sums.values()))[1])
        chunks = [(lo, min(lo + SUM_CHUNK, n)) for lo in range(0, n, SUM_CHUNK)]
        lag = 1 if walks else 0  # a walk's column is summed in the layer after it
        heads = {alias: start for alias, (start, _) in sums.items()}
        for j in range(len(chunks) + lag):
            new: list[tuple[str, str]] = []
            if j >= lag:
                lo, hi = chunks[j - lag]
                for alias, (_, terms) in sums.items():
                    head = heads[alias]
                    name = f"{alias}_{j - lag}"
                    new.append((name, " + ".join(([head] if head else []) + terms[lo:hi])))
                    heads[alias] = self.quote(name)
            if walks and j < len(chunks):
                lo, hi = chunks[j]
                new += [column for tree in walks[lo:hi] for column in tree]
            # the features, while a later layer still walks or sums over them
            keep = self.features if j + 1 < len(chunks) else []
            self.step(new, keep=keep)
        return [h for h in heads.values() if h is not None]

    def condition(self, feature: int, threshold: float, nulls_left: bool, cast32: bool) -> str:
        x = self.x[feature]
        if math.isinf(threshold):
            test = f"{x} IS NOT NULL" if threshold > 0 else "FALSE"
        else:
            bound = float32_bound(threshold) if cast32 else threshold
            test = f"{x} <= {num(bound)}"
        return f"({test} OR {x} IS NULL)" if nulls_left else test
