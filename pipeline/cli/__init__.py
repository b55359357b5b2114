"""The `pipeline` command: parse options, call one library function, map errors to exit codes.

Heavy libraries (pandas, scikit-learn, DuckDB) are imported inside the commands, so `--help`
and option errors answer at once.

May import: every package.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import typer

from pipeline.core.errors import PipelineError, is_interrupt
from pipeline.core.vocabulary import Executor, Stage

app = typer.Typer(
    help="SQL-first, warehouse-backed ML: SQL does the data work, Python fits and scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


CONFIG = typer.Option(Path("pipeline.toml"), "--config", "-c", help="Project config file.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print only the results: no warnings.")
VERBOSE = typer.Option(False, "--verbose", "-v", help="Also print debugging detail.")
# Results go to stdout; warnings and progress go through logging to stderr.
log = logging.getLogger("pipeline")


#: the exit code of a process ended by Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130


def _guard(fn: Callable[[], T]) -> T:
    """Expected failures print one line to stderr and exit non-zero, without a traceback.
    Ctrl-C prints one line and exits 130; what was half-done has been rolled back by then
    (transactions, the model directory's rename, the scoring parts' removal)."""
    try:
        return fn()
    except PipelineError as exc:
        if is_interrupt(exc):
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(INTERRUPTED) from None
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BaseException as exc:
        if isinstance(exc, typer.Exit | SystemExit) or not is_interrupt(exc):
            raise
        typer.echo("error: interrupted", err=True)
        raise typer.Exit(INTERRUPTED) from None


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes: a test runner swaps it per
    command, and a handler bound to an old one would write to a closed file."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _Formatter(logging.Formatter):
    """`warning: ...` for what needs a look; `pipeline: ...` for what is only news."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = "pipeline" if record.levelno == logging.INFO else record.levelname.lower()
        return f"{prefix}: {record.getMessage()}"


class _WarningFormatter(logging.Formatter):
    """A Python warning (scikit-learn's ConvergenceWarning, say) as one line, `warning:
    <category>: <message>`, not the file path and source line warnings.formatwarning gives."""

    HEAD = re.compile(r"^.*?:\d+: (\w+): (.*)$", re.DOTALL)

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage().strip()
        found = self.HEAD.match(text)
        if found:
            lines = found.group(2).splitlines()
            if len(lines) > 1 and lines[-1][:1].isspace():
                lines = lines[:-1]  # the source line warnings.formatwarning appends
            # every line of the advice (sklearn's "increase max_iter or scale the data"), joined
            text = f"{found.group(1)}: " + " ".join(x.strip() for x in lines if x.strip())
        return f"warning: {' '.join(text.split())}"


