"""CSV files shaped like real exports, for the "your own data" tests: missing values written as
`NA`, no id column, column names with dots, spaces, umlauts and SQL keywords, one column that
is NULL exactly when the label is 0 (leakage), and a file with one ragged row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LABEL = "relapse 2y"  # a label whose name is not a plain identifier either
LEAKY = "follow.up.date"  # filled in only for the patients who relapsed


def patients(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    year = rng.integers(1995, 2020, rows).astype(float)
    year[rng.random(rows) < 0.1] = np.nan
    kappa = rng.lognormal(2.5, 0.6, rows).round(2)
    height = rng.normal(170, 9, rows).round(1)
    height[rng.random(rows) < 0.05] = np.nan
    group = rng.choice(["g1", "g2", "g3"], rows, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["F", "M"], rows)
    logit = -0.4 + 0.08 * (kappa - 12) + 0.9 * (group == "g3") - 0.5 * (sex == "F")
    relapse = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    follow_up = np.where(relapse == 1, rng.integers(1, 700, rows), np.nan)
    return pd.DataFrame(
        {
            "sample.yr": year,
            "kappa": kappa,
            "flc.grp": group,
            "kunde id": rng.integers(1, 50, rows),  # a number that means nothing
            "größe": height,
            "select": sex,
            LEAKY: follow_up,
            LABEL: relapse,
        }
    )


def write_exports(directory: Path, rows: int = 600, seed: int = 5) -> dict[str, Path]:
    """patients.csv (labelled), new_patients.csv (no label) and broken.csv (a ragged row)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}.csv" for name in ("patients", "new_patients", "broken")}
    patients(rows, seed).to_csv(paths["patients"], index=False, na_rep="NA")
    new = patients(rows // 5, seed + 1).drop(columns=[LABEL, LEAKY])
    new.to_csv(paths["new_patients"], index=False, na_rep="NA")
    lines = paths["patients"].read_text().splitlines()
    lines[7] += ",oops"  # line 8 of the file has one field too many
    paths["broken"].write_text("\n".join(lines) + "\n")
    return paths
