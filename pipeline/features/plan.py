"""From frozen statistics to a feature plan: which output columns exist and what literals the
feature SQL uses. The arithmetic itself stays in `sql/preprocess/features.sql`; this module
only names columns and picks the statistic each setting asks for."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pipeline.config import FeatureConfig
from pipeline.core.errors import DataError
from pipeline.core.identifiers import UNSAFE as _UNSAFE
from pipeline.core.vocabulary import Bucket, Encoder, FeatureType, Imputer, Scaler, Stat
from pipeline.features.stats import FeatureStats, Stats, Value

# what clip asks for to clip to the training split's [min, max]
TRAIN_RANGE = "train_range"


@dataclass(frozen=True)
class NumericPlan:
    """A numeric feature: imputed with `fill`, clipped, then (value - center) / scale."""

    column: str
    fill: Value
    indicator: str | None  # the missing-indicator column, if asked for
    name: str
    center: float
    scale: float
    clip: tuple[float, float] | None

    type = FeatureType.numeric

    def to_dict(self) -> dict[str, object]:
        """The plan as features.sql reads it."""
        clip = None if self.clip is None else list(self.clip)
        return {**vars(self), "type": self.type, "clip": clip}


@dataclass(frozen=True)
class Category:
    """A kept category: its column (onehot), code (ordinal) and frequency (frequency)."""

    value: str
    name: str
    code: int
    freq: float
    count: int


@dataclass(frozen=True)
class RareBucket:
    """The categories too rare to keep, sharing one column, code and frequency."""

    values: tuple[str, ...]
    name: str
    code: int
    freq: float


@dataclass(frozen=True)
class CategoricalPlan:
    """A categorical feature: kept categories, the rare bucket, and the unknown column."""

    column: str
    fill: Value
    indicator: str | None
    name: str
    encode: Encoder | None
    categories: tuple[Category, ...]
    rare: RareBucket | None
    unknown: str
    # every value the training split had, kept or rare: anything else is unseen
    known: tuple[str, ...]

    type = FeatureType.categorical

    def to_dict(self) -> dict[str, object]:
        """The plan as features.sql and unseen.sql read it."""
        rare = None if self.rare is None else {**vars(self.rare), "values": list(self.rare.values)}
        return {
            **vars(self),
            "type": self.type,
            "categories": [vars(c) for c in self.categories],
            "rare": rare,
            "known": list(self.known),
        }


FeaturePlan = NumericPlan | CategoricalPlan


@dataclass(frozen=True)
class CategoryColumn:
    """A row of categories.json: which column, code and frequency a training category got."""

    feature: str
    category: str
    column: str
    code: int
    frequency: float
    bucket: Bucket

    def to_json(self) -> dict[str, object]:
        return dict(vars(self))


def _column_name(feature: str, category: str, taken: set[str]) -> str:
    base = f"{feature}__{_UNSAFE.sub('_', category).strip('_') or 'blank'}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _fill(feature: FeatureConfig, entry: FeatureStats) -> Value:
    if feature.impute == Imputer.none:
        return None
    if feature.impute == Imputer.constant:
        value = feature.fill_value
        return str(value) if feature.type == FeatureType.categorical else float(value)  # type: ignore[arg-type]
    value = entry.get(feature.impute)
    if value is None:
        raise DataError(
            f"feature {feature.column!r}: no {feature.impute} in the training split "
            "(the column is all null there)"
        )
    return value


def _stat(feature: FeatureConfig, entry: FeatureStats, name: Stat, use: str) -> Any:
    """A statistic the feature's scale or clip needs; none when the training split holds no
    value of the column (impute 'none' or 'constant' lets an all-null column through)."""
    value = entry.get(name)
    if value is None:
        raise DataError(
            f"feature {feature.column!r}: {use} needs its {name}, and the training split has "
            "no value of it (the column is all null there)"
        )
    return value


def plan(features: tuple[FeatureConfig, ...], stats: Stats) -> list[FeaturePlan]:
    """One plan per feature for features.sql, in config order."""
    plans: list[FeaturePlan] = []
    for f in features:
        if f.column not in stats:
            raise DataError(f"feature {f.column!r} has no statistics; run preprocess again")
        entry = stats[f.column]
        fill = _fill(f, entry)
        indicator = f"{f.column}__missing" if f.missing_indicator else None
        if f.type == FeatureType.numeric:
            plans.append(_numeric_plan(f, entry, fill, indicator))
        else:
            plans.append(_categorical_plan(f, entry, fill, indicator))
    return plans


def _numeric_plan(
    f: FeatureConfig, entry: FeatureStats, fill: Value, indicator: str | None
) -> NumericPlan:
    center, scale = 0.0, 1.0
    if f.scale == Scaler.standard:
        center, scale = _stat(f, entry, Stat.mean, "scale 'standard'"), entry.std or 1.0
    elif f.scale == Scaler.minmax:
        use = "scale 'minmax'"
        low, high = _stat(f, entry, Stat.min, use), _stat(f, entry, Stat.max, use)
        center, scale = low, (high - low) or 1.0
    clip = None
    if f.clip == TRAIN_RANGE:
        use = "clip 'train_range'"
        clip = (_stat(f, entry, Stat.min, use), _stat(f, entry, Stat.max, use))
    elif isinstance(f.clip, list):
        low, high = f.clip
        clip = (low, high)
    p = NumericPlan(f.column, fill, indicator, f.column, center, scale, clip)
    _check_numeric_plan(f, entry, p)
    return p


def _categorical_plan(
    f: FeatureConfig, entry: FeatureStats, fill: Value, indicator: str | None
) -> CategoricalPlan:
    """Kept categories (count >= min_count, and among the max_categories most frequent, ties
    to the smaller value) get a column, code or frequency each; the rest share one rare
    bucket; anything else at scoring time is unknown. Both lists stay sorted by value."""
    rows = entry.rows or 1.0
    taken = {f"{f.column}__unknown", f"{f.column}__missing", f"{f.column}__rare"}
    frequent = [c for c in entry.vocabulary if c.count >= f.min_count]
    frequent.sort(key=lambda c: (-c.count, c.category))
    chosen = {c.category for c in frequent[: f.max_categories]}
    kept = [c for c in entry.vocabulary if c.category in chosen]
    rare = [c for c in entry.vocabulary if c.category not in chosen]
    categories = tuple(
        Category(
            value=c.category,
            name=_column_name(f.column, c.category, taken),
            code=i,
            freq=c.count / rows,
            count=c.count,
        )
        for i, c in enumerate(kept)
    )
    rare_bucket = None
    if rare:
        rare_bucket = RareBucket(
            values=tuple(c.category for c in rare),
            name=f"{f.column}__rare",
            code=len(kept),
            freq=sum(c.count for c in rare) / rows,
        )
    return CategoricalPlan(
        column=f.column,
        fill=fill,
        indicator=indicator,
        name=f.column,
        encode=f.encode,
        categories=categories,
        rare=rare_bucket,
        unknown=f"{f.column}__unknown",
        known=tuple(sorted(c.category for c in entry.vocabulary)),
    )


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _check_numeric_plan(f: FeatureConfig, entry: FeatureStats, p: NumericPlan) -> None:
    """Every literal features.sql gets, and every value it computes from the training range,
    must be a finite double: a non-finite literal cannot be written as SQL, and an overflow
    would hand the model infinities. Raised here, before a feature table is written."""
    where = f"feature {f.column!r}"
    for stat in (Stat.min, Stat.max, Stat.mean, Stat.std, Stat.median, Stat.mode):
        if _not_finite(entry.get(stat)):
            value = entry.get(stat)
            raise DataError(f"{where}: statistic {stat} is {value!r} (not a finite number)")
    if f.scale == Scaler.minmax and _not_finite(p.scale):
        raise DataError(
            f"{where}: scale 'minmax' needs max - min, which overflows a double "
            f'(max {entry.max!r}, min {entry.min!r}); use scale = "standard" or clip'
        )
    for name, value in (("fill", p.fill), ("center", p.center), ("scale", p.scale)):
        if _not_finite(value):
            raise DataError(f"{where}: {name} is {value!r} (not a finite number)")
    if p.clip is not None and any(_not_finite(v) for v in p.clip):
        raise DataError(f"{where}: clip {list(p.clip)!r} is not finite")
    # the values the SQL will scale: clipped bounds, or the training range and the fill value
    ends = list(p.clip) if p.clip is not None else [entry.min, entry.max]
    for value in [v for v in (*ends, p.fill) if v is not None]:
        if _not_finite((value - p.center) / p.scale):  # type: ignore[operator]
            center = "mean" if f.scale == Scaler.standard else "min"
            raise DataError(
                f"{where}: scale {f.scale!r} overflows a double: ({value!r} - {center} "
                f"{p.center!r}) / {p.scale!r} is not finite; the training values span "
                "too wide a range to scale"
            )


def feature_names(plans: list[FeaturePlan]) -> list[str]:
    """The model's input columns, in the order features.sql emits them."""
    names: list[str] = []
    for p in plans:
        if p.indicator:
            names.append(p.indicator)
        if isinstance(p, CategoricalPlan) and p.encode == Encoder.onehot:
            names.extend(c.name for c in p.categories)
            if p.rare:
                names.append(p.rare.name)
            names.append(p.unknown)
        else:
            names.append(p.name)
    return names


def category_columns(plans: list[FeaturePlan]) -> list[CategoryColumn]:
    """The category <-> column table saved with the model (rare values share one bucket)."""
    table = []
    for p in plans:
        if not isinstance(p, CategoricalPlan):
            continue
        for c in p.categories:
            table.append(CategoryColumn(p.column, c.value, c.name, c.code, c.freq, Bucket.kept))
        if p.rare:
            r = p.rare
            table.extend(
                CategoryColumn(p.column, value, r.name, r.code, r.freq, Bucket.rare)
                for value in r.values
            )
    return table
