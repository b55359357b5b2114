"""bench/scale.py's floors do the same work as the stages: on a copy of one whole run, the
hand-written preprocess statements write the same five tables, the train floor reads the same
training arrays, the predict floor's JSON Lines load as the same predictions and the metric
SQL by hand gives the same metrics. (A change to a stage that the floor does not follow fails
here, not in a benchmark run hours later.)"""

from __future__ import annotations

import pytest

from bench import _scale_floor as floor
from tests.conftest import OptionsFactory


@pytest.mark.parametrize("stage", ["preprocess", "train", "predict", "evaluate"])
def test_floor_equals_the_stage(ran_project: OptionsFactory, stage: str) -> None:
    project = ran_project().config_path.parent
    con = floor.connect(project, "1GB")
    parts: dict[str, float] = {}
    if stage == "preprocess":
        rows, checks = floor.preprocess(con, parts)
    else:
        rows, checks = getattr(floor, stage)(con, project, parts)
    assert rows > 0 and parts and all(t >= 0 for t in parts.values())
    assert checks and all(checks.values()), checks
