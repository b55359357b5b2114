"""The usual pandas preprocessing of the Titanic columns, timed in its own process.

    python bench/_pandas_recipe.py train.parquet
prints {"seconds": ..., "rss_mb": ..., "rows": ...}."""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd


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
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "rows": len(out)}))


if __name__ == "__main__":
    main()
