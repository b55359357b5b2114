"""Scoring many rows with a trained model: worker processes, threads, a Dask cluster; the cost
model that picks among them; the bounded submission loop; JSON Lines parts.

`stream.score_batches` is the entry point (a `ScoringPlan` says what and where); `tasks` is one
batch's work, `workers` what a worker process holds, `executors` the local modes, `cost` the
choice among them, `submit` the bounded loop, `dask` the cluster, `modes` their names.

May import: `pipeline.core`, `pipeline.model`."""
