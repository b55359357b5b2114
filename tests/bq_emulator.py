"""Start the BigQuery emulator (bqemulator) offline: a launcher run as a script.

    python tests/bq_emulator.py start --rest-host 127.0.0.1 --rest-port P ...

The emulator installs DuckDB extensions from the internet at start-up (none here): those two
loaders become no-ops. Its upload route refuses the client's multipart Content-Type '*/*':
that type is added to the permitted ones. BigQuery reads a gzip-compressed JSON upload as it
is (predict's parts are); the emulator stages an upload under a name without `.gz`, so DuckDB
would not know: its JSON loader is told when the bytes are gzip. Its Storage Read API (on the
gRPC port) reads only tables it stores, not the anonymous table that holds a query's result, as
BigQuery's does: a read session over one of those is served the job's result rows, which the
emulator keeps."""

from __future__ import annotations

import re
import sys
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"


def _load_json(path: str, target_ref: str, ctx: Any) -> None:
    """The emulator's JSON load, gzip-compressed or not, as BigQuery's."""
    with open(path, "rb") as f:
        compression = "gzip" if f.read(2) == GZIP_MAGIC else "none"
    ctx.engine.execute(f"COPY {target_ref} FROM ? (FORMAT JSON, COMPRESSION {compression})", [path])


#: the SQL the emulator's Storage Read API runs for a session over a query's anonymous table
ANONYMOUS = re.compile(r'SELECT \* FROM "[^"]+___bqemu_anonymous"\."anon([0-9a-f]{32})"')


def _results_of_anonymous_tables(engine: Any) -> None:
    """Storage reads of a query result's table get the job's rows (kept in JOB_RESULTS)."""
    from bqemulator.jobs.executor import JOB_RESULTS

    fetch = engine.fetch_arrow

    def fetch_arrow(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        found = ANONYMOUS.fullmatch(sql.strip())
        if found:
            h = found.group(1)
            job_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            if job_id in JOB_RESULTS:
                return JOB_RESULTS[job_id]
        return fetch(self, sql, *args, **kwargs)

    engine.fetch_arrow = fetch_arrow


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
    _results_of_anonymous_tables(DuckDBEngine)
    sys.argv[0] = "bqemulator"
    cli()


if __name__ == "__main__":
    main()
