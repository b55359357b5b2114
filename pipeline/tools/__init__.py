"""Project tools around the stages: `run` (the stages with the paths the command line gives),
`ingest` (files into raw tables), `init` (a project from a table), the example warehouse, the
synthetic data set, `show` and ad-hoc `sql` (`query`). The CLI's commands are a few lines
around these functions.

May import: every package but `pipeline.cli`."""
