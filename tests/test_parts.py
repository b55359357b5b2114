"""Predict's JSON Lines parts: gzip-compressed, removed once loaded unless --keep-parts, their
size in the ledger; the predictions they carry are the estimator's own, bit for bit."""

from __future__ import annotations

import gzip
import json

import pytest

from pipeline.core.errors import DataError
from pipeline.model.trained import TrainedModel, feature_matrix
from pipeline.scoring.parts import compress_part
from pipeline.stages import predict
from pipeline.stages.base import RunOptions
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory

PREDICTIONS = "SELECT PassengerId, dataset, prediction, score FROM pipeline.predictions"


def _ledger_details(options: RunOptions) -> dict[str, object]:
    with Project.open(options.config_path) as project:
        rows = project.warehouse.query_arrow(
            "SELECT details FROM pipeline.runs "
            f"WHERE run_id = '{options.run_id}' AND stage = 'predict'"
        ).to_pylist()
    assert len(rows) == 1
    return dict(json.loads(rows[0]["details"]))


def test_parts_are_removed_after_the_load_and_their_size_is_in_the_ledger(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project(executor="process", workers=2, batch_rows=40)
    result = run_stages(options, ["predict"])[0]
    run_dir = options.out_dir / options.run_id
    assert not run_dir.exists()  # the parts, their directory, and the run's, left empty
    details = _ledger_details(options)
    assert details["parts"] == result.details["parts"] > 1
    assert details["parts_bytes"] == result.details["parts_bytes"] > 0


def test_kept_parts_are_gzip_json_lines_holding_the_table_rows(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project(executor="thread", workers=2, batch_rows=50, keep_parts=True)
    result = run_stages(options, ["predict"])[0]
    parts = sorted((options.out_dir / options.run_id / "predictions").iterdir())
    assert parts and all(p.name.endswith(".jsonl.gz") for p in parts)
    assert len(parts) == result.details["parts"] == _ledger_details(options)["parts"]
    assert sum(p.stat().st_size for p in parts) == _ledger_details(options)["parts_bytes"]
    rows = [
        json.loads(line)
        for p in parts
        for line in gzip.decompress(p.read_bytes()).split(b"\n")
        if line
    ]
    with Project.open(options.config_path) as project:
        table = project.warehouse.query_arrow(f"{PREDICTIONS} ORDER BY ALL").to_pylist()
    from_parts = sorted((r["PassengerId"], r["dataset"], r["prediction"], r["score"]) for r in rows)
    assert from_parts == [tuple(r.values()) for r in table]  # scores read back bit for bit
    assert {r["run_id"] for r in rows} == {options.run_id}


def test_predictions_are_the_estimators_own(ran_project: OptionsFactory) -> None:
    """What went through gzip and the load is what the estimator computed on the holdout."""
    options = ran_project(executor="process", workers=2, batch_rows=33)
    run_stages(options, ["predict"])
    model = TrainedModel.load(next(options.models_dir.iterdir()))
    with Project.open(options.config_path) as project:
        wh = project.warehouse
        features = wh.query_arrow("SELECT * FROM pipeline.features_holdout ORDER BY PassengerId")
        got = wh.query_arrow(
            f"{PREDICTIONS} WHERE dataset = 'holdout' ORDER BY PassengerId"
        ).to_pydict()
    X = feature_matrix(features, model.feature_names)  # X: (n_rows, n_features)
    score = model.estimator.predict_proba(X)[:, 1]  # (n_rows,)
    assert got["score"] == score.tolist()  # exact
    assert got["prediction"] == model.estimator.predict(X).tolist()


def test_a_failed_load_leaves_no_parts_even_when_asked_to_keep_them(
    ran_project: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise DataError("the parts do not load")

    monkeypatch.setattr(predict, "load_parts", refuse)
    options = ran_project(executor="inprocess", keep_parts=True)
    with pytest.raises(DataError, match="do not load"):
        run_stages(options, ["predict"])
    assert not (options.out_dir / options.run_id).exists()
    assert "parts_bytes" not in _ledger_details(options)


def test_compressed_parts_are_the_same_bytes_for_the_same_text() -> None:
    text = b'{"a":1}\n' * 1000
    assert compress_part(text) == compress_part(memoryview(text))
    assert gzip.decompress(compress_part(text)) == text
    assert compress_part(text)[4:8] == b"\0\0\0\0"  # no time stamp in the header


def test_keep_parts_is_a_run_option() -> None:
    from typer.testing import CliRunner

    from pipeline.cli.app import app

    out = CliRunner().invoke(app, ["run", "--help"])
    assert "--keep-parts" in out.output
