"""`python -m pipeline` is the `pipeline` command, for when the script is not on PATH."""

from pipeline.cli import app

app()
