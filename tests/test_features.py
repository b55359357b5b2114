"""Feature SQL settings on small literal data: rare buckets, frequency and ordinal codes,
clipping, scaling, and unseen categories counted at scoring time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from pipeline.config import FeatureConfig
from pipeline.core.errors import DataError
from pipeline.features.plan import (
    CategoryColumn,
    NumericPlan,
    category_columns,
    feature_names,
    plan,
)
from pipeline.features.sql import Source, Spec, fit_stats_sql, transform_sql
from pipeline.features.stats import Stats, stats_from_rows
from pipeline.render.templates import Templates
from pipeline.stages.runner import run_stages
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import REPO, OptionsFactory

ROWS = [  # id, colour, size; ids 1..8 are the train split here
    (1, "red", 1.0),
    (2, "red", 2.0),
    (3, "red", 3.0),
    (4, "blue", 4.0),
    (5, "blue", None),
    (6, "green", 6.0),
    (7, None, 7.0),
    (8, "red", 100.0),
]


def _features(
    features: tuple[FeatureConfig, ...], score_rows: list[tuple[object, ...]]
) -> tuple[list[str], list[dict[str, object]], list[CategoryColumn]]:
    spec = Spec("id", "y", features, 0.5, "s")
    with DuckDBWarehouse.in_memory() as wh:
        t = Templates(REPO / "sql", wh.dialect)
        wh.execute(
            "CREATE TABLE c AS SELECT * FROM (VALUES "
            + ", ".join(
                f"({i}, {wh.dialect.literal(c)}, {wh.dialect.literal(s)}::DOUBLE, 'train')"
                for i, c, s in ROWS
            )
            + ") AS v(id, colour, size, dataset)"
        )
        stats = stats_from_rows(wh.query_arrow(fit_stats_sql(t, spec, "c", "r").sql).to_pylist())
        plans = plan(features, stats)
        wh.execute(
            "CREATE SCHEMA raw; CREATE TABLE raw.s AS SELECT * FROM (VALUES "
            + ", ".join(
                f"({i}, {wh.dialect.literal(c)}, {wh.dialect.literal(s)}::DOUBLE)"
                for i, c, s in score_rows
            )
            + ") AS v(id, colour, size)"
        )
        sql, _ = transform_sql(t, spec, plans, [Source("raw.s", False, "test")], None, False)
        rows = wh.query_arrow(sql + " ORDER BY id").to_pylist()
    return feature_names(plans), rows, category_columns(plans)


def test_onehot_with_rare_bucket_and_unknown() -> None:
    colour = FeatureConfig("colour", "categorical", "mode", "onehot", min_count=2)
    names, rows, table = _features(
        (colour,), [(1, "red", 0), (2, "green", 0), (3, "pink", 0), (4, None, 0)]
    )
    assert names == ["colour__blue", "colour__red", "colour__rare", "colour__unknown"]
    assert [[r[n] for n in names] for r in rows] == [
        [0, 1, 0, 0],  # red
        [0, 0, 1, 0],  # green was seen once: rare
        [0, 0, 0, 1],  # pink was never seen: unknown
        [0, 1, 0, 0],  # missing, imputed with the mode (red)
    ]
    assert {(r.category, r.bucket) for r in table} == {
        ("blue", "kept"),
        ("red", "kept"),
        ("green", "rare"),
    }


def test_frequency_and_ordinal_codes() -> None:
    freq = FeatureConfig("colour", "categorical", "none", "frequency")
    _, rows, _ = _features((freq,), [(1, "red", 0), (2, "blue", 0), (3, "pink", 0)])
    assert [r["colour"] for r in rows] == [4 / 8, 2 / 8, 0.0]
    ordinal = FeatureConfig("colour", "categorical", "none", "ordinal")
    _, rows, _ = _features(
        (ordinal,), [(1, "blue", 0), (2, "green", 0), (3, "red", 0), (4, "pink", 0)]
    )
    assert [r["colour"] for r in rows] == [0.0, 1.0, 2.0, -1.0]


def test_clip_to_train_range_then_standard_scale() -> None:
    size = FeatureConfig("size", "numeric", "median", scale="standard", clip="train_range")
    _, rows, _ = _features((size,), [(1, None, -50.0), (2, None, 500.0), (3, None, None)])
    train = [s for _, _, s in ROWS if s is not None]
    mean = sum(train) / len(train)
    std = (sum((x - mean) ** 2 for x in train) / len(train)) ** 0.5
    median = sorted(train)[len(train) // 2]
    assert [r["size"] for r in rows] == pytest.approx(
        [(1.0 - mean) / std, (100.0 - mean) / std, (median - mean) / std], abs=1e-12
    )


def test_unseen_categories_are_counted_per_run(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    con = duckdb.connect(str(Path(options.config_path).parent / "warehouse.duckdb"))
    con.execute("UPDATE raw.titanic_test SET Embarked = 'Z' WHERE PassengerId % 10 = 0")
    expected = con.sql("SELECT count(*) FROM raw.titanic_test WHERE Embarked = 'Z'").fetchall()[0][
        0
    ]
    con.close()
    result = run_stages(synthetic_project(), ["predict"])[0]
    assert result.details["unseen"] == {"Embarked": expected}
    assert any("value(s) the training split never had" in m for m in result.warnings)
    con = duckdb.connect(str(Path(options.config_path).parent / "warehouse.duckdb"))
    rows = con.sql(
        "SELECT dataset, feature, category, row_count FROM pipeline.unseen_categories"
    ).fetchall()
    con.close()
    assert rows == [("test", "Embarked", "Z", expected)]


def _huge_stats(values: list[float]) -> Stats:
    """The statistics fit_stats.sql freezes for a numeric column `size` holding `values`."""
    spec = Spec("id", "y", (FeatureConfig("size", "numeric", "median"),), 0.5, "s")
    with DuckDBWarehouse.in_memory() as wh:
        t = Templates(REPO / "sql", wh.dialect)
        wh.execute(
            "CREATE TABLE c AS SELECT * FROM (VALUES "
            + ", ".join(f"({i}, {v!r}::DOUBLE, 'train')" for i, v in enumerate(values))
            + ") AS v(id, size, dataset)"
        )
        return stats_from_rows(wh.query_arrow(fit_stats_sql(t, spec, "c", "r").sql).to_pylist())


def test_standard_scaling_of_extreme_values_stays_finite() -> None:
    stats = _huge_stats([1e308, -1e308, 1e308, -1e308])
    assert stats["size"].mean == 0.0
    assert stats["size"].std == 1e308
    (p,) = plan((FeatureConfig("size", "numeric", "median", scale="standard"),), stats)
    assert isinstance(p, NumericPlan)
    assert (p.center, p.scale) == (0.0, 1e308)


@pytest.mark.parametrize(
    ("values", "scale", "message"),
    [
        (
            [1e308, -1e308],
            "minmax",
            "feature 'size': scale 'minmax' needs max - min, which overflows a double "
            "(max 1e+308, min -1e+308)",
        ),
        (
            [-1.7e308] + [1.7e308] * 9,
            "standard",
            "feature 'size': scale 'standard' overflows a double: (-1.7e+308 - mean",
        ),
    ],
)
def test_scaling_overflow_names_feature_and_statistic(
    values: list[float], scale: str, message: str
) -> None:
    stats = _huge_stats(values)
    with pytest.raises(DataError) as info:
        plan((FeatureConfig("size", "numeric", "median", scale=scale),), stats)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_non_finite_statistic_is_a_data_error() -> None:
    stats = _huge_stats([1.0, 2.0])
    stats = Stats({"size": replace(stats["size"], mean=float("inf"))})
    with pytest.raises(DataError, match="feature 'size': statistic mean is inf"):
        plan((FeatureConfig("size", "numeric", "mean", scale="standard"),), stats)


def test_scaling_overflow_leaves_the_warehouse_as_it_was(
    synthetic_project: OptionsFactory,
) -> None:
    from tests.test_bad_input import warehouse_checksums

    options = synthetic_project()
    text = options.config_path.read_text()
    old = 'column = "Parch"\ntype = "numeric"\nimpute = "median"\n'
    assert old in text
    options.config_path.write_text(text.replace(old, old + 'scale = "minmax"\n'))
    path = options.config_path.parent / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE raw.titanic_train ALTER Parch TYPE DOUBLE")
    con.execute("UPDATE raw.titanic_train SET Parch = 1e308 WHERE PassengerId = 1")
    con.execute("UPDATE raw.titanic_train SET Parch = -1e308 WHERE PassengerId = 2")
    con.close()
    before = warehouse_checksums(path)
    with pytest.raises(DataError, match="feature 'Parch': scale 'minmax' needs max - min"):
        run_stages(options, ["preprocess"])
    assert warehouse_checksums(path) == before


def _stats_of(values: list[float | None], order: list[int]) -> Stats:
    spec = Spec("id", "y", (FeatureConfig("size", "numeric", "median"),), 0.5, "s")
    with DuckDBWarehouse.in_memory() as wh:
        t = Templates(REPO / "sql", wh.dialect)
        wh.execute(
            "CREATE TABLE c AS SELECT * FROM (VALUES "
            + ", ".join(f"({i}, {wh.dialect.literal(values[i])}::DOUBLE, 'train')" for i in order)
            + ") AS v(id, size, dataset)"
        )
        return stats_from_rows(wh.query_arrow(fit_stats_sql(t, spec, "c", "r").sql).to_pylist())


def test_numeric_stats_are_exact_and_ignore_row_order() -> None:
    """Mean and std are the exact ones rounded once; -0.0 and 0.0 (equal, but printed apart)
    cannot make min, mode or median depend on which row came first."""
    from fractions import Fraction
    from math import sqrt

    values: list[float | None] = [0.1, 0.2, 0.3, -0.0, 0.0, 0.0, -0.0, 1e-17, None, 7.25, 3.0]
    n = len(values)
    forward = _stats_of(values, list(range(n)))
    backward = _stats_of(values, list(reversed(range(n))))
    assert forward == backward
    entry = forward["size"]
    x = [Fraction(v) for v in values if v is not None]
    mean = sum(x) / len(x)
    assert entry.mean == float(mean)
    assert entry.std == pytest.approx(sqrt(sum((v - mean) ** 2 for v in x) / len(x)), rel=1e-15)
    median = float((Fraction(1e-17) + Fraction(0.1)) / 2)  # the 5th and 6th of 10 values
    assert (entry.min, entry.mode, entry.median) == (0.0, 0.0, median)
    assert str(entry.mode) == "0.0"
    assert (entry.rows, entry.nulls) == (11.0, 1.0)


def test_limb_layout_agrees_with_fit_stats_sql() -> None:
    from pipeline.features.stats import LIMB_BITS, LIMBS

    text = (REPO / "sql" / "preprocess" / "fit_stats.sql").read_text()
    assert f"{{% set limbs = {LIMBS} %}}" in text
    assert f"{{% set bits = {LIMB_BITS} %}}" in text
    # the integer sums travel exactly in a DOUBLE up to 2^31 rows
    assert LIMB_BITS + 31 <= 53
