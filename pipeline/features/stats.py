"""The frozen training-split statistics: read once from fit_stats.sql's long rows, saved as the
model directory's stats.json (whose bytes the model id hashes, so `to_json` writes exactly
the keys and values the statistics always had)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from pipeline.core.errors import DataError
from pipeline.core.vocabulary import FeatureType, Stat

# fit_stats.sql cuts each scaled value into LIMBS whole numbers of LIMB_BITS bits (keep equal)
LIMBS = 4
LIMB_BITS = 21
# raw material of mean and std: read here, not kept in the frozen statistics
_INTERNAL = ("center", "half")
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


def stats_from_rows(rows: list[dict[str, Any]]) -> Stats:
    """Fold the long (feature, stat, category, value) rows of fit_stats.sql into one entry per
    feature; categorical vocabularies come out sorted by category for a stable column order.
    Mean and std are derived here from exact integer sums (see fit_stats.sql), so they do
    not depend on the order the warehouse aggregated rows in."""
    entries: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = entries.setdefault(row["feature"], {"vocabulary": []})
        stat, value, category = row["stat"], row["value"], row["category"]
        if stat == Stat.category_count:
            entry["vocabulary"].append({"category": category, "count": int(value)})
        elif stat == Stat.mode and category is not None:
            entry[Stat.mode] = category
        else:
            entry[stat] = value
    for feature, entry in entries.items():
        entry["vocabulary"].sort(key=lambda c: c["category"])
        if Stat.min in entry and Stat.mean not in entry:  # numeric (the old SQL had mean)
            _derive_moments(feature, entry)
    return Stats.from_json(entries)


def _exact_sum(feature: str, entry: dict[str, Any], name: str) -> Fraction:
    total = Fraction(0)
    for k in range(1, LIMBS + 1):
        value = entry.pop(f"{name}_{k}", None)
        if value is None or value != int(value):
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


def _derive_moments(feature: str, entry: dict[str, Any]) -> None:
    """mean = center + half * E[y], std = half * sqrt(E[y^2] - E[y]^2), with y the values
    scaled into [-1, 1] and both sums exact: one rounding each, at the end. -0.0 becomes 0.0
    (which of two equal zeros a MIN or a mode returns depends on row order)."""
    n = int(entry.get(Stat.rows) or 0) - int(entry.get(Stat.nulls) or 0)
    center, half = entry.get("center"), entry.get("half")
    if n <= 0 or center is None or half is None:
        for name in ("sum_y", "sum_yy"):
            for k in range(1, LIMBS + 1):
                entry.pop(f"{name}_{k}", None)
        entry.update({Stat.mean: None, Stat.std: None})
        entry.setdefault(Stat.median, None)
    else:
        s1 = _exact_sum(feature, entry, "sum_y") / n
        s2 = _exact_sum(feature, entry, "sum_yy") / n
        entry[Stat.mean] = float(Fraction(center) + Fraction(half) * s1) + 0.0
        entry[Stat.std] = _sqrt(Fraction(half) ** 2 * max(s2 - s1 * s1, Fraction(0)))
    for name in (Stat.min, Stat.max, Stat.mode, Stat.median):
        if entry.get(name) is not None:
            entry[name] = float(entry[name]) + 0.0
    for internal in _INTERNAL:
        entry.pop(internal, None)
