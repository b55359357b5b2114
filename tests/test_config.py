"""Config validation happens before any SQL: bad names and settings are refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from tests.conftest import REPO


def _config(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "pipeline.toml").read_text()
    assert old in text
    path = tmp_path / "pipeline.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_example_config_loads() -> None:
    config = load_config(REPO / "pipeline.toml")
    assert config.labelled_table == "raw.titanic_train"
    assert [f.column for f in config.features][:2] == ["Pclass", "Sex"]
    assert config.sql_dir == REPO / "sql"
    assert len(config.hash) == 64


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'id = "PassengerId"',
            'id = "x; DROP TABLE raw.titanic_train; --"',
            "not a valid identifier",
        ),
        (
            'labelled = "raw.titanic_train"',
            'labelled = "titanic_train"',
            "must be written as schema.table",
        ),
        # a raw column may be named anything, but its feature needs a plain output name
        ('column = "Sex"', 'column = "Se\\"x"', 'not a plain identifier; add name = "Se_x"'),
        ('column = "Sex"', 'column = "Sex"\nname = "S x"', "name 'S x' is not a valid identifier"),
        ('column = "Sex"', 'column = "Se\\nx"\nname = "Sex"', "without control characters"),
        ('impute = "mode"', 'impute = "median"', "needs a numeric column"),
        ('encode = "onehot"', 'encode = "target"', "not one of onehot, ordinal"),
        ('task = "binary"', 'task = "ranking"', "not one of binary, multiclass, regression"),
        ("holdout_fraction = 0.2", "holdout_fraction = 1.5", "between 0 and 1"),
        (
            'estimator = "sklearn.ensemble.RandomForestClassifier"',
            'estimator = "os"',
            "dotted path",
        ),
        ('column = "Age"', 'column = "Pclass"', "listed twice"),
        ('type = "duckdb"', 'type = "oracle"', None),
    ],
)
def test_bad_config_is_refused(tmp_path: Path, old: str, new: str, message: str | None) -> None:
    path = _config(tmp_path, old, new)
    if message is None:  # the warehouse type is checked when the warehouse opens
        from pipeline.warehouse import open_warehouse

        with pytest.raises(ConfigError, match="warehouse type 'oracle' is not known"):
            open_warehouse(load_config(path).warehouse)
        return
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[warehouse\n")
    with pytest.raises(ConfigError, match=r"pipeline\.toml: not valid TOML"):
        load_config(path)