def _logging(quiet: bool, verbose: bool = False) -> None:
    """-q hides warnings (errors still show), Python's own warnings too; -v adds debugging
    detail."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    handler = _StderrHandler()
    handler.setFormatter(_Formatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    logging.captureWarnings(True)
    warned = _StderrHandler()
    warned.setFormatter(_WarningFormatter())
    py_warnings = logging.getLogger("py.warnings")
    py_warnings.handlers[:] = [warned]
    py_warnings.propagate = False
    py_warnings.setLevel(level)


def _say(message: str) -> None:
    """One result line to stdout. A reader that went away (`pipeline run | head -1`) must not
    abort the run: the rest of the output goes to os.devnull, and the run carries on."""
    try:
        typer.echo(message)
    except BrokenPipeError:
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test runner's buffer)
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)  # the unflushed rest goes there too, not to a closed pipe at exit
        os.close(devnull)


def _print_messages(result: Any) -> None:
    """A stage's results to stdout; its warnings (unseen categories, changed templates) through
    logging to stderr, so `> out.txt` keeps the results clean and -q hides the warnings."""
    for warning in result.warnings:
        log.warning(warning)
    for message in result.messages:
        _say(message)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"pipeline {version('sql-first-pipeline')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            typer.echo("pipeline (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """SQL-first, warehouse-backed ML: SQL does the data work, Python fits and scores."""
    _logging(quiet, verbose)


@app.command()
def run(
    stage: Stage = typer.Option(Stage.all, "--stage", "-s", help="One stage, or all in order."),
    config: Path = CONFIG,
    models_dir: Path | None = typer.Option(
        None, help="Where model directories go.", show_default="models/ beside the config"
    ),
    out: Path | None = typer.Option(
        None, help="Where each run's files go.", show_default="runs/ beside the config"
    ),
    model_dir: Path | None = typer.Option(
        None, help="Score or evaluate this model directory.", show_default="the newest model"
    ),
    executor: Executor | None = typer.Option(
        None,
        help="How predict scores: auto picks in-process, threads or worker processes by "
        "timing; dask scores on the cluster at --scheduler; warehouse runs the model as SQL.",
        show_default="[scoring] executor of the config",
    ),
    scheduler: str | None = typer.Option(
        None,
        help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786.",
        show_default="[scoring] scheduler of the config",
    ),
    workers: int | None = typer.Option(
        None, min=1, help="Scoring workers.", show_default="[scoring] workers of the config"
    ),
    batch_rows: int | None = typer.Option(
        None,
        min=1,
        help="Rows per scoring batch.",
        show_default="[scoring] batch_rows of the config",
    ),
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Run the pipeline: preprocess, train, predict, evaluate.

    Example: pipeline run --stage preprocess --config pipeline.toml
    """
    if quiet or verbose:  # as a command option too: `pipeline run -q` reads naturally
        _logging(quiet, verbose)

    def go() -> Any:
        from pipeline.config import load_config
        from pipeline.stages.base import RunOptions
        from pipeline.stages.ledger import new_run_id
        from pipeline.stages.runner import run_stages

        load_config(config)  # a broken config fails before a run id is handed out
        base = config.resolve().parent
        options = RunOptions(
            config_path=config,
            run_id=new_run_id(),
            models_dir=models_dir or base / "models",
            out_dir=out or base / "runs",
            model_dir=model_dir,
            quiet=quiet or log.getEffectiveLevel() > logging.WARNING,
            executor=executor.value if executor else None,
            workers=workers,
            batch_rows=batch_rows,
            scheduler=scheduler,
        )
        log.debug("run options: %s", options)
        stages = None if stage is Stage.all else [stage.value]
        # the run id is printed once the run lock is held: a refused run never happened
        return run_stages(
            options,
            stages,
            on_result=_print_messages,
            on_start=lambda run_id: _say(f"run {run_id}"),
        )

    _guard(go)


@app.command()
def sql(
    query: str = typer.Argument(..., help="The SQL to run: one read-only query unless --write."),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None,
        help="A DuckDB file to query instead of the config's warehouse; when given, the "
        "config is not read (so it works before `pipeline init`).",
        show_default="the config's warehouse",
    ),
    write: bool = typer.Option(
        False,
        "--write",
        help="Allow statements that change data or write files (DROP, DELETE, COPY ... TO). "
        "Takes the run lock: fails at once while a `pipeline run` is in progress.",
    ),
    wait: float = typer.Option(
        60.0, min=0, help="Seconds to wait for a write in progress before giving up."
    ),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Run ad-hoc SQL on the configured warehouse and print the result.

    Read-only by default: one SELECT-like query (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE,
    EXPLAIN, PRAGMA); anything else is refused (exit 2) unless --write is given.

    Example: pipeline sql "SELECT dataset, count(*) FROM pipeline.predictions GROUP BY 1"
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.tools.query import format_result, run_query

        table = run_query(config, query, warehouse=warehouse, write=write, wait=wait)
        typer.echo(format_result(table, format.value))

    _guard(go)


