"""`pipeline init` on tables a first trial tripped on: copies of rows (they must not straddle
train and holdout), raw columns named like the pipeline's own (`dataset`, `score`), labels not
yet filled in, R's row-number column, and tables with nothing to learn (refused, exit 4)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.config import FeatureConfig
from pipeline.features.sql import Spec
from tests.test_bad_input import warehouse_checksums
from tests.test_own_data_first_try import fails, ingest, ok


def exports(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows).round(1) + 0.0  # coarse: many copies; + 0.0: no "-0.0"
    group = rng.choice(["a", "b"], rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-2 * x))).astype(float)
    y[rng.random(rows) < 0.1] = np.nan  # not labelled yet
    return pd.DataFrame({"dataset": group, "score": rng.integers(0, 3, rows), "x": x, "y": y})


def test_copies_stay_on_one_side_and_odd_names_and_unlabelled_rows_run(tmp_path: Path) -> None:
    frame = exports()
    csv = tmp_path / "d.csv"
    frame.to_csv(csv, na_rep="NA")  # with R-style row numbers: an unnamed first column
    db = tmp_path / "p" / "warehouse.duckdb"
    ingest(csv, "raw.d", db)
    out = ok("init", str(tmp_path / "p"), "--from-table", "raw.d", "--label", "y")
    config = (tmp_path / "p" / "pipeline.toml").read_text()
    labelled_rows = int(frame["y"].notna().sum())
    copies = int(frame.duplicated().sum())
    assert copies > 50
    assert f"{copies:,} rows of raw.d are copies of an earlier row" in out
    assert f"raw.d has {copies:,} rows that copy an earlier row" in config
    assert '\nby = "row_hash"\n' in config
    # names the pipeline writes itself get a name of their own
    assert 'column = "dataset"\nname = "dataset_"' in config
    assert 'column = "score"\nname = "score_"' in config
    # the row numbers are not a feature
    assert "# left out: column0 (row numbers" in config and "column0: row numbers" in out
    # rows without a label are left out of the labelled view and scored
    unlabelled = len(frame) - labelled_rows
    assert f"{unlabelled:,} rows of raw.d have no 'y'" in out
    assert 'labelled = "raw.d_labelled"' in config
    assert 'unlabelled = "raw.d_unlabelled"' in config

    # the README's cleaning example writes (--write) over the view that has the key
    readme = (tmp_path / "p" / "README.md").read_text()
    assert 'pipeline sql --config pipeline.toml --write "CREATE VIEW' in readme
    assert "FROM raw.d_labelled WHERE" in readme and "adds row_key to raw.d" in readme
    made = ok("sql", "--config", str(tmp_path / "p" / "pipeline.toml"), "--write",
              "CREATE VIEW raw.clean_d AS SELECT * FROM raw.d_labelled WHERE x > 0")  # fmt: skip
    assert made.strip() == "ok"
    ok("run", "--config", str(tmp_path / "p" / "pipeline.toml"))
    con = duckdb.connect(str(db), read_only=True)
    straddling = con.sql(
        "SELECT count(*) FROM (SELECT split_part(row_key, '-', 1) AS h FROM pipeline.clean "
        "WHERE dataset IN ('train', 'holdout') GROUP BY h HAVING count(DISTINCT dataset) > 1)"
    ).fetchall()
    datasets = dict(con.sql("SELECT dataset, count(*) FROM pipeline.clean GROUP BY 1").fetchall())
    con.close()
    assert straddling == [(0,)]
    assert datasets["test"] == unlabelled
    assert datasets["train"] + datasets["holdout"] == labelled_rows


def test_a_split_by_column_the_table_lacks_is_refused(tmp_path: Path) -> None:
    exports(60).to_csv(tmp_path / "d.csv", index=False, na_rep="NA")
    db = tmp_path / "p" / "warehouse.duckdb"
    ingest(tmp_path / "d.csv", "raw.d", db)
    ok("init", str(tmp_path / "p"), "--from-table", "raw.d", "--label", "y")
    config = tmp_path / "p" / "pipeline.toml"
    config.write_text(config.read_text().replace('by = "row_hash"', 'by = "patient"'))
    before = warehouse_checksums(db)
    out = fails(2, "run", "--config", str(config))
    assert "error: table raw.d_labelled has no column 'patient'" in out
    assert len([line for line in out.splitlines() if "error" in line]) == 1
    assert warehouse_checksums(db) == before


def test_a_spec_saved_before_split_by_still_loads() -> None:
    old = {
        "id": "i",
        "label": "y",
        "features": [{"column": "x", "type": "numeric"}],
        "holdout_fraction": 0.2,
        "salt": "s",
    }
    spec = Spec.from_dict(old)
    assert spec.split_by is None and spec.to_dict() == Spec.from_dict(spec.to_dict()).to_dict()
    assert "split_by" not in spec.to_dict()  # the dict, and what hashes it, are unchanged
    by = Spec("i", "y", (FeatureConfig(column="x", type="numeric"),), 0.2, "s", "row_hash")
    assert Spec.from_dict(by.to_dict()).split_by == "row_hash"


def test_nothing_to_learn_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cases = {
        "empty": ("x,y\n", "table raw.empty has no rows: nothing to propose features from"),
        "nolabel": (
            "x,y\n1,\n2,NA\n",
            "label column 'y' of raw.nolabel is NULL in all 2 rows: name the label with --label",
        ),
        "onevalue": (
            "x,y\n1,1\n2,1\n3,\n",
            "label column 'y' of raw.onevalue has one value (1) in all 2 labelled rows: "
            "nothing to learn",
        ),
    }
    for name, (text, _) in cases.items():
        (tmp_path / f"{name}.csv").write_text(text)
        ingest(tmp_path / f"{name}.csv", f"raw.{name}", db)
    before = warehouse_checksums(db)
    for name, (_, message) in cases.items():
        out = fails(
            4, "init", str(tmp_path / name), "--from-table", f"raw.{name}", "--label", "y",
            "--warehouse", str(db),
        )  # fmt: skip
        assert out.strip() == f"error: {message}"
        assert not (tmp_path / name).exists()
    assert warehouse_checksums(db) == before


@pytest.mark.slow  # a whole real data set end to end, or CLI subprocesses
def test_a_second_project_in_one_warehouse_gets_a_schema_of_its_own(tmp_path: Path) -> None:
    """Two projects writing pipeline.* in one warehouse overwrote each other's tables, and
    one trained on the other's features without a word."""
    exports(120).to_csv(tmp_path / "d.csv", index=False, na_rep="NA")
    db = tmp_path / "w.duckdb"
    ingest(tmp_path / "d.csv", "raw.d", db)
    ok("init", str(tmp_path / "first"), "--from-table", "raw.d", "--label", "y",
       "--warehouse", str(db))  # fmt: skip
    # the second init comes before the first project has run: the schema is taken all the same
    out = ok("init", str(tmp_path / "Second-Try"), "--from-table", "raw.d", "--label", "y",
             "--warehouse", str(db))  # fmt: skip
    assert "this project writes to pipeline_second_try (output_schema)" in out
    for project in ("first", "Second-Try"):
        ok("run", "--config", str(tmp_path / project / "pipeline.toml"))
    con = duckdb.connect(str(db), read_only=True)
    models = {
        schema: con.sql(f"SELECT DISTINCT model_id FROM {schema}.predictions").fetchall()
        for schema in ("pipeline", "pipeline_second_try")
    }
    con.close()
    assert len(models["pipeline"]) == len(models["pipeline_second_try"]) == 1
    config = (tmp_path / "Second-Try" / "pipeline.toml").read_text()
    assert 'output_schema = "pipeline_second_try"' in config
    assert 'output_schema = "pipeline"' in (tmp_path / "first" / "pipeline.toml").read_text()


def test_a_table_with_no_possible_feature_is_refused(tmp_path: Path) -> None:
    """init wrote a config with every column left out; run then said `features: missing`."""
    rows = 60
    frame = pd.DataFrame(
        {"t": [f"note {i}" for i in range(rows)], "y": [i % 2 for i in range(rows)]}
    )
    frame.to_csv(tmp_path / "n.csv", index=False)
    db = tmp_path / "w.duckdb"
    ingest(tmp_path / "n.csv", "raw.n", db)
    out = fails(4, "init", str(tmp_path / "p"), "--from-table", "raw.n", "--label", "y",
                "--warehouse", str(db))  # fmt: skip
    assert out.strip().startswith("error: no column of raw.n")
    assert "so a run would have nothing to learn from: t (" in out
    assert not (tmp_path / "p" / "pipeline.toml").exists()
