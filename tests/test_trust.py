"""Trust: a config names an estimator, never code to run; a model directory is loaded only
after its signature (when a key is configured) and manifest check out."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.errors import ConfigError, ModelIntegrityError
from pipeline.core.keys import read_key, write_key
from pipeline.model.trained import TrainedModel
from pipeline.scoring.dask import model_files
from pipeline.stages.base import RunOptions
from pipeline.stages.runner import run_stages
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
    with pytest.raises(
        ConfigError, match=r"\[model\] packages: \"not a package\" is not a plain package name"
    ):
        run_stages(options, None)


# --- signed model directories ----------------------------------------------------------------
class Payload:
    """Unpickling this runs code: it writes its marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.write_text, (self.marker, "pwned"))


def tamper(model_dir: Path, marker: Path) -> None:
    """The attack: a malicious pickle in place of the model, and a manifest rewritten to match,
    so the hashes alone cannot tell."""
    import pickle

    (model_dir / "model.joblib").write_bytes(pickle.dumps(Payload(marker)))
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"] = {
        rel: hashlib.sha256((model_dir / rel).read_bytes()).hexdigest() for rel in manifest["files"]
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def with_key(config: Path, key: Path) -> None:
    text = config.read_text().replace("[model]\n", f'[model]\nsigning_key = "{key}"\n', 1)
    config.write_text(text)


def trained(options: RunOptions) -> Path:
    results = run_stages(options, ["preprocess", "train"])
    return Path(results[-1].details["model_dir"])


@pytest.mark.slow  # a whole real data set end to end, or CLI subprocesses
def test_a_tampered_signed_model_is_refused_before_unpickling(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    key = tmp_path / "keys" / "model.key"
    key.parent.mkdir()
    assert cli("keygen", "--out", str(key)).returncode == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = cli("keygen", "--out", str(key))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    with_key(options.config_path, key)
    model_dir = trained(options)
    assert (model_dir / "signature").is_file()

    # the correct key loads and predicts, by the library and by the CLI
    model = TrainedModel.load(model_dir, read_key(key))
    assert model.signing_key is not None
    proc = cli("run", "--stage", "predict", "--config", str(options.config_path), "-q")
    assert proc.returncode == 0, proc.stderr

    marker = tmp_path / "pwned"
    tamper(model_dir, marker)
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    for stage in ("predict", "evaluate"):
        proc = cli("run", "--stage", stage, "--config", str(options.config_path))
        assert proc.returncode == 5, proc.stderr
        assert proc.stderr.count("\n") == 1 and str(model_dir) in proc.stderr, proc.stderr
        assert "the signature does not match manifest.json" in proc.stderr
    with pytest.raises(ModelIntegrityError, match="signature does not match"):
        TrainedModel.load(model_dir, read_key(key))
    with pytest.raises(ModelIntegrityError, match="signature does not match"):
        model_files(model_dir, read_key(key))  # what would be shipped to a Dask cluster
    assert not marker.exists()
    assert warehouse_checksums(warehouse) == before


def test_unsigned_and_wrongly_signed_models_are_refused(
    synthetic_project: OptionsFactory, tmp_path: Path
) -> None:
    options = synthetic_project()
    model_dir = trained(options)  # no key: unsigned, loads as before
    assert not (model_dir / "signature").exists()
    TrainedModel.load(model_dir)

    ours, theirs = write_key(tmp_path / "ours.key"), write_key(tmp_path / "theirs.key")
    with_key(options.config_path, tmp_path / "ours.key")
    proc = cli("run", "--stage", "predict", "--config", str(options.config_path))
    assert proc.returncode == 5, proc.stderr
    assert f"error: {model_dir} is not signed and a signing key is configured" in proc.stderr
    assert proc.stderr.count("\n") == 1

    model = TrainedModel.load(model_dir)
    signed = model.save(tmp_path / "elsewhere", theirs)
    with pytest.raises(ModelIntegrityError, match=f"signed with key {theirs.key_id}, not the"):
        TrainedModel.load(signed, ours)
    with pytest.raises(ModelIntegrityError, match=f"signed with key {theirs.key_id}, not the"):
        TrainedModel.read_meta(signed, ours)
    TrainedModel.load(signed)  # no key: a signature is no extra file in the manifest's eyes
    TrainedModel.load(signed, theirs)

    # a key kept in the directory it vouches for is refused
    inside = write_key(signed / "key")
    with pytest.raises(ConfigError, match="is inside the model directory"):
        TrainedModel.load(signed, inside)


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "cannot be read"), ("not hex", "does not hold a hex key"), ("abcd", "holds 2 bytes")],
)
def test_a_bad_key_file_fails_before_any_write(
    synthetic_project: OptionsFactory, tmp_path: Path, content: str | None, why: str
) -> None:
    options = synthetic_project()
    key = tmp_path / "bad.key"
    if content is not None:
        key.write_text(content)
    with_key(options.config_path, key)
    warehouse = options.config_path.parent / "warehouse.duckdb"
    before = warehouse_checksums(warehouse)
    proc = cli("run", "--config", str(options.config_path))
    assert proc.returncode == 2 and why in proc.stderr and str(key) in proc.stderr, proc.stderr
    assert warehouse_checksums(warehouse) == before
