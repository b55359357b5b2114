"""From frozen statistics to a feature plan: which output columns exist and what literals the
feature SQL uses. The arithmetic itself stays in `sql/preprocess/features.sql`; this module
only names columns and picks the statistic each setting asks for."""

from __future__ import annotations

import re
from typing import Any

from pipeline.config import FeatureConfig
from pipeline.errors import DataError

Stats = dict[str, dict[str, Any]]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def stats_from_rows(rows: list[dict[str, Any]]) -> Stats:
    """Fold the long (feature, stat, category, value) rows of fit_stats.sql into one dict per
    feature; categorical vocabularies come out sorted by category for a stable column order."""
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
    for entry in stats.values():
        entry["vocabulary"].sort(key=lambda c: c["category"])
    return stats


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
                center, scale = entry["mean"], entry["std"] or 1.0
            elif f.scale == "minmax":
                center, scale = entry["min"], (entry["max"] - entry["min"]) or 1.0
            clip = None
            if f.clip == "train_range":
                clip = [entry["min"], entry["max"]]
            elif isinstance(f.clip, list):
                clip = list(f.clip)
            p.update(name=f.column, center=center, scale=scale, clip=clip)
        else:
            p.update(_categorical_plan(f, entry))
        plans.append(p)
    return plans


def _categorical_plan(f: FeatureConfig, entry: dict[str, Any]) -> dict[str, Any]:
    """Kept categories (count >= min_count) get a column, code or frequency each; the rest
    share one rare bucket; anything else at scoring time is unknown."""
    rows = entry.get("rows") or 1.0
    taken = {f"{f.column}__unknown", f"{f.column}__missing", f"{f.column}__rare"}
    kept = [c for c in entry["vocabulary"] if c["count"] >= f.min_count]
    rare = [c for c in entry["vocabulary"] if c["count"] < f.min_count]
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
