"""Export scikit-learn's wine data set to CSV for this example (run once; the CSVs are kept).

    python examples/wine/export.py
writes data/wines.csv (labelled, 160 rows) and data/new_wines.csv (18 rows without the label),
split with a fixed seed. Column names become plain identifiers (od280/od315_... has a slash)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = load_wine(as_frame=True)
    df = data.frame.rename(columns=lambda c: re.sub(r"[^A-Za-z0-9_]+", "_", c).strip("_"))
    df = df.rename(columns={"target": "cultivar"})
    df.insert(0, "wine_id", np.arange(1, len(df) + 1))
    rng = np.random.default_rng(7)
    new = rng.choice(len(df), size=18, replace=False)
    mask = np.zeros(len(df), bool)
    mask[new] = True
    (HERE / "data").mkdir(exist_ok=True)
    df[~mask].to_csv(HERE / "data" / "wines.csv", index=False)
    df[mask].drop(columns="cultivar").to_csv(HERE / "data" / "new_wines.csv", index=False)
    print(f"wines.csv {int((~mask).sum())} rows, new_wines.csv {int(mask.sum())} rows")


if __name__ == "__main__":
    main()
