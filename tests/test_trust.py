"""Trust: a config names an estimator, never code to run; a model directory is loaded only
after its signature (when a key is configured) and manifest check out."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.runner import run_stages
from tests.conftest import REPO, OptionsFactory
from tests.test_bad_input import warehouse_checksums


def set_model(config: Path, section: str) -> None:
    """Replace the config's [model] tables (up to [evaluate]) with `section`."""
    text = config.read_text()
    text, n = re.subn(r"(?ms)^\[model\].*?(?=^\[evaluate\])", section + "\n", text)
    assert n == 1
    config.write_text(text)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_popen_in_the_config_runs_nothing(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    marker = tmp_path / "pwned"
    set_model(
        options.config_path,
        f'[model]\nestimator = "subprocess.Popen"\n[model.params]\nargs = ["touch", "{marker}"]\n',
    )
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    proc = cli("run", "--config", str(options.config_path))
    assert proc.returncode == 2, proc.stderr
    assert not marker.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "'subprocess.Popen'" in lines[0], proc.stderr
    assert "outside the allowed packages" in lines[0]
    assert warehouse_checksums(warehouse) == before


@pytest.mark.parametrize(
    ("estimator", "params", "why"),
    [
        ("os.system", 'command = "true"', "outside the allowed packages"),
        ("builtins.eval", 'source = "1"', "outside the allowed packages"),
        ("collections.OrderedDict", "", "outside the allowed packages"),
        ("antigravity.X", "", "outside the allowed packages"),
        ("sklearn.utils.Bunch", "", "is not a scikit-learn estimator class"),
        ("sklearn.datasets.load_iris", "", "is not a scikit-learn estimator class"),
        ("sklearn.base.BaseEstimator", "", "has no fit/predict"),
        ("sklearn.ensemble.NoSuchForest", "", "cannot be imported"),
        (
            "sklearn.ensemble.RandomForestClassifier",
            "n_estimators = -3",
            "[model.params] of sklearn.ensemble.RandomForestClassifier: The 'n_estimators' "
            "parameter",
        ),
        (
            "sklearn.ensemble.RandomForestClassifier",
            'max_depth = "deep"',
            "The 'max_depth' parameter",
        ),
        ("sklearn.linear_model.Ridge", "no_such = 1", "[model.params] do not fit"),
    ],
)
def test_a_config_that_names_no_estimator_fails_before_any_write(
    synthetic_project: OptionsFactory, estimator: str, params: str, why: str
) -> None:
    options = synthetic_project()
    set_model(options.config_path, f'[model]\nestimator = "{estimator}"\n[model.params]\n{params}')
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    sys.modules.pop("antigravity", None)
    with pytest.raises(ConfigError) as info:
        run_stages(options, None)
    message = str(info.value)
    assert info.value.exit_code == 2
    assert why in message and "\n" not in message
    if "allowed" in why or "not a scikit" in why:
        assert repr(estimator) in message
    assert "antigravity" not in sys.modules
    assert warehouse_checksums(warehouse) == before
    assert not (options.models_dir).exists()


def test_packages_key_extends_the_allowed_list(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    set_model(options.config_path, '[model]\nestimator = "collections.OrderedDict"\n')
    text = options.config_path.read_text().replace(
        "[model]\n", '[model]\npackages = ["collections"]\n'
    )
    options.config_path.write_text(text)
    with pytest.raises(ConfigError, match="is not a scikit-learn estimator class"):
        run_stages(options, None)
    options.config_path.write_text(text.replace('["collections"]', '["not a package"]'))
    with pytest.raises(ConfigError, match=r"\[model\] packages must be a list of package names"):
        run_stages(options, None)
