"""From frozen statistics to a feature plan: which output columns exist and what literals the
feature SQL uses. The arithmetic itself stays in `sql/preprocess/features.sql`; this module
only names columns and picks the statistic each setting asks for."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from pipeline.config import FeatureConfig
from pipeline.core.errors import DataError
from pipeline.core.identifiers import UNSAFE as _UNSAFE

Stats = dict[str, dict[str, Any]]


# fit_stats.sql cuts each scaled value into LIMBS whole numbers of LIMB_BITS bits (keep equal)
LIMBS = 4
LIMB_BITS = 21
# raw material of mean and std: read here, not kept in the frozen statistics
_INTERNAL = ("center", "half")


def stats_from_rows(rows: list[dict[str, Any]]) -> Stats:
    """Fold the long (feature, stat, category, value) rows of fit_stats.sql into one dict per
    feature; categorical vocabularies come out sorted by category for a stable column order.
    Mean and std are derived here from exact integer sums (see fit_stats.sql), so they do
    not depend on the order the warehouse aggregated rows in."""
    stats: Stats = {}
    for row in rows:
        entry = stats.setdefault(row["feature"], {"vocabulary": []})
        stat, value, category = row["stat"], row["value"], row["category"]
        if stat == "count":
            entry["vocabulary"].append({"category": category, "count": int(value)})
        elif stat == "mode" and category is not None:
            entry["mode"] = category
        else:
            entry[stat] = value
    for feature, entry in stats.items():
        entry["vocabulary"].sort(key=lambda c: c["category"])
        if "min" in entry and "mean" not in entry:  # numeric (a table of the old SQL has mean)
            _derive_moments(feature, entry)
    return stats


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
    n = int(entry.get("rows") or 0) - int(entry.get("nulls") or 0)
    center, half = entry.get("center"), entry.get("half")
    if n <= 0 or center is None or half is None:
        for name in ("sum_y", "sum_yy"):
            for k in range(1, LIMBS + 1):
                entry.pop(f"{name}_{k}", None)
        entry.update(mean=None, std=None)
        entry.setdefault("median", None)
    else:
        s1 = _exact_sum(feature, entry, "sum_y") / n
        s2 = _exact_sum(feature, entry, "sum_yy") / n
        entry["mean"] = float(Fraction(center) + Fraction(half) * s1) + 0.0
        entry["std"] = _sqrt(Fraction(half) ** 2 * max(s2 - s1 * s1, Fraction(0)))
    for name in ("min", "max", "mode", "median"):
        if entry.get(name) is not None:
            entry[name] = float(entry[name]) + 0.0
    for name in _INTERNAL:
        entry.pop(name, None)


def _column_name(feature: str, category: str, taken: set[str]) -> str:
    base = f"{feature}__{_UNSAFE.sub('_', category).strip('_') or 'blank'}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _fill(feature: FeatureConfig, entry: dict[str, Any]) -> Any:
    if feature.impute == "none":
        return None
    if feature.impute == "constant":
        value = feature.fill_value
        return str(value) if feature.type == "categorical" else float(value)  # type: ignore[arg-type]
    value = entry.get(feature.impute)
    if value is None:
        raise DataError(
            f"feature {feature.column!r}: no {feature.impute} in the training split "
            "(the column is all null there)"
        )
    return value


def _stat(feature: FeatureConfig, entry: dict[str, Any], name: str, use: str) -> Any:
    """A statistic the feature's scale or clip needs; none when the training split holds no
    value of the column (impute 'none' or 'constant' lets an all-null column through)."""
    value = entry.get(name)
    if value is None:
        raise DataError(
            f"feature {feature.column!r}: {use} needs its {name}, and the training split has "
            "no value of it (the column is all null there)"
        )
    return value


def plan(features: tuple[FeatureConfig, ...], stats: Stats) -> list[dict[str, Any]]:
    """One plan per feature for features.sql, in config order."""
    plans: list[dict[str, Any]] = []
    for f in features:
        if f.column not in stats:
            raise DataError(f"feature {f.column!r} has no statistics; run preprocess again")
        entry = stats[f.column]
        p: dict[str, Any] = {
            "column": f.column,
            "type": f.type,
            "fill": _fill(f, entry),
            "indicator": f"{f.column}__missing" if f.missing_indicator else None,
        }
        if f.type == "numeric":
            center, scale = 0.0, 1.0
            if f.scale == "standard":
                center, scale = _stat(f, entry, "mean", "scale 'standard'"), entry["std"] or 1.0
            elif f.scale == "minmax":
                use = "scale 'minmax'"
                low, high = _stat(f, entry, "min", use), _stat(f, entry, "max", use)
                center, scale = low, (high - low) or 1.0
            clip = None
            if f.clip == "train_range":
                use = "clip 'train_range'"
                clip = [_stat(f, entry, "min", use), _stat(f, entry, "max", use)]
            elif isinstance(f.clip, list):
                clip = list(f.clip)
            p.update(name=f.column, center=center, scale=scale, clip=clip)
            _check_numeric_plan(f, entry, p)
        else:
            p.update(_categorical_plan(f, entry))
        plans.append(p)
    return plans


def _categorical_plan(f: FeatureConfig, entry: dict[str, Any]) -> dict[str, Any]:
    """Kept categories (count >= min_count, and among the max_categories most frequent, ties
    to the smaller value) get a column, code or frequency each; the rest share one rare
    bucket; anything else at scoring time is unknown. Both lists stay sorted by value."""
    rows = entry.get("rows") or 1.0
    taken = {f"{f.column}__unknown", f"{f.column}__missing", f"{f.column}__rare"}
    frequent = [c for c in entry["vocabulary"] if c["count"] >= f.min_count]
    frequent.sort(key=lambda c: (-c["count"], c["category"]))
    chosen = {c["category"] for c in frequent[: f.max_categories]}
    kept = [c for c in entry["vocabulary"] if c["category"] in chosen]
    rare = [c for c in entry["vocabulary"] if c["category"] not in chosen]
    categories = [
        {
            "value": c["category"],
            "name": _column_name(f.column, c["category"], taken),
            "code": i,
            "freq": c["count"] / rows,
            "count": c["count"],
        }
        for i, c in enumerate(kept)
    ]
    rare_bucket = None
    if rare:
        rare_bucket = {
            "values": [c["category"] for c in rare],
            "name": f"{f.column}__rare",
            "code": len(kept),
            "freq": sum(c["count"] for c in rare) / rows,
        }
    return {
        "name": f.column,
        "encode": f.encode,
        "categories": categories,
        "rare": rare_bucket,
        "unknown": f"{f.column}__unknown",
        # every value the training split had, kept or rare: anything else is unseen
        "known": sorted(c["category"] for c in entry["vocabulary"]),
    }


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _check_numeric_plan(f: FeatureConfig, entry: dict[str, Any], p: dict[str, Any]) -> None:
    """Every literal features.sql gets, and every value it computes from the training range,
    must be a finite double: a non-finite literal cannot be written as SQL, and an overflow
    would hand the model infinities. Raised here, before a feature table is written."""
    where = f"feature {f.column!r}"
    for name in ("min", "max", "mean", "std", "median", "mode"):
        if _not_finite(entry.get(name)):
            raise DataError(f"{where}: statistic {name} is {entry[name]!r} (not a finite number)")
    if f.scale == "minmax" and _not_finite(p["scale"]):
        raise DataError(
            f"{where}: scale 'minmax' needs max - min, which overflows a double "
            f'(max {entry["max"]!r}, min {entry["min"]!r}); use scale = "standard" or clip'
        )
    for name in ("fill", "center", "scale"):
        if _not_finite(p[name]):
            raise DataError(f"{where}: {name} is {p[name]!r} (not a finite number)")
    if p["clip"] is not None and any(_not_finite(v) for v in p["clip"]):
        raise DataError(f"{where}: clip {p['clip']!r} is not finite")
    # the values the SQL will scale: clipped bounds, or the training range and the fill value
    ends = list(p["clip"]) if p["clip"] is not None else [entry.get("min"), entry.get("max")]
    for value in [v for v in (*ends, p["fill"]) if v is not None]:
        if _not_finite((value - p["center"]) / p["scale"]):
            center = "mean" if f.scale == "standard" else "min"
            raise DataError(
                f"{where}: scale {f.scale!r} overflows a double: ({value!r} - {center} "
                f"{p['center']!r}) / {p['scale']!r} is not finite; the training values span "
                "too wide a range to scale"
            )


def feature_names(plans: list[dict[str, Any]]) -> list[str]:
    """The model's input columns, in the order features.sql emits them."""
    names: list[str] = []
    for p in plans:
        if p["indicator"]:
            names.append(p["indicator"])
        if p["type"] == "categorical" and p["encode"] == "onehot":
            names.extend(c["name"] for c in p["categories"])
            if p["rare"]:
                names.append(p["rare"]["name"])
            names.append(p["unknown"])
        else:
            names.append(p["name"])
    return names


def category_columns(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The category <-> column table saved with the model (rare values share one bucket)."""
    table = []
    for p in plans:
        if p["type"] != "categorical":
            continue
        for c in p["categories"]:
            table.append(
                {
                    "feature": p["column"],
                    "category": c["value"],
                    "column": c["name"],
                    "code": c["code"],
                    "frequency": c["freq"],
                    "bucket": "kept",
                }
            )
        for value in p["rare"]["values"] if p["rare"] else []:
            table.append(
                {
                    "feature": p["column"],
                    "category": value,
                    "column": p["rare"]["name"],
                    "code": p["rare"]["code"],
                    "frequency": p["rare"]["freq"],
                    "bucket": "rare",
                }
            )
    return table
