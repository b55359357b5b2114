"""CLI wiring: help everywhere, one-line errors with non-zero exit codes, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import OptionsFactory

runner = CliRunner()
COMMANDS = ["run", "sql", "compare", "ingest", "init", "show", "build-example", "keygen"]


def test_every_command_has_help_with_an_example() -> None:
    listed = runner.invoke(app, ["--help"]).output
    for command in COMMANDS:
        assert command in listed
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, command


def test_help_starts_without_heavy_imports() -> None:
    code = (
        "import sys; from pipeline.cli import app; "
        "heavy = [m for m in ('sklearn', 'pandas', 'duckdb', 'pyarrow') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "--config", "nope.toml"], 2, "config file nope.toml not found"),
        (["sql", "SELECT 1", "--config", "nope.toml"], 2, "config file nope.toml not found"),
        (
            ["build-example", "--csv", "raw.x=missing.csv", "--out", "x.duckdb"],
            2,
            "CSV file missing.csv not found",
        ),
        (
            ["build-example", "--csv", "nonsense", "--out", "x.duckdb"],
            2,
            "must be SCHEMA.TABLE=PATH",
        ),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    args: list[str], code: int, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.duckdb").exists()


def test_unknown_stage_is_refused_by_the_parser() -> None:
    result = runner.invoke(app, ["run", "--stage", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_sql_formats_and_errors(synthetic_project: OptionsFactory) -> None:
    config = str(synthetic_project().config_path)
    q = "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL ORDER BY a"
    assert runner.invoke(app, ["sql", q, "-c", config, "-f", "csv"]).output.split() == [
        "a,b",
        "1,x",
        "2,",
    ]
    assert json.loads(runner.invoke(app, ["sql", q, "-c", config, "-f", "json"]).output) == [
        {"a": 1, "b": "x"},
        {"a": 2, "b": None},
    ]
    table = runner.invoke(app, ["sql", q, "-c", config]).output
    assert "NULL" in table and table.splitlines()[0].split() == ["a", "b"]
    bad = runner.invoke(app, ["sql", "SELECT * FROM no_such_table", "-c", config])
    assert bad.exit_code != 0 and "no_such_table" in bad.output and "Traceback" not in bad.output


def test_missing_stage_input_from_the_cli(synthetic_project: OptionsFactory) -> None:
    config = str(synthetic_project().config_path)
    result = runner.invoke(app, ["run", "--stage", "evaluate", "-c", config])
    assert result.exit_code == 3
    assert "run `pipeline run --stage train` first" in result.output
