"""The frozen training-split statistics: read once from fit_stats.sql's long rows, saved as the
model directory's stats.json (whose bytes the model id hashes, so `to_json` writes exactly
the keys and values the statistics always had)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from pipeline.core.errors import DataError
from pipeline.core.vocabulary import FeatureType, Stat

# fit_stats.sql cuts each scaled value into LIMBS whole numbers of LIMB_BITS bits (keep equal)
LIMBS = 4
LIMB_BITS = 21
# the statistics a numeric feature always records (null when the training split has no value)
_NUMERIC = (Stat.min, Stat.max, Stat.mean, Stat.std, Stat.median)

#: a statistic's value: a number, or the mode of a categorical column
Value = float | str | None


@dataclass(frozen=True)
class CategoryCount:
    """One value of a categorical column and its rows in the training split."""

    category: str
    count: int


@dataclass(frozen=True)
class FeatureStats:
    """One feature's statistics. `mode` is absent (None) when the split has no value; the
    numeric statistics are None for a categorical feature and for an all-null column."""

    type: FeatureType
    rows: float | None
    nulls: float | None
    vocabulary: tuple[CategoryCount, ...] = ()
    mode: Value = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    median: float | None = None

    def get(self, stat: Stat | str) -> Value:
        """A statistic by name (an imputer's name is one: median, mean, mode)."""
        value: Value = getattr(self, Stat(stat).value)
        return value

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            Stat.rows: self.rows,
            Stat.nulls: self.nulls,
            "vocabulary": [{"category": c.category, "count": c.count} for c in self.vocabulary],
        }
        if self.type == FeatureType.numeric:
            out.update({name: self.get(name) for name in _NUMERIC})
        if self.mode is not None:
            out[Stat.mode] = self.mode
        return {str(k): v for k, v in out.items()}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FeatureStats:
        # numeric statistics always hold min (null for an all-null column); categorical never
        kind = FeatureType.numeric if Stat.min in d else FeatureType.categorical
        return cls(
            type=kind,
            rows=d.get(Stat.rows),
            nulls=d.get(Stat.nulls),
            vocabulary=tuple(
                CategoryCount(c["category"], c["count"]) for c in d.get("vocabulary", [])
            ),
            mode=d.get(Stat.mode),
            **{name.value: d.get(name) for name in _NUMERIC},
        )


@dataclass(frozen=True)
class Stats:
    """Every feature's statistics, by feature column."""

    features: Mapping[str, FeatureStats]

    def __getitem__(self, column: str) -> FeatureStats:
        return self.features[column]

    def __contains__(self, column: object) -> bool:
        return column in self.features

    def __iter__(self) -> Iterator[str]:
        return iter(self.features)

    def to_json(self) -> dict[str, dict[str, object]]:
        return {column: s.to_json() for column, s in self.features.items()}

    @classmethod
    def from_json(cls, d: Mapping[str, Mapping[str, Any]]) -> Stats:
        return cls({column: FeatureStats.from_json(s) for column, s in d.items()})


@dataclass
class _Fold:
    """One feature's long rows gathered before they become `FeatureStats`: `values` holds the
    scalar statistics and the raw sums (limbs) mean and std are derived from."""

    values: dict[str, Value] = field(default_factory=dict)
    vocabulary: list[CategoryCount] = field(default_factory=list)
    mode: str | None = None


def stats_from_rows(rows: list[dict[str, Any]]) -> Stats:
    """Fold the long (feature, stat, category, value) rows of fit_stats.sql into one entry per
    feature; categorical vocabularies come out sorted by category for a stable column order.
    Mean and std are derived here from exact integer sums (see fit_stats.sql), so they do
    not depend on the order the warehouse aggregated rows in."""
    folds: dict[str, _Fold] = {}
    for row in rows:  # rows: warehouse result rows, (feature, stat, category, value)
        fold = folds.setdefault(row["feature"], _Fold())
        stat, value, category = row["stat"], row["value"], row["category"]
        if stat == Stat.category_count:
            fold.vocabulary.append(CategoryCount(category, int(value)))
        elif stat == Stat.mode and category is not None:
            fold.mode = category
        else:
            fold.values[stat] = value
    return Stats({feature: _feature_stats(feature, fold) for feature, fold in folds.items()})


def _feature_stats(feature: str, fold: _Fold) -> FeatureStats:
    values = fold.values
    numeric = Stat.min in values  # numeric statistics always hold min; categorical never
    if numeric and Stat.mean not in values:  # the old SQL had mean
        _derive_moments(feature, values)
    mode = fold.mode if fold.mode is not None else values.get(Stat.mode)
    return FeatureStats(
        type=FeatureType.numeric if numeric else FeatureType.categorical,
        rows=_number(values.get(Stat.rows)),
        nulls=_number(values.get(Stat.nulls)),
        vocabulary=tuple(sorted(fold.vocabulary, key=lambda c: c.category)),
        mode=mode,
        **{name.value: _number(values.get(name)) for name in _NUMERIC},
    )


def _number(value: Value) -> float | None:
    assert not isinstance(value, str), value
    return value


def _exact_sum(feature: str, values: dict[str, Value], name: str) -> Fraction:
    total = Fraction(0)
    for k in range(1, LIMBS + 1):
        value = values.pop(f"{name}_{k}", None)
        if value is None or isinstance(value, str) or value != int(value):
            raise DataError(
                f"feature {feature!r}: statistic {name}_{k} is {value!r}, not a whole number "
                "(feature_stats is not from this version of fit_stats.sql; run preprocess again)"
            )
        total += Fraction(int(value), 2 ** (LIMB_BITS * k))
    return total


def _sqrt(x: Fraction) -> float:
    """The square root of an exact rational, rounded to a float (through 60 digits)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return float((Decimal(x.numerator) / Decimal(x.denominator)).sqrt())


def _derive_moments(feature: str, values: dict[str, Value]) -> None:
    """mean = center + half * E[y], std = half * sqrt(E[y^2] - E[y]^2), with y the values
    scaled into [-1, 1] and both sums exact: one rounding each, at the end. -0.0 becomes 0.0
    (which of two equal zeros a MIN or a mode returns depends on row order)."""
    n = int(values.get(Stat.rows) or 0) - int(values.get(Stat.nulls) or 0)
    center, half = values.get("center"), values.get("half")
    if n <= 0 or center is None or half is None:
        for name in ("sum_y", "sum_yy"):
            for k in range(1, LIMBS + 1):
                values.pop(f"{name}_{k}", None)
        values.update({Stat.mean: None, Stat.std: None})
        values.setdefault(Stat.median, None)
    else:
        s1 = _exact_sum(feature, values, "sum_y") / n
        s2 = _exact_sum(feature, values, "sum_yy") / n
        values[Stat.mean] = float(Fraction(center) + Fraction(half) * s1) + 0.0
        values[Stat.std] = _sqrt(Fraction(half) ** 2 * max(s2 - s1 * s1, Fraction(0)))
    for name in (Stat.min, Stat.max, Stat.mode, Stat.median):
        value = values.get(name)
        if value is not None:
            values[name] = float(value) + 0.0
