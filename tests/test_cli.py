"""CLI wiring: help everywhere, one-line errors with non-zero exit codes, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import REPO, OptionsFactory

runner = CliRunner()
COMMANDS = [
    "run",
    "sql",
    "compare",
    "ingest",
    "init",
    "show",
    "build-example",
    "config-schema",
    "keygen",
]


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
        (["show", "--config", "nope.toml"], 2, "config file nope.toml not found"),
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


def test_every_option_shows_its_default() -> None:
    """--help states what an option does when left out, also when that is not a value
    (`models/ beside the config`); a bracketed default in a help text was swallowed by rich."""
    import typer.main

    group: Any = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert command.help, name
        for param in command.params:
            if param.required or getattr(param, "is_flag", False) or param.name == "help":
                continue
            assert param.show_default not in (None, False) or param.default is not None, (
                name,
                param.name,
            )
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).output
        assert " .\n" not in shown and " . " not in shown, name
    run_help = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output
    assert "[default: (models/ beside the config)]" in run_help


def test_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"pipeline {version('sql-first-pipeline')}\n"


def test_run_checks_the_config_before_handing_out_a_run_id(tmp_path: Path) -> None:
    bad = tmp_path / "pipeline.toml"
    bad.write_text((REPO / "pipeline.toml").read_text().replace("workers = 0 ", "wokers = 4 "))
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {bad}: [scoring] wokers: unknown key; did you mean 'workers'?\n"
    )


def _unseen_category_run(synthetic_project: OptionsFactory, *flags: str) -> Any:
    import duckdb

    options = synthetic_project()
    config = str(options.config_path)
    out = str(options.out_dir)
    first = runner.invoke(app, ["run", "-s", "preprocess", "-c", config, "--out", out])
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, ["run", "-s", "train", "-c", config, "--out", out]).exit_code == 0
    con = duckdb.connect(str(options.config_path.parent / "warehouse.duckdb"))
    con.execute("UPDATE raw.titanic_test SET Embarked = 'Z' WHERE PassengerId % 10 = 0")
    con.close()
    return runner.invoke(app, [*flags, "run", "-s", "predict", "-c", config, "--out", out])


def test_warnings_go_to_stderr_and_quiet_hides_them(synthetic_project: OptionsFactory) -> None:
    """Results on stdout, warnings (unseen categories) through logging on stderr; -q hides
    them, wherever it is given."""
    loud = _unseen_category_run(synthetic_project)
    assert loud.exit_code == 0, loud.output
    assert "never had" not in loud.stdout
    assert "rows scored" in loud.stdout
    assert "warning: predict: " in loud.stderr and "never had" in loud.stderr
    for flags in (["-q"], ["--quiet"]):
        quiet = _unseen_category_run(synthetic_project, *flags)
        assert quiet.exit_code == 0, quiet.output
        assert "never had" not in quiet.stdout + quiet.stderr
        assert "rows scored" in quiet.stdout


def test_verbose_adds_debug_lines(synthetic_project: OptionsFactory) -> None:
    config = str(synthetic_project().config_path)
    for args in (["-v", "run"], ["run", "--verbose"]):
        result = runner.invoke(app, [*args, "-s", "preprocess", "-c", config])
        assert result.exit_code == 0, result.output
        assert "debug: run options:" in result.stderr
        assert "debug:" not in result.stdout
    plain = runner.invoke(app, ["run", "-s", "preprocess", "-c", config])
    assert "debug:" not in plain.stderr


def test_show_lists_the_nightly_settings_and_the_aliases(ran_project: OptionsFactory) -> None:
    """show says which model [scoring] model means now, each alias's model, and whether
    [train] sample_rows/threads, [tune] and the [monitor] thresholds are set."""
    config = ran_project().config_path
    (model_id,) = [p.name for p in (config.parent / "models").iterdir()]
    shown = runner.invoke(app, ["show", "--config", str(config)]).output
    assert f"           model latest -> {model_id} (the newest trained)\n" in shown
    assert "train      sample rows all, threads all cores\n" in shown
    assert "tune       off (no [tune] section)\n" in shown
    assert (
        "monitor    bins 10; warn psi 0.1, shift 0.5, null_rate 0.1, unseen 0.05; fail none\n"
        in (shown)
    )
    assert "aliases    none yet: pipeline promote MODEL --alias production" in shown

    promoted = runner.invoke(app, ["promote", "latest", "--alias", "prod", "--config", str(config)])
    assert promoted.exit_code == 0, promoted.output
    text = config.read_text().replace("batch_rows = 50000", 'batch_rows = 50000\nmodel = "prod"')
    config.write_text(
        text
        + "\n[train]\nsample_rows = 5000\nthreads = 2\n"
        + '\n[tune]\nsearch = "random"\ncandidates = 3\nfolds = 3\n'
        + "grid = { max_depth = [3, 5], min_samples_leaf = [1, 2, 4] }\n"
        + "\n[monitor]\npsi_warn = 0.2\nshift_warn = 1\npsi_fail = 0.5\nunseen_warn = 0.1\n"
    )
    result = runner.invoke(app, ["show", "--config", str(config)])
    assert result.exit_code == 0, result.output
    shown = result.output
    assert f"           model prod -> {model_id} (alias)\n" in shown
    assert "train      sample rows 5,000, threads 2\n" in shown
    assert (
        "tune       random search: 3 of 6 candidates (seed 0) over max_depth, min_samples_leaf; "
        in (shown)
    )
    assert "min_samples_leaf; 3 folds, metric roc_auc\n" in shown
    assert (
        "monitor    bins 10; warn psi 0.2, shift 1, null_rate 0.1, unseen 0.1; fail psi 0.5\n"
        in (shown)
    )
    aliases = shown.split("\naliases\n")[1].splitlines()
    assert aliases[0].split() == ["alias", "model_id", "since", "by"]
    assert aliases[1].split()[:2] == ["prod", model_id]

    # an alias not promoted yet says how to promote one
    config.write_text(config.read_text().replace('model = "prod"', 'model = "staging"'))
    shown = runner.invoke(app, ["show", "--config", str(config)]).output
    assert "model staging (not promoted yet: pipeline promote MODEL --alias staging)" in shown
