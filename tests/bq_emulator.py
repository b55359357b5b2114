"""Start the BigQuery emulator (bqemulator) offline: a launcher run as a script.

    python tests/bq_emulator.py start --rest-host 127.0.0.1 --rest-port P ...

The emulator installs DuckDB extensions from the internet at start-up (none here): those two
loaders become no-ops. Its upload route refuses the client's multipart Content-Type '*/*':
that type is added to the permitted ones."""

from __future__ import annotations

import sys


def main() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.cli import main as cli
    from bqemulator.storage.engine import DuckDBEngine

    DuckDBEngine._load_spatial = lambda self: None  # type: ignore[method-assign]
    DuckDBEngine._load_format_extensions = lambda self: None  # type: ignore[method-assign]
    upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")
    sys.argv[0] = "bqemulator"
    cli()


if __name__ == "__main__":
    main()