@app.command()
def compare(
    a: str | None = typer.Argument(
        None, help="The model to compare from.", show_default="the older of the last two"
    ),
    b: str | None = typer.Argument(
        None, help="The model to compare to.", show_default="the newest evaluated"
    ),
    config: Path = CONFIG,
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
) -> None:
    """Show how the holdout metrics moved between two models.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline compare   (the two models evaluated most recently)
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.stages.evaluate import compare_from_path
        from pipeline.tools.query import format_result

        typer.echo(format_result(compare_from_path(config, a, b), format.value))

    _guard(go)


@app.command()
def ingest(
    path: str = typer.Argument(..., help="A CSV, Parquet or JSON Lines file, or a glob of them."),
    table: str = typer.Option(..., "--table", "-t", help="SCHEMA.NAME of the raw table."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite the table if it exists."),
    config: Path = CONFIG,
    warehouse: Path | None = typer.Option(
        None,
        help="A DuckDB file to load into instead of --config's warehouse (made if absent).",
        show_default="--config's warehouse",
    ),
    null: list[str] | None = typer.Option(
        None,
        "--null",
        help="A CSV field read as a missing value; repeat it to give the whole list.",
        show_default="'', NA, N/A, NULL, NaN, None, null, nan, #N/A and the rest of pandas' list",
    ),
    encoding: str = typer.Option("utf-8", help="The CSV files' encoding: utf-8 or latin-1."),
    decimal: str = typer.Option(
        ".", help="The CSV numbers' decimal separator: a point or a comma (188,4)."
    ),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose \\[warehouse] section names the warehouse to load into (e.g. "
        "BigQuery), instead of --config's.",
        show_default="none",
    ),
) -> None:
    """Load data files into a raw warehouse table, with types inferred from every row.

    Example: pipeline ingest 'data/sales-*.csv' --table raw.sales
    """

    def go() -> None:
        from contextlib import AbstractContextManager, suppress

        from pipeline.tools.ingest import ingest as ingest_files
        from pipeline.warehouse import Warehouse, open_warehouse
        from pipeline.warehouse.duckdb import DuckDBWarehouse
        from pipeline.warehouse.lock import exclusive

        opened: AbstractContextManager[Warehouse]
        if warehouse is not None and warehouse_config is not None:
            from pipeline.core.errors import ConfigError

            raise ConfigError("give --warehouse or --warehouse-config, not both")
        db: Path | None = warehouse  # the DuckDB file loaded into, if it is one
        if warehouse is None:
            if warehouse_config is not None:
                wh_config = _warehouse_section(warehouse_config, Path.cwd())[0]
            else:
                from pipeline.config import load_config

                wh_config = load_config(config).warehouse
            db = wh_config.path if wh_config.type == "duckdb" else None
        made = db if db is not None and not db.exists() else None  # removed if this fails
        made_parent = db is not None and not db.parent.exists()
        if warehouse is not None:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            opened = DuckDBWarehouse(warehouse, on_demand=True, create=True)
        elif db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
            opened = DuckDBWarehouse.from_config(wh_config, on_demand=True, create=True)
        else:
            opened = open_warehouse(wh_config, on_demand=True)
        try:
            with opened as wh, exclusive(wh, config, "pipeline ingest"):  # not during a run
                done = ingest_files(wh, path, table, replace, null, encoding, decimal)
        except BaseException:
            if made is not None:  # a failed first ingest leaves no empty warehouse behind
                for leftover in (made, made.with_name(made.name + ".wal")):
                    leftover.unlink(missing_ok=True)
                if made_parent:
                    with suppress(OSError):
                        made.parent.rmdir()
            raise
        _say(f"{done.table}: {done.rows:,} rows from {len(done.files)} file(s)")
        for note in done.notes:
            _say(note)
        for name, sql_type in done.columns:
            met = done.nulls.get(name, {})
            read = ", ".join(f"{t or repr('')} x{n:,}" for t, n in met.items())
            _say(f"  {name:<24} {sql_type}" + (f"  (missing: {read})" if read else ""))

    _guard(go)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="The new project's directory."),
    from_table: str | None = typer.Option(
        None,
        help="SCHEMA.NAME of a labelled table to propose the features from.",
        show_default="none: a config to fill in",
    ),
    label: str = typer.Option("label", help="The label column."),
    id: str | None = typer.Option(
        None,
        "--id",
        help="The id column, or auto: a key made from each row's values, for a table with no id.",
        show_default="auto",
    ),
    unlabelled: str | None = typer.Option(
        None, help="SCHEMA.NAME of rows to score.", show_default="none"
    ),
    warehouse: Path | None = typer.Option(
        None,
        help="The DuckDB file holding the tables.",
        show_default="DIRECTORY/warehouse.duckdb",
    ),
    warehouse_config: Path | None = typer.Option(
        None,
        help="A TOML file whose \\[warehouse] section names the warehouse (e.g. BigQuery); "
        "the new config gets the same section.",
        show_default="none",
    ),
    sql: Path | None = typer.Option(
        None, help="Templates to start from.", show_default="the ones installed with the package"
    ),
) -> None:
    """Create a new project: config, SQL templates, models/, README.

    Example: pipeline init churn --from-table raw.customers --id customer_id --label churned
    """

    def go() -> None:
        import os
        from contextlib import AbstractContextManager

        from pipeline.core.errors import ConfigError, WarehouseError
        from pipeline.tools.scaffold import init_project
        from pipeline.warehouse import Warehouse, open_warehouse
        from pipeline.warehouse.duckdb import DuckDBWarehouse

        if warehouse is not None and warehouse_config is not None:
            raise ConfigError("give --warehouse or --warehouse-config, not both")
        section: str | list[str]
        opened: AbstractContextManager[Warehouse] | None = None
        if warehouse_config is not None:
            wh_config, section = _warehouse_section(warehouse_config, directory)
            if from_table:
                opened = open_warehouse(wh_config)
        else:
            db = warehouse or directory / "warehouse.duckdb"
            section = os.path.relpath(db.resolve(), directory.resolve())
            if from_table:
                if not db.exists():
                    raise WarehouseError(
                        f"warehouse file {db} does not exist; `pipeline ingest` creates it"
                    )
                opened = DuckDBWarehouse(db)
        options: dict[str, Any] = dict(
            warehouse_path=section,
            from_table=from_table,
            unlabelled=unlabelled,
            id_column=id,
            label=label,
        )
        notes: list[str] = []
        if opened is not None:
            with opened as wh:
                made = init_project(directory, sql, warehouse=wh, notes=notes, **options)
        else:
            made = init_project(directory, sql, **options)
        for note in notes:
            typer.echo(note)
        typer.echo(f"created {made}; next: pipeline run --config {made}")

    _guard(go)


def _warehouse_section(path: Path, directory: Path) -> tuple[Any, list[str]]:
    """The [warehouse] of a TOML file: as a WarehouseConfig to open, and as the lines the new
    project's config gets (a DuckDB path made relative to the new project)."""
    import json
    import os

    from pipeline.config import load_warehouse_section

    config = load_warehouse_section(path)
    lines = [f"type = {json.dumps(config.type)}"]
    for key in ("path", "seed_from"):
        p = getattr(config, key)
        if p is not None:
            lines.append(f"{key} = {json.dumps(os.path.relpath(p, directory.resolve()))}")
    lines += [f"{k} = {json.dumps(v)}" for k, v in config.options.items()]
    return config, lines


