"""Tiny Titanic-like raw tables, generated with a fixed seed, for fast refactoring tests.

Run as a script to write a DuckDB warehouse:  python tests/synthetic.py OUT.duckdb --rows 400
Survival depends on sex, class and age as in the real data, so a model learns something; the
columns have the real data's quirks: null Age and Embarked, empty-string Cabin, a null Fare in
the unlabelled table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261123


def make_tables(
    n_labelled: int = 400, n_unlabelled: int = 150, seed: int = SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labelled, unlabelled) raw tables with the Kaggle Titanic columns."""
    rng = np.random.default_rng(seed)
    n = n_labelled + n_unlabelled
    pclass = rng.choice([1, 2, 3], size=n, p=[0.25, 0.2, 0.55])
    sex = rng.choice(["male", "female"], size=n, p=[0.65, 0.35])
    age = np.round(rng.gamma(6.0, 5.0, size=n), 1)
    age_missing = rng.random(n) < 0.2
    sibsp = rng.poisson(0.5, size=n)
    parch = rng.poisson(0.4, size=n)
    fare = np.round(rng.lognormal(np.log(60.0 / pclass), 0.6), 4)
    embarked = rng.choice(["S", "C", "Q"], size=n, p=[0.72, 0.19, 0.09]).astype(object)
    embarked[rng.random(n) < 0.01] = None
    logit = 1.8 * (sex == "female") - 0.9 * (pclass - 2) - 0.02 * (age - 30) - 0.5
    survived = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(
        {
            "PassengerId": np.arange(1, n + 1),
            "Survived": survived,
            "Pclass": pclass,
            "Name": [f"Passenger, Mr. Number {i}" for i in range(1, n + 1)],
            "Sex": sex,
            "Age": np.where(age_missing, np.nan, age),
            "SibSp": sibsp,
            "Parch": parch,
            "Ticket": [f"T{i:05d}" for i in rng.integers(0, 99999, size=n)],
            "Fare": fare,
            "Cabin": np.where(
                rng.random(n) < 0.75, "", "C" + pd.Series(rng.integers(1, 99, n)).astype(str)
            ),
            "Embarked": embarked,
        }
    )
    labelled = df.iloc[:n_labelled].reset_index(drop=True)
    unlabelled = df.iloc[n_labelled:].drop(columns="Survived").reset_index(drop=True)
    unlabelled.loc[unlabelled.index[:1], "Fare"] = np.nan
    return labelled, unlabelled


def write_warehouse(
    path: Path, labelled: pd.DataFrame, unlabelled: pd.DataFrame, schema: str = "raw"
) -> None:
    """Write the two raw tables into a DuckDB file (created if absent)."""
    from pipeline.warehouse.duckdb import DuckDBWarehouse

    with DuckDBWarehouse(path) as wh:
        wh.ensure_schema(schema)
        for name, df in (("titanic_train", labelled), ("titanic_test", unlabelled)):
            wh.register("frame", df)
            wh.replace_table(f"{schema}.{name}", "SELECT * FROM frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    labelled, unlabelled = make_tables(args.rows, max(args.rows * 3 // 8, 1), args.seed)
    write_warehouse(args.out, labelled, unlabelled)
    print(f"{args.out}: raw.titanic_train {len(labelled)} rows, raw.titanic_test {len(unlabelled)}")


if __name__ == "__main__":
    main()
