"""Judging a model: the metric SQL over predictions and labels, and the HTML report with its
charts.

May import: `pipeline.core`, `pipeline.render`, `pipeline.warehouse`."""
