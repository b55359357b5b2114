"""Scoring on a Dask cluster: a real LocalCluster of worker processes on 127.0.0.1 gives the
predictions local worker processes give, through the same CLI and predictions table."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ScoringError
from pipeline.model.trained import TrainedModel
from pipeline.scoring.dask import dask_executor
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory
from tests.test_in_warehouse import predictions

distributed = pytest.importorskip("distributed", reason="dask is an optional extra")


@pytest.mark.slow
def test_dask_cluster_scores_as_local_processes_do(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project(executor="process", workers=2, batch_rows=64)
    model_id = run_stages(options, None)[2].model_id
    assert model_id
    config = options.config_path
    local = predictions(config, model_id)
    assert {r[2] for r in local.values()} == {"process"}

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        args = ["run", "--stage", "predict", "-c", str(config), "--batch-rows", "64"]
        args += ["--executor", "dask", "--scheduler", cluster.scheduler_address]
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, out.output
        assert (
            f"scored on the Dask cluster (2 worker threads at {cluster.scheduler_address})"
            in out.output
        )
        # the model was taken off the workers afterwards
        assert not [p for p in cluster.scheduler.worker_plugins if p.startswith("pipeline-")]
        # and, while scoring, each worker held its own verified copy, not the parent's path
        model = TrainedModel.load(options.models_dir / model_id)
        with (
            dask_executor(cluster.scheduler_address, model),
            distributed.Client(cluster.scheduler_address) as client,
        ):
            held = client.run(_model_location, str(model.directory))
        assert len(held) == 2
        for location in held.values():
            assert location.endswith(f"pipeline-models/{model_id}")
            assert location != str(model.directory)

    remote = predictions(config, model_id)
    assert {r[2] for r in remote.values()} == {"dask"}
    assert len(remote) == len(local) > 64 * 2  # several batches
    assert {k: v[:2] for k, v in remote.items()} == {k: v[:2] for k, v in local.items()}


def _model_location(parent_dir: str) -> str:
    from pipeline.scoring.workers import model_for

    return str(model_for(parent_dir).directory)


def test_dask_needs_a_scheduler(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    run_stages(options, ["preprocess", "train"])
    out = CliRunner().invoke(
        app, ["run", "--stage", "predict", "-c", str(options.config_path), "--executor", "dask"]
    )
    assert out.exit_code == 2, out.output
    assert "--executor dask needs --scheduler tcp://HOST:PORT" in out.output


def test_an_unreachable_scheduler_is_named(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    model_id = run_stages(options, ["preprocess", "train"])[1].model_id
    model = TrainedModel.load(Path(options.models_dir) / str(model_id))
    with (
        pytest.raises(ScoringError, match=r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
        dask_executor("tcp://127.0.0.1:9", model, timeout=1),
    ):
        pass
