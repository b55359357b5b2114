"""Preprocessing, side by side in one run: the pipeline's preprocess stage against the usual
pandas recipe (read Parquet, fillna with median and mode, map and one-hot the categories), on
the same Parquet source, each in its own process so its peak RSS is its own.

The stage does more than the recipe: it also splits train and holdout, computes every statistic
on the train split, and writes the clean table and three feature tables to the warehouse file.

    python bench/preprocess.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import REPO, fmt_rows, run_stage, section, write_config
from pipeline.tools.synthetic import generate
from pipeline.warehouse.duckdb import DuckDBWarehouse


def make_source(directory: Path, rows: int) -> tuple[Path, Path]:
    """Labelled and unlabelled synthetic rows as Parquet files."""
    train, test = directory / "train.parquet", directory / "test.parquet"
    with DuckDBWarehouse(directory / "source.duckdb", settings={"memory_limit": "4GB"}) as wh:
        generate(wh, REPO / "sql", rows, max(rows // 10, 1))
        wh.execute(f"COPY raw.titanic_train TO '{train}' (FORMAT PARQUET)")
        wh.execute(f"COPY raw.titanic_test TO '{test}' (FORMAT PARQUET)")
    (directory / "source.duckdb").unlink()
    return train, test


def pipeline_project(directory: Path, train: Path, test: Path) -> Path:
    """A project whose raw tables are views over the Parquet files: the same source."""
    project = directory / "project"
    project.mkdir()
    config = write_config(
        project, "sklearn.ensemble.RandomForestClassifier", {}, memory_limit="2GB"
    )
    with DuckDBWarehouse(project / "warehouse.duckdb") as wh:
        wh.ensure_schema("raw")
        wh.execute(f"CREATE VIEW raw.titanic_train AS SELECT * FROM read_parquet('{train}')")
        wh.execute(f"CREATE VIEW raw.titanic_test AS SELECT * FROM read_parquet('{test}')")
    return config


def pandas_recipe(train: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "_pandas_recipe.py"), str(train)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}")
    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as tmp:
        with section(f"source: {fmt_rows(args.rows)} labelled rows as Parquet"):
            train, test = make_source(Path(tmp), args.rows)
        config = pipeline_project(Path(tmp), train, test)
        with section("pipeline preprocess stage"):
            stage = run_stage(config, "preprocess")
            print("  ", json.dumps(stage))
        with section("pandas recipe"):
            recipe = pandas_recipe(train)
            print("  ", json.dumps(recipe))
    print()
    print(
        "| rows | preprocess stage | pandas recipe | speed-up | stage peak RSS "
        "| pandas peak RSS | memory ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {fmt_rows(args.rows)} | {stage['seconds']:.2f} s | {recipe['seconds']:.2f} s | "
        f"{recipe['seconds'] / stage['seconds']:.1f}x | {stage['rss_mb']:.0f} MB | "
        f"{recipe['rss_mb']:.0f} MB | {stage['rss_mb'] / recipe['rss_mb']:.2f} |"
    )


if __name__ == "__main__":
    main()