@app.command()
def show(config: Path = CONFIG) -> None:
    """What the config resolves to: warehouse, tables, features, model, latest runs.

    Opens the warehouse read-only, waiting for a write in progress.

    Example: pipeline show --config examples/titanic_fare/pipeline.toml
    """
    _logging(quiet=True)

    def go() -> None:
        from pipeline.tools.show import show_from_path

        typer.echo(show_from_path(config))

    _guard(go)


@app.command("build-example")
def build_example(
    csv: list[str] = typer.Option(
        None,
        "--csv",
        help="SCHEMA.TABLE=PATH, once per table.",
        show_default="the two Titanic CSVs in data/titanic/",
    ),
    out: Path = typer.Option(Path("warehouse.duckdb.example"), help="The DuckDB file to write."),
) -> None:
    """Rebuild the example DuckDB warehouse from CSV files.

    Example: pipeline build-example --csv raw.titanic_train=data/titanic/train.csv --out w.duckdb
    """

    def go() -> None:
        from pipeline.core.errors import ConfigError
        from pipeline.tools.example import TITANIC, build_warehouse

        tables = dict(TITANIC)
        if csv:
            tables = {}
            for item in csv:
                name, sep, path = item.partition("=")
                if not sep:
                    raise ConfigError(f"--csv {item!r} must be SCHEMA.TABLE=PATH")
                tables[name] = Path(path)
        for name, n in build_warehouse(out, tables).items():
            typer.echo(f"{out}: {name} {n} rows")

    _guard(go)


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of pipeline.toml, for editors that check the file as you type.

    Example: pipeline config-schema > pipeline.schema.json
    (then `#:schema ./pipeline.schema.json` as the first line of pipeline.toml)
    """
    import json

    from pipeline.config import config_schema as schema

    typer.echo(json.dumps(schema(), indent=2))


@app.command()
def keygen(
    out: Path = typer.Option(
        ..., "--out", "-o", help="The key file to create (never overwritten)."
    ),
) -> None:
    """Create a signing key for model directories: random bytes, hex, readable by you alone.

    Name it in the config as [model] signing_key = "PATH" (keep it outside models/ and out of
    version control): models are then signed when saved and refused unless signed with it.

    Example: pipeline keygen --out $HOME/.config/pipeline/churn.key
    """

    def go() -> None:
        from pipeline.core.keys import write_key

        key = write_key(out)
        typer.echo(f"{out}: key {key.key_id}")

    _guard(go)


if __name__ == "__main__":  # pragma: no cover
    app()
