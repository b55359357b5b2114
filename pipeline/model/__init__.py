"""The model directory: one directory reproduces a model (estimator, stats, SQL, manifest,
signature). `TrainedModel` (trained.py) loads and verifies it and predicts from raw rows,
preprocessing and estimator in one call, so serving cannot skip a step. `ModelMeta` (meta.py)
is model.json; manifest.py verifies a directory, save.py writes one, arrays.py turns feature
rows into labels and scores.

May import: `pipeline.core`, `pipeline.render`, `pipeline.features`,
`pipeline.warehouse` (an in-memory DuckDB replays the frozen SQL)."""
