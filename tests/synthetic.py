"""The tiny synthetic data set the tests run on: Titanic-like raw tables from the project's own
SQL generator (sql/synthetic/titanic.sql) with its fixed seed.

As a script it writes a DuckDB warehouse of any size:
    python tests/synthetic.py OUT.duckdb --rows 400 [--unlabelled 150] [--seed S]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.tools.synthetic import SEED, generate
from pipeline.warehouse.duckdb import DuckDBWarehouse

REPO = Path(__file__).resolve().parent.parent
LABELLED, UNLABELLED = 400, 150


def write_warehouse(
    path: Path, labelled: int = LABELLED, unlabelled: int = UNLABELLED, seed: str = SEED
) -> dict[str, int]:
    with DuckDBWarehouse(path) as wh:
        return generate(wh, REPO / "sql", labelled, unlabelled, seed=seed)


def make_tables(
    labelled: int = LABELLED, unlabelled: int = UNLABELLED, seed: str = SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labelled, unlabelled) as DataFrames, ordered by id."""
    with DuckDBWarehouse.in_memory() as wh:
        generate(wh, REPO / "sql", labelled, unlabelled, seed=seed)
        return tuple(  # type: ignore[return-value]
            wh.query_arrow(f"SELECT * FROM raw.{t} ORDER BY PassengerId").to_pandas()
            for t in ("titanic_train", "titanic_test")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=LABELLED)
    parser.add_argument("--unlabelled", type=int, default=None)
    parser.add_argument("--seed", default=SEED)
    args = parser.parse_args()
    unlabelled = args.unlabelled if args.unlabelled is not None else max(args.rows * 3 // 8, 1)
    for table, n in write_warehouse(args.out, args.rows, unlabelled, args.seed).items():
        print(f"{args.out}: {table} {n} rows")


if __name__ == "__main__":
    main()
