"""Judging a model: the metric SQL over predictions and labels (metrics.py), and the HTML
report (report.py) with its SVG charts (charts.py).

May import: `pipeline.core`, `pipeline.render`, `pipeline.warehouse`."""
