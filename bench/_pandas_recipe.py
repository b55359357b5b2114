"""The usual pandas preprocessing of the Titanic columns, timed in its own process.

    python bench/_pandas_recipe.py train.parquet
prints {"seconds": ..., "rss_mb": ..., "rows": ...}."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench/

import json
import time

import pandas as pd

from bench.common import peak_rss_mb


def recipe(path: str) -> pd.DataFrame:
    df = pd.read_parquet(path)
    df["Age"] = df["Age"].fillna(df["Age"].median())
    df["Fare"] = df["Fare"].fillna(df["Fare"].median())
    df["Embarked"] = df["Embarked"].fillna(df["Embarked"].mode()[0])
    df["Sex"] = df["Sex"].map({"male": 0, "female": 1})
    df = pd.get_dummies(df, columns=["Embarked"], dtype=float)
    features = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare"]
    features += [c for c in df.columns if c.startswith("Embarked_")]
    return df[["PassengerId", "Survived", *features]].astype(float)


def main() -> None:
    start = time.perf_counter()
    out = recipe(sys.argv[1])
    seconds = time.perf_counter() - start
    rss = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": len(out)}))


if __name__ == "__main__":
    main()
