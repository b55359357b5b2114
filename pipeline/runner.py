"""Run stages in order under one run id. The stage registry fails loudly on an unknown name."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import ConfigError
from pipeline.ledger import StageResult
from pipeline.stages import RunOptions
from pipeline.stages.evaluate import evaluate_from_path
from pipeline.stages.predict import predict_from_path
from pipeline.stages.preprocess import preprocess_from_path
from pipeline.stages.train import train_from_path

STAGES: dict[str, Callable[[RunOptions], StageResult]] = {
    "preprocess": preprocess_from_path,
    "train": train_from_path,
    "predict": predict_from_path,
    "evaluate": evaluate_from_path,
}


def run_stages(
    options: RunOptions,
    stages: list[str] | None = None,
    on_result: Callable[[StageResult], None] | None = None,
) -> list[StageResult]:
    """Run the named stages (all, in order, by default); stops at the first failure."""
    names = stages if stages else list(STAGES)
    unknown = [s for s in names if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage {unknown[0]!r}; stages: {', '.join(STAGES)}")
    results = []
    for name in names:
        result = STAGES[name](options)
        results.append(result)
        if on_result:
            on_result(result)
    return results
