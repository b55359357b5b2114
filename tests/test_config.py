"""Config validation happens before any SQL: bad names and settings are refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.core.errors import ConfigError
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
        ('impute = "mode"', 'impute = "constant"', 'impute "constant" needs fill_value'),
        ('task = "binary"', 'task = "ranking"', "not one of binary, multiclass, regression"),
        (
            "holdout_fraction = 0.2",
            "holdout_fraction = 1.5",
            r"\[split\] holdout_fraction: 1.5 is out of range: must be between 0 and 1",
        ),
        (
            'estimator = "sklearn.ensemble.RandomForestClassifier"',
            'estimator = "os"',
            "dotted path",
        ),
        ('column = "Age"', 'column = "Pclass"', "listed twice"),
        (
            'type = "duckdb"',
            'type = "oracle"',
            r'\[warehouse\] type: "oracle" is not one of duckdb, bigquery',
        ),
    ],
)
def test_bad_config_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _config(tmp_path, old, new)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text("[warehouse\n")
    with pytest.raises(ConfigError, match=r"pipeline\.toml: not valid TOML"):
        load_config(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # unknown keys, in every section, with the closest valid name
        (
            'task = "binary"',
            'tsak = "regression"',
            "[columns] tsak: unknown key; did you mean 'task'?",
        ),
        ("workers = 0 ", "wokers = 4 ", "[scoring] wokers: unknown key; did you mean 'workers'?"),
        (
            "calibration_bins = 10",
            "calibration_bin = 10",
            "[evaluate] calibration_bin: unknown key; did you mean 'calibration_bins'?",
        ),
        (
            'salt = "titanic-v1"',
            'slat = "titanic-v1"',
            "[split] slat: unknown key; did you mean 'salt'?",
        ),
        (
            'output_schema = "pipeline"',
            'output_schema = "pipeline"\nunlabeled = "raw.x"',
            "[tables] unlabeled: unknown key; did you mean 'unlabelled'?",
        ),
        (
            'seed_from = "warehouse.duckdb.example"',
            "thread = 2",
            "[warehouse] thread: unknown key; did you mean 'threads'?",
        ),
        (
            'encode = "onehot"',
            'encod = "onehot"',
            "[[features]] 'Sex' encod: unknown key; did you mean 'encode'?",
        ),
        (
            "accepted = [0, 1]",
            "acepted = [0, 1]",
            "[contract.Survived] acepted: unknown key; did you mean 'accepted'?",
        ),
        ('sql_dir = "sql"', 'sqldir = "sql"', "sqldir: unknown key; did you mean 'sql_dir'?"),
        # wrong types: no traceback, no silent conversion
        ("workers = 0 ", 'workers = "four" ', '[scoring] workers: "four" is not a whole number'),
        ("workers = 0 ", "workers = 1.5 ", "[scoring] workers: 1.5 is not a whole number"),
        (
            "missing_indicator = true",
            'missing_indicator = "yes"',
            "[[features]] 'Age' missing_indicator: \"yes\" is not true or false",
        ),
        ("min = 0\nmax = 120", 'min = "zero"', '[contract.Age] min: "zero" is not a number'),
        (
            'slices = ["Pclass", "Sex"]',
            'slices = "Pclass"',
            '[evaluate] slices: "Pclass" is not a list',
        ),
        # ranges and vocabularies
        (
            "workers = 0 ",
            "workers = -1 ",
            "[scoring] workers: -1 is out of range: must be 0 or more",
        ),
        (
            "calibration_bins = 10",
            "calibration_bins = 0",
            "[evaluate] calibration_bins: 0 is out of range: must be from 1 to 1000",
        ),
        (
            "# threshold = 0.5 ",
            "threshold = 2 ",
            "[evaluate] threshold: 2 is out of range: must be from 0 to 1",
        ),
        (
            'executor = "auto"',
            'executor = "gpu"',
            '[scoring] executor: "gpu" is not one of auto, process, thread, inprocess, dask, warehouse',
        ),
        (
            'type = "int"',
            'type = "integer"',
            '[contract.Pclass] type: "integer" is not one of int, float, string',
        ),
        ("accepted = [0, 1]", "accepted = []", "[contract.Survived] accepted: must not be empty"),
        (
            "missing_indicator = true",
            "clip = [5, 1]",
            "[[features]] 'Age' clip: [5, 1] is not \"train_range\" or [low, high]",
        ),
        (
            'type = "duckdb"',
            'type = "bigquery"',
            "[warehouse] path: unknown key; known: type, project, location, endpoint, anonymous,",
        ),
        (
            "[contract.Fare]",
            '[contract."Fa\\tre"]',
            "[contract.Fa\tre]: 'Fa\\tre' must be a non-empty name without control characters",
        ),
        (
            "[model.params.LogisticRegression]\nmax_iter = 5000",
            "[model.params.LogisticRegression]\nmax_iter = 5000\n[model.params]\nn_jobs = 2",
            "[model.params] mixes plain parameters with per-estimator tables",
        ),
        # sections
        ("[tables]", "[tablez]", "tablez: unknown key; did you mean 'tables'?"),
        ("[split]", "[splitting]", "splitting: unknown key; did you mean 'split'?"),
    ],
)
def test_config_mistakes_are_one_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    """Every section refuses unknown keys and wrong types, naming file, section and key."""
    path = _config(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: {message}"), text
    assert "\n" not in text


def test_missing_section_and_key(tmp_path: Path) -> None:
    text = (REPO / "pipeline.toml").read_text()
    path = tmp_path / "pipeline.toml"
    path.write_text(text[: text.index("[split]")] + text[text.index("# impute:") :])
    with pytest.raises(ConfigError, match=r"pipeline\.toml: missing section \[split\]$"):
        load_config(path)
    path.write_text(text.replace('label = "Survived"\n', ""))
    with pytest.raises(ConfigError, match=r"pipeline\.toml: \[columns\] label: missing"):
        load_config(path)


def test_new_keys_and_relative_paths(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        'encode = "onehot"',
        'encode = "onehot"\nmax_categories = 20\nname = "sex_of_passenger"',
    )
    text = path.read_text().replace(
        "[model]\n", '[model]\npackages = ["scikit-learn"]\nsigning_key = "keys/model.key"\n', 1
    )
    path.write_text(text.replace('executor = "auto"', 'executor = "auto"\non_type_change = "cast"'))
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "model.key").write_text("ab" * 32)
    config = load_config(path)
    sex = config.features[1]
    assert (sex.max_categories, sex.name, sex.column, sex.source) == (
        20,
        "sex_of_passenger",
        "sex_of_passenger",
        "Sex",
    )
    assert config.features[0].max_categories == 100
    assert config.model.packages == ["scikit-learn"]
    assert config.model.signing_key == (tmp_path / "keys" / "model.key").resolve()
    assert config.scoring.on_type_change == "cast"
    assert config.warehouse.path == (tmp_path / "warehouse.duckdb").resolve()
    numeric = _config(tmp_path, 'impute = "median"', 'impute = "median"\nmax_categories = 5')
    with pytest.raises(ConfigError, match="max_categories applies to categorical columns only"):
        load_config(numeric)


def test_warehouse_per_engine(tmp_path: Path) -> None:
    """One model per warehouse type: each knows its own keys and nothing else."""
    text = (REPO / "pipeline.toml").read_text()
    start, end = text.index("\n[warehouse]\n") + 1, text.index("\n[tables]\n") + 1
    path = tmp_path / "pipeline.toml"
    path.write_text(
        text[:start]
        + '[warehouse]\ntype = "bigquery"\nproject = "p"\nanonymous = true\ntimeout = 60\n\n'
        + text[end:]
    )
    config = load_config(path)
    assert config.warehouse.type == "bigquery"
    assert config.warehouse.path is None
    assert config.warehouse.options == {"project": "p", "anonymous": True, "timeout": 60.0}
    path.write_text(path.read_text().replace("timeout = 60", "memory_limit = '1GB'"))
    with pytest.raises(ConfigError, match=r"\[warehouse\] memory_limit: unknown key"):
        load_config(path)
    duck = load_config(REPO / "pipeline.toml").warehouse
    assert duck.options == {}


def test_feature_config_keeps_its_constructor() -> None:
    from pipeline.config import FeatureConfig

    f = FeatureConfig("colour", "categorical", "mode", "onehot", min_count=2)
    assert (f.column, f.type, f.impute, f.encode, f.min_count) == (
        "colour",
        "categorical",
        "mode",
        "onehot",
        2,
    )
    assert FeatureConfig(**vars(f)) == f


def test_json_schema_is_published_and_up_to_date() -> None:
    """pipeline.schema.json at the repo top is what `pipeline config-schema` prints."""
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["config-schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == json.loads((REPO / "pipeline.schema.json").read_text()), (
        "regenerate: pipeline config-schema > pipeline.schema.json"
    )
    assert printed["additionalProperties"] is False
    assert "wokers" not in printed["$defs"]["ScoringConfig"]["properties"]
    assert (REPO / "pipeline.toml").read_text().startswith("#:schema ./pipeline.schema.json")


def test_schema_validates_the_example_config() -> None:
    """The schema agrees with the model on the example (jsonschema, when installed)."""
    jsonschema = pytest.importorskip("jsonschema")
    import json
    import tomllib

    schema = json.loads((REPO / "pipeline.schema.json").read_text())
    raw = tomllib.loads((REPO / "pipeline.toml").read_text())
    jsonschema.validate(raw, schema)
    raw["scoring"]["wokers"] = 4
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(raw, schema)
