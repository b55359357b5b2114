"""Start the BigQuery emulator (bqemulator) offline: a launcher run as a script.

    python tests/bq_emulator.py start --rest-host 127.0.0.1 --rest-port P ...

The emulator installs DuckDB extensions from the internet at start-up (none here): those two
loaders become no-ops. Its upload route refuses the client's multipart Content-Type '*/*':
that type is added to the permitted ones. BigQuery reads a gzip-compressed JSON upload as it
is (predict's parts are); the emulator stages an upload under a name without `.gz`, so DuckDB
would not know: its JSON loader is told when the bytes are gzip."""

from __future__ import annotations

import sys
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"


def _load_json(path: str, target_ref: str, ctx: Any) -> None:
    """The emulator's JSON load, gzip-compressed or not, as BigQuery's."""
    with open(path, "rb") as f:
        compression = "gzip" if f.read(2) == GZIP_MAGIC else "none"
    ctx.engine.execute(f"COPY {target_ref} FROM ? (FORMAT JSON, COMPRESSION {compression})", [path])


def main() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.cli import main as cli
    from bqemulator.jobs import executor
    from bqemulator.storage.engine import DuckDBEngine

    DuckDBEngine._load_spatial = lambda self: None  # type: ignore[method-assign]
    DuckDBEngine._load_format_extensions = lambda self: None  # type: ignore[method-assign]
    upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")
    for source_format in ("NEWLINE_DELIMITED_JSON", "JSON"):
        executor._LOAD_FORMAT_HANDLERS[source_format] = _load_json
    sys.argv[0] = "bqemulator"
    cli()


if __name__ == "__main__":
    main()
