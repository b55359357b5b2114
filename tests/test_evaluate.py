"""The evaluation outputs beyond the numbers: the HTML report, curves, run comparison."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_is_self_contained_and_holds_the_runs_figures(
    synthetic_project: OptionsFactory,
) -> None:
    options = synthetic_project()
    results = run_stages(options, None)
    evaluation = results[3]
    report = Path(evaluation.details["report"])
    assert report == options.out_dir / options.run_id / "report.html"
    page = _Collect()
    page.feed(report.read_text())
    text = " ".join(page.text)

    # ROC, precision-recall, calibration, confusion matrix, permutation importance
    assert page.tags.count("svg") == 5
    assert page.tags.count("polyline") >= 5
    assert not page.external, "the report must open without a network"
    assert evaluation.model_id in text and options.run_id in text
    metrics = evaluation.details["metrics"]
    for name in ("accuracy", "roc_auc", "log_loss", "brier"):
        assert re.search(rf"{name}\s+{metrics[name]:.4f}", text), name
    assert f"TP {metrics['tp']:,.0f}" in text
    # the per-segment table: one row per value of each slice column
    for segment in ("Pclass 1", "Pclass 2", "Pclass 3", "Sex female", "Sex male"):
        assert segment in re.sub(r"\s+", " ", text), segment


def test_compare_shows_how_metrics_moved(synthetic_project: OptionsFactory) -> None:
    options = synthetic_project()
    first = run_stages(options, None)[1].model_id
    config = options.config_path
    config.write_text(
        config.read_text().replace(
            'estimator = "sklearn.ensemble.RandomForestClassifier"',
            'estimator = "sklearn.linear_model.LogisticRegression"',
        )
    )
    second = run_stages(synthetic_project(), None)[1].model_id
    assert first != second

    out = CliRunner().invoke(app, ["compare", "-c", str(config), "-f", "csv"])
    assert out.exit_code == 0, out.output
    lines = out.output.split()
    assert lines[0] == f"metric,{first},{second},change"
    accuracy = next(line for line in lines if line.startswith("accuracy,"))
    _, a, b, change = accuracy.split(",")
    assert abs(float(b) - float(a) - float(change)) < 1e-12

    named = CliRunner().invoke(app, ["compare", second, first, "-c", str(config), "-f", "csv"])
    assert named.output.split()[0] == f"metric,{second},{first},change"


def test_compare_needs_two_models(ran_project: OptionsFactory) -> None:
    options = ran_project()
    out = CliRunner().invoke(app, ["compare", "-c", str(options.config_path)])
    assert out.exit_code == 3 and "needs two evaluated models" in out.output
