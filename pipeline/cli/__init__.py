"""The `pipeline` command: parse options, call one library function, map errors to exit codes.

Heavy libraries (pandas, scikit-learn, DuckDB) are imported inside the commands, so `--help`
and option errors answer at once.

Modules: `app` (the Typer app and shared options), `output` (logging, results, one-line errors
and exit codes), and the commands: `run`, `data` (ingest, init), `inspection` (sql, compare,
show), `aliases` (promote, aliases), `extras` (build-example, config-schema, keygen). Each
command is a few lines around a function of `pipeline.tools` (or `pipeline.stages`).

May import: every package.
"""

from pipeline.cli.aliases import aliases, promote
from pipeline.cli.app import app
from pipeline.cli.data import ingest, init
from pipeline.cli.extras import build_example, config_schema, keygen
from pipeline.cli.inspection import compare, show, sql
from pipeline.cli.run import run

# registered here, in the order `pipeline --help` lists them
app.command()(run)
app.command()(sql)
app.command()(compare)
app.command()(promote)
app.command()(aliases)
app.command()(ingest)
app.command()(init)
app.command()(show)
app.command("build-example")(build_example)
app.command("config-schema")(config_schema)
app.command()(keygen)

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
