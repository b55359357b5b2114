"""Project tools around the stages: `ingest` (files into raw tables), `init` (a project from a
table), the example warehouse, the synthetic data set, `show` and ad-hoc `sql`.

May import: every package but `pipeline.cli`."""
