"""The typed statistics, plans and model metadata write exactly the JSON the model directory
always held: model ids and manifests hash those bytes. The files in tests/data/example_model
are the example model's, as the dict-based code wrote them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import FeatureConfig
from pipeline.core.vocabulary import Bucket, FeatureType
from pipeline.features.plan import CategoricalPlan, NumericPlan, category_columns, plan
from pipeline.features.stats import Stats, stats_from_rows
from pipeline.model.manifest import write_json
from pipeline.model.meta import ModelMeta
from pipeline.model.save import SQL_PARTS

EXAMPLE = Path(__file__).parent / "data" / "example_model"
EXAMPLE_ID = "randomforestclassifier-508ba6ebc131"
# what differs from one run or machine to the next, not what the code computes
VARYING = ("run_id", "libraries", "python")


def _written(tmp_path: Path, value: object) -> bytes:
    path = tmp_path / "out.json"
    write_json(path, value)
    return path.read_bytes()


def test_example_stats_round_trip_byte_for_byte(tmp_path: Path) -> None:
    text = (EXAMPLE / "stats.json").read_bytes()
    stats = Stats.from_json(json.loads(text))
    assert _written(tmp_path, stats.to_json()) == text
    assert Stats.from_json(json.loads(_written(tmp_path, stats.to_json()))) == stats
    assert stats["Age"].type == FeatureType.numeric and stats["Sex"].type == FeatureType.categorical


def test_example_meta_round_trip_byte_for_byte(tmp_path: Path) -> None:
    text = (EXAMPLE / "model.json").read_bytes()
    meta = ModelMeta.from_json(json.loads(text))
    assert _written(tmp_path, meta.to_json()) == text
    assert ModelMeta.from_json(json.loads(_written(tmp_path, meta.to_json()))) == meta
    assert (meta.model_id, meta.positive_class, meta.classes) == (EXAMPLE_ID, 1, (0, 1))


def test_example_categories_come_from_the_plans(tmp_path: Path) -> None:
    meta = ModelMeta.from_json(json.loads((EXAMPLE / "model.json").read_text()))
    stats = Stats.from_json(json.loads((EXAMPLE / "stats.json").read_text()))
    plans = plan(meta.spec.features, stats)
    assert [type(p) for p in plans[:2]] == [NumericPlan, CategoricalPlan]
    table = [c.to_json() for c in category_columns(plans)]
    assert _written(tmp_path, table) == (EXAMPLE / "categories.json").read_bytes()


def test_all_null_columns_round_trip_without_a_mode(tmp_path: Path) -> None:
    """An all-null column has no mode key at all (and a numeric one null min/max/mean...)."""
    rows = [
        {"feature": "x", "stat": "rows", "category": None, "value": 3.0},
        {"feature": "x", "stat": "nulls", "category": None, "value": 3.0},
        {"feature": "x", "stat": "min", "category": None, "value": None},
        {"feature": "x", "stat": "max", "category": None, "value": None},
        {"feature": "c", "stat": "rows", "category": None, "value": 3.0},
        {"feature": "c", "stat": "nulls", "category": None, "value": 1.0},
        {"feature": "c", "stat": "count", "category": "b", "value": 1.0},
        {"feature": "c", "stat": "count", "category": "a", "value": 1.0},
        {"feature": "c", "stat": "mode", "category": "a", "value": 1.0},
        {"feature": "e", "stat": "rows", "category": None, "value": 3.0},
        {"feature": "e", "stat": "nulls", "category": None, "value": 3.0},
    ]
    stats = stats_from_rows(rows)
    assert stats.to_json() == {
        "x": {
            "rows": 3.0,
            "nulls": 3.0,
            "vocabulary": [],
            "min": None,
            "max": None,
            "mean": None,
            "std": None,
            "median": None,
        },
        "c": {
            "rows": 3.0,
            "nulls": 1.0,
            "vocabulary": [{"category": "a", "count": 1}, {"category": "b", "count": 1}],
            "mode": "a",
        },
        "e": {"rows": 3.0, "nulls": 3.0, "vocabulary": []},
    }
    assert Stats.from_json(json.loads(_written(tmp_path, stats.to_json()))) == stats
    (p,) = plan((FeatureConfig("c", "categorical", "mode", "onehot", min_count=2),), stats)
    assert isinstance(p, CategoricalPlan) and p.rare is not None
    assert [c.bucket for c in category_columns([p])] == [Bucket.rare, Bucket.rare]


def test_example_run_writes_the_files_it_always_wrote(repo_copy: Path) -> None:
    result = CliRunner().invoke(app, ["run", "-q", "--config", str(repo_copy / "pipeline.toml")])
    assert result.exit_code == 0, result.output
    (model_dir,) = (repo_copy / "models").iterdir()
    assert model_dir.name == EXAMPLE_ID
    for name in ("stats.json", "categories.json"):
        assert (model_dir / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
    ours, before = (json.loads((d / "model.json").read_text()) for d in (model_dir, EXAMPLE))
    for key in VARYING:
        ours.pop(key), before.pop(key)
    for meta in (ours, before):  # new templates elsewhere under sql/ are not the model's
        meta["template_hashes"] = {
            k: v for k, v in meta["template_hashes"].items() if k.partition("/")[0] in SQL_PARTS
        }
    assert ours == before
