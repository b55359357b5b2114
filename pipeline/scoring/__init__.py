"""Scoring many rows with a trained model: worker processes, threads, a Dask cluster; the cost
model that picks among them; the bounded submission loop; JSON Lines parts.

May import: `pipeline.core`, `pipeline.config`, `pipeline.model`."""
