"""The model directory: one directory reproduces a model (estimator, stats, SQL, manifest,
signature). `TrainedModel` loads and verifies it and predicts from raw rows, preprocessing and
estimator in one call, so serving cannot skip a step.

May import: `pipeline.core`, `pipeline.config`, `pipeline.render`, `pipeline.features`,
`pipeline.warehouse` (an in-memory DuckDB replays the frozen SQL)."""
