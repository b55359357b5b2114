"""Commands around the pipeline: `build-example`, `config-schema` and `keygen`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.output import guard


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
        from pipeline.tools.example import build_warehouse, csv_tables

        for name, n in build_warehouse(out, csv_tables(csv)).items():
            typer.echo(f"{out}: {name} {n} rows")

    guard(go)


def config_schema() -> None:
    """Print the JSON Schema of pipeline.toml, for editors that check the file as you type.

    Example: pipeline config-schema > pipeline.schema.json
    (then `#:schema ./pipeline.schema.json` as the first line of pipeline.toml)
    """
    import json

    from pipeline.config import config_schema as schema

    typer.echo(json.dumps(schema(), indent=2))


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

    guard(go)
