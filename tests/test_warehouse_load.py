"""Loading JSON Lines parts and reading them back in the same DuckDB connection: DuckDB 2.0.0
lost rows of a GROUP BY right after such a load (hence duckdb>=2.0.1 in pyproject)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.warehouse.duckdb import DuckDBWarehouse

COLUMNS = {"id": "int", "dataset": "string", "prediction": "int", "score": "float"}
PARTS = {"holdout": [60_000, 90_000], "test": [100_000, 100_000, 50_000]}  # 400,000 rows


def _write_parts(directory: Path) -> dict[str, list[Path]]:
    rng = np.random.default_rng(0)
    paths: dict[str, list[Path]] = {}
    first = 0
    for dataset, sizes in PARTS.items():
        for i, n in enumerate(sizes):
            frame = pd.DataFrame(
                {
                    "id": np.arange(first, first + n),
                    "dataset": dataset,
                    "prediction": rng.integers(0, 2, n),
                    "score": rng.random(n),
                }
            )
            path = directory / f"{dataset}-{i}.jsonl"
            frame.to_json(path, orient="records", lines=True)  # vectorised, no Python loop
            paths.setdefault(dataset, []).append(path)
            first += n
    return paths


def test_load_parts_then_group_by_in_one_connection(tmp_path: Path) -> None:
    paths = _write_parts(tmp_path)
    with DuckDBWarehouse(tmp_path / "warehouse.duckdb") as wh:
        for dataset, files in paths.items():
            n = wh.replace_rows_from_jsonl(
                "pipeline.predictions", files, COLUMNS, key="dataset", value=dataset
            )
            assert n == sum(PARTS[dataset])
        counts = wh.query_arrow(
            "SELECT dataset, count(*) AS n FROM pipeline.predictions GROUP BY 1 ORDER BY 1"
        ).to_pylist()
        assert counts == [{"dataset": d, "n": sum(s)} for d, s in sorted(PARTS.items())]
        # a second load of one dataset replaces its rows and leaves the other's alone
        wh.replace_rows_from_jsonl(
            "pipeline.predictions", paths["holdout"][:1], COLUMNS, key="dataset", value="holdout"
        )
        counts = wh.query_arrow(
            "SELECT dataset, count(*) AS n FROM pipeline.predictions GROUP BY 1 ORDER BY 1"
        ).to_pylist()
        assert counts == [
            {"dataset": "holdout", "n": PARTS["holdout"][0]},
            {"dataset": "test", "n": sum(PARTS["test"])},
        ]
