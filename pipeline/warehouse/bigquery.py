"""BigQuery, on the official google-cloud-bigquery client (`pip install .[bigquery]`).

A schema in the templates is a BigQuery dataset of the configured project. Credentials come from
Google's application-default mechanism; `anonymous = true` with an `endpoint` points the client
at a local emulator instead. Large results are read through the Storage Read API where it is
installed and reachable, through REST otherwise (`bigquery_read`, `[warehouse] read_api`).

Retries: jobs run with the client's own retry policies (`DEFAULT_RETRY` for each API request,
`DEFAULT_JOB_RETRY` to run a query again whose job failed for a transient reason: backendError,
internalError, rateLimitExceeded, 5xx answers), bounded by `timeout` instead of the client's 10
and 40 minutes. An error that is not transient (invalid SQL, 400; a missing table, 404) fails
at once, on the first answer.

Atomicity: BigQuery has no transaction across separate jobs outside a session, so the class says
`supports_transactions = False`: `transaction()` groups nothing and a stage says it ran without
one. Each write is still atomic on its own (CREATE OR REPLACE, a load job, and the
delete-and-insert of `replace_rows` as one MERGE statement).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.config import WarehouseConfig
from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import ColumnType, FileFormat, ReadApi
from pipeline.render.dialect import BIGQUERY, Dialect
from pipeline.warehouse.base import Warehouse
from pipeline.warehouse.bigquery_read import ResultReader
from pipeline.warehouse.text import check_name, one_line, refuse_write

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("pipeline")


class BigQueryWarehouse(Warehouse):
    dialect: ClassVar[Dialect] = BIGQUERY
    supports_transactions: ClassVar[bool] = False  # no transaction across jobs
    reads_files_locally: ClassVar[bool] = False  # files reach it through load jobs
    option_types: ClassVar[dict[str, type]] = {
        "project": str,
        "location": str,
        "endpoint": str,
        "anonymous": bool,
        "timeout": float,
        "read_api": ReadApi,
        "storage_endpoint": str,
    }
    #: neutral type names of the load-job schema fields
    FIELD_TYPES: ClassVar[dict[ColumnType, str]] = {
        ColumnType.string: "STRING",
        ColumnType.int: "INTEGER",
        ColumnType.float: "FLOAT",
        ColumnType.bool: "BOOLEAN",
        ColumnType.timestamp: "TIMESTAMP",
    }
    FORMATS: ClassVar[dict[FileFormat, str]] = {
        FileFormat.csv: "CSV",
        FileFormat.parquet: "PARQUET",
        FileFormat.jsonl: "NEWLINE_DELIMITED_JSON",
    }

    def __init__(
        self,
        project: str,
        location: str = "US",
        endpoint: str | None = None,
        anonymous: bool = False,
        timeout: float = 300.0,
        read_api: ReadApi = ReadApi.auto,
        storage_endpoint: str | None = None,
    ):
        try:
            from google.cloud import bigquery
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "warehouse type 'bigquery' needs the BigQuery client: pip install '.[bigquery]'"
            ) from exc
        self._bq = bigquery
        self.project, self.location, self.timeout = project, location, timeout
        options = {"api_endpoint": endpoint} if endpoint else None
        credentials = None
        if anonymous:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        self.client = bigquery.Client(
            project=project, location=location, credentials=credentials, client_options=options
        )
        from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

        # the client's policies; the deadlines in the client's ratio (one request's retries,
        # then a few reruns of the job) with `timeout` for its 10 minutes
        self._retry = DEFAULT_RETRY.with_deadline(timeout)
        self._job_retry = DEFAULT_JOB_RETRY.with_deadline(4 * timeout)
        self._reader = ResultReader.build(
            ReadApi(read_api),
            self.client,
            endpoint,
            storage_endpoint,
            anonymous,
            timeout,
            self._retry,
        )

    @property
    def read_api(self) -> ReadApi:
        """The API results are read through now: `storage` or `rest`."""
        return self._reader.api

    @classmethod
    def from_config(
        cls, config: WarehouseConfig, read_only: bool = False, on_demand: bool = False
    ) -> BigQueryWarehouse:
        """No file to hold, so `on_demand` changes nothing; `read_only` is kept by the caller
        checking each statement with `check_read_only`."""
        options = cls._options(config)
        if "project" not in options:
            raise ConfigError("[warehouse] type 'bigquery' needs project")
        return cls(**options)

    # --- jobs ----------------------------------------------------------------------------
    def _error_types(self) -> tuple[type[BaseException], ...]:
        from google.api_core.exceptions import GoogleAPIError

        return (GoogleAPIError,)

    def _error_message(self, exc: BaseException, doing: str) -> str:
        if doing:
            return one_line(f"BigQuery {doing}: {exc}")
        return one_line(f"BigQuery: {getattr(exc, 'message', exc)}")

    def _start(self, sql: str) -> Any:
        """Start a query job; waiting on it (`result()`) retries transient failures (the
        request, or the whole job), and any other error fails at once."""
        with self._engine_errors():
            return self.client.query(
                sql, retry=self._retry, job_retry=self._job_retry, timeout=self.timeout
            )

    def _job(self, sql: str) -> Any:
        """Run a query job to completion."""
        job = self._start(sql)
        with self._engine_errors():
            job.result(retry=self._retry, timeout=self.timeout)
        return job

    def _ref(self, name: str) -> str:
        return f"{self.project}.{check_name(name)}"

    def execute(self, sql: str) -> None:
        self._job(sql)

    def query_arrow(self, sql: str) -> pa.Table:
        job = self._start(sql)
        with self._engine_errors():
            return self._reader.table(job)

    def stream_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        job = self._start(sql)
        with self._engine_errors():
            yield from self._reader.batches(job, batch_rows)

    def count_rows(self, sql: str) -> int:
        return int(self.query_arrow(f"SELECT count(*) AS n FROM ({sql}) AS q").column(0)[0].as_py())

    def _exists(self, get: Callable[[], object]) -> bool:
        """Whether the API finds the table or dataset `get` asks for."""
        from google.api_core.exceptions import NotFound

        try:
            get()
        except NotFound:
            return False
        return True

    def table_exists(self, name: str) -> bool:
        return self._exists(lambda: self.client.get_table(self._ref(name)))

    def describe(self, name: str) -> list[tuple[str, str]]:
        table = self.client.get_table(self._ref(name))
        return [(f.name, f.field_type) for f in table.schema]

    def schema_exists(self, schema: str) -> bool:
        ref = f"{self.project}.{check_name(schema)}"
        return self._exists(lambda: self.client.get_dataset(ref, timeout=self.timeout))

    def table_names(self, schema: str) -> list[str]:
        tables = f"{self.dialect.quote(check_name(schema))}.INFORMATION_SCHEMA.TABLES"
        rows = self.query_arrow(f"SELECT table_name FROM {tables}").to_pylist()
        return sorted(str(r["table_name"]) for r in rows)

    def ensure_schema(self, schema: str) -> None:
        dataset = self._bq.Dataset(f"{self.project}.{check_name(schema)}")
        dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True, timeout=self.timeout)

    def _load(self, paths: Sequence[Path], table: str, config: Any) -> int:
        """Load files into `table` one job per file: the first replaces, the rest append."""
        self.ensure_schema(table.split(".")[0])
        with self._engine_errors(f"load into {table}"):
            for i, path in enumerate(paths):
                config.write_disposition = "WRITE_TRUNCATE" if i == 0 else "WRITE_APPEND"
                with open(path, "rb") as f:
                    job = self.client.load_table_from_file(
                        f, self._ref(table), job_config=config, timeout=self.timeout
                    )
                job.result(timeout=self.timeout)
        return self.count_rows(f"SELECT 1 FROM {self.dialect.quote(table)}")

    def ingest_files(
        self,
        paths: Sequence[Path],
        file_format: str,
        table: str,
        nulls: Sequence[str] = (),
        encoding: str = "utf-8",
        decimal: str = ".",
    ) -> int:
        if decimal != ".":
            raise ConfigError(
                f"--decimal {decimal!r}: BigQuery loads read '.' decimals only; load the files "
                "into DuckDB, or convert them first"
            )
        config = self._bq.LoadJobConfig(
            source_format=self.FORMATS[FileFormat(file_format)], autodetect=True
        )
        if file_format == FileFormat.csv:
            config.skip_leading_rows = 1
            config.null_markers = list(nulls) or [""]
            config.encoding = "ISO-8859-1" if encoding == "latin-1" else "UTF-8"
        return self._load(paths, table, config)

    def load_jsonl(self, paths: Sequence[Path], table: str, columns: dict[str, str]) -> int:
        schema = [
            self._bq.SchemaField(c, self.FIELD_TYPES[ColumnType(t)]) for c, t in columns.items()
        ]
        config = self._bq.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON", schema=schema)
        return self._load(paths, table, config)

    def _swap_key_rows(self, target: str, source: str, key: str, value: str) -> None:
        t, s = self.dialect.quote(target), self.dialect.quote(source)
        names = [self.dialect.quote(c) for c, _ in self.describe(source)]
        # one DML statement, so atomic: the key's old rows go and the new ones come together
        self._job(
            f"MERGE {t} AS t USING {s} AS s ON FALSE "
            f"WHEN NOT MATCHED BY SOURCE AND t.{self.dialect.quote(key)} = "
            f"{self.dialect.literal(value)} "
            "THEN DELETE "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) "
            f"VALUES ({', '.join('s.' + n for n in names)})"
        )

    def check_read_only(self, sql: str) -> None:
        """BigQuery itself says what the statement is: a dry run costs nothing and runs
        nothing; anything but one SELECT (a script, DML, DDL, EXPORT DATA) is refused."""
        config = self._bq.QueryJobConfig(dry_run=True, use_query_cache=False)
        with self._engine_errors():
            job = self.client.query(
                sql, job_config=config, retry=self._retry, job_retry=None, timeout=self.timeout
            )
        kind = job.statement_type or "UNKNOWN"
        if kind != "SELECT":
            raise refuse_write([kind])

    def close(self) -> None:
        self._reader.close()
        self.client.close()
